"""bean-backflush --version and `report` (all four reports, --date, text/csv/json)."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from standards_bike import bike_standards
from test_reports import MONTHS

from beancount_backflush import cli

D = Decimal


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = cli.main(list(argv))
    except SystemExit as exit:  # argparse: --help, --version, usage errors
        code = exit.code if isinstance(exit.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("bean-backflush ") and len(out.split()) == 2


def test_report_help_describes_and_gives_examples(capsys):
    code, out, _ = run(capsys, "report", "--help")
    assert code == 0
    assert "inventory,variances,standards,health" in out
    assert "Print one of the reports of the Fava pages" in out
    assert "examples:" in out and "bean-backflush report variances" in out
    assert "--format {text,csv,json}" in out and "--date" in out


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("inventory", "Days on hand: 200.4"),
        ("variances", "2.9 % of purchases at standard (350.00)"),
        ("standards", "triggers: purchase, completion and sale"),
        ("health", "never been counted (BOLT, FRAME)"),
    ],
)
def test_each_report_prints_as_text(ledger, capsys, name, expected):
    book = ledger(bike_standards(), MONTHS)
    code, out, err = run(capsys, "report", name, str(book.path))
    assert code == 0, err
    assert expected in out


def test_report_as_of_a_date(ledger, capsys):
    book = ledger(bike_standards(), MONTHS)
    code, out, _ = run(
        capsys, "report", "inventory", str(book.path), "--date", "2026-01-10", "--format", "csv"
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert sum(D(r["Value"]) for r in rows) == D("345.00")  # 246.00 RIP + 99.00 FG
    code, out, _ = run(capsys, "report", "standards", str(book.path), "--date", "2026-07-01")
    assert "BIKE" in out and "20.70" in out  # STEEL at 2.70 from July


def test_report_csv_of_a_chosen_table_and_json(ledger, capsys):
    book = ledger(bike_standards(), MONTHS)
    code, out, _ = run(
        capsys, "report", "variances", str(book.path), "--format", "csv", "--table", "shares"
    )
    assert code == 0
    shares = {r["Variance"]: r for r in csv.DictReader(io.StringIO(out))}
    assert shares["Purchase price"]["Base amount"] == "350.00"
    assert shares["Purchase price"]["Share of base"] == "0.0286"
    code, out, _ = run(capsys, "report", "health", str(book.path), "--format", "json")
    payload = json.loads(out)
    months = payload["tables"]["months"]["rows"]
    assert months[0][0] == "2026-01" and D(str(months[0][2])) == D("59.40")
    code, _, err = run(capsys, "report", "health", str(book.path), "--table", "nope")
    assert code == 2 and "no table 'nope'" in err


def test_a_missing_ledger_is_one_clear_line(capsys, tmp_path):
    missing = tmp_path / "nope.beancount"
    code, out, err = run(capsys, "report", "inventory", str(missing))
    assert code == 2 and out == ""
    assert err == f"bean-backflush: {missing}: no such ledger file\n"


def test_a_ledger_without_the_plugin_says_so(capsys, tmp_path):
    path = tmp_path / "plain.beancount"
    path.write_text("2026-01-01 open Assets:Bank\n")
    code, _, err = run(capsys, "report", "variances", str(path))
    assert code == 1 and "Traceback" not in err
    assert 'plugin "beancount_backflush"' in err

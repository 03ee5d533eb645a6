"""bean-backflush explain: the audit trail of a balance, posting by posting."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

from beancount import loader
from beancount.core import convert, data, realization
from test_tools_common import EXAMPLE, line_of, run_cli, write_workshop

from beancount_backflush import explain

D = Decimal


def test_account_trail_with_file_lines_events_and_running_balance(tmp_path):
    ledger = write_workshop(tmp_path)
    status, out, err = run_cli("explain", str(ledger), "Assets:Inventory:RawInProcess")
    assert status == 0, err
    lines = [line.split() for line in out.splitlines() if line.startswith("2026-")]
    steel = line_of(ledger, '"purchase" 100 STEEL')
    bolt = line_of(ledger, '"purchase" 100 BOLT')
    produce = line_of(ledger, '"produce" 10 FRAME')
    count = line_of(ledger, '"count" 78 STEEL')
    # date, source, event..., quantity, amount, running balance
    assert [(row[0], row[1], row[2], row[-2], row[-6]) for row in lines] == [
        ("2026-01-02", f"ledger.beancount:{steel}", "purchase", "200.00", "100"),
        ("2026-01-02", f"ledger.beancount:{bolt}", "purchase", "210.00", "100"),
        ("2026-01-05", f"ledger.beancount:{produce}", "produce", "170.00", "-20"),
        ("2026-01-05", f"ledger.beancount:{produce}", "produce", "166.00", "-40"),
        ("2026-01-31", f"ledger.beancount:{count}", "count", "162.00", "-2"),
    ]
    assert "Balance at the end of the ledger: 162.00 USD" in out
    assert "Units held: 60 BOLT, 78 STEEL" in out


def test_item_trail_units_and_value_across_accounts(tmp_path):
    ledger = write_workshop(tmp_path)
    status, out, _ = run_cli("explain", str(ledger), "FRAME", "--format", "json")
    assert status == 0
    report = json.loads(out)
    assert report["kind"] == "item"
    trail = [
        (p["event"], p["account"], p["units"], p["amount"], p["units_held"], p["balance"])
        for p in report["postings"]
    ]
    assert trail == [
        ("produce 10 FRAME", "Assets:Inventory:FinishedGoods", "10", "84.00", "10", "84.00"),
        ("sell 6 FRAME", "Assets:Inventory:FinishedGoods", "-6", "-50.40", "4", "33.60"),
    ]
    assert report["units"] == {"FRAME": "4"} and report["balance"] == {"USD": "33.60"}


def test_date_cuts_the_trail_at_the_end_of_that_day(tmp_path):
    ledger = write_workshop(tmp_path)
    status, out, _ = run_cli("explain", str(ledger), "STEEL", "--date", "2026-01-05")
    assert status == 0
    assert "Balance on 2026-01-05: 80 STEEL, 160.00 USD" in out
    assert "count 78" not in out and "2026-01-31" not in out


def test_money_account_shows_the_directive_behind_each_amount(tmp_path):
    ledger = write_workshop(tmp_path)
    status, out, _ = run_cli("explain", str(ledger), "Expenses:COGS", "--format", "csv")
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["event"], r["amount"], r["balance"]) for r in rows] == [
        ("sell 6 FRAME", "50.40", "50.40"),
        ("close", "19.00", "69.40"),
    ]
    close = line_of(ledger, '"close" 19.00 USD')
    assert rows[1]["source"] == f"ledger.beancount:{close}"


def test_hand_written_entries_are_in_the_trail_too(tmp_path):
    ledger = write_workshop(tmp_path)
    status, out, _ = run_cli("explain", str(ledger), "Expenses:Conversion:Labor")
    assert status == 0
    assert '"Payroll"' in out  # the user's own transaction, by its narration
    # incurred 33.00, allocated -30.00 (sub-account), disposed -3.00 by the close: zero
    assert "Balance at the end of the ledger: 0" in out


def test_unknown_target_is_one_line_with_a_suggestion(tmp_path):
    ledger = write_workshop(tmp_path)
    status, out, err = run_cli("explain", str(ledger), "STEL")
    assert status == 2 and out == ""
    assert err.strip() == (
        "bean-backflush explain: STEL is neither an account nor an item of this ledger; "
        "did you mean 'STEEL'?"
    )
    status, _, err = run_cli("explain", str(ledger), "Assets:Nowhere")
    assert status == 2 and "no account Assets:Nowhere" in err


def test_every_account_of_the_example_reconciles_with_beancount():
    """The trail's last running balance is Beancount's own balance (at cost, sub-accounts
    included) for every account of the example ledger, and each item's units agree."""
    entries, errors, _ = loader.load_file(str(EXAMPLE))
    assert not errors
    root = realization.realize(entries)
    for real in realization.iter_children(root):
        if not real.account:
            continue
        report = explain.explain(entries, real.account)
        expected = realization.compute_balance(real).reduce(convert.get_cost)
        want = {pos.units.currency: pos.units.number for pos in expected if pos.units.number}
        assert report.balance == want, real.account
    fg = "Assets:Inventory:FinishedGoods"
    report = explain.explain(entries, "BIKE")
    held = sum(
        p.units.number
        for e in entries
        if isinstance(e, data.Transaction)
        for p in e.postings
        if p.account == fg and p.units.currency == "BIKE"
    )
    assert report.units["BIKE"] == held == 8


def test_example_revaluation_points_at_the_standards_file():
    """STEEL's standard changes on 2026-03-01: the revaluation of the steel on hand is in
    STEEL's trail at the standards file's line that makes the change."""
    standards = EXAMPLE.parent / "standards.yaml"
    status, out, _ = run_cli("explain", str(EXAMPLE), "STEEL", "--format", "json")
    assert status in (0, 1)
    revalued = [p for p in json.loads(out)["postings"] if p["event"] == "revalue"]
    assert [(p["date"], p["units"], p["cost"]) for p in revalued] == [
        ("2026-03-01", "-407.5", "2.50"),
        ("2026-03-01", "407.5", "2.70"),
    ]
    assert {p["source"] for p in revalued} == {f"standards.yaml:{line_of(standards, 'STEEL:')}"}

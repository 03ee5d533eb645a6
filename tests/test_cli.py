"""bean-backflush: rollup, expand (round-trip without the plugin)."""

from __future__ import annotations

import datetime
import io
from collections import defaultdict
from decimal import Decimal

from beancount import loader
from beancount.core import data
from standards_bike import bike_standards

from beancount_backflush import cli

D = Decimal

FULL_MONTH = """
2026-06-01 custom "backflush" "purchase" 100 STEEL 260.00 USD
2026-06-01 custom "backflush" "purchase" 1000 BOLT 48.00 USD
2026-06-02 custom "backflush" "produce" 10 FRAME
2026-06-03 custom "backflush" "produce" 4 BIKE
2026-06-04 custom "backflush" "sell" 3 BIKE 900.00 USD
2026-06-05 custom "backflush" "return" 1 BIKE 300.00 USD
2026-06-06 custom "backflush" "scrap" 1 FRAME
2026-06-07 custom "backflush" "unbuild" 1 BIKE
2026-06-08 * "Imported receipt"
  Assets:Inventory:RawInProcess  20 STEEL {2.45 USD}
  Liabilities:AccountsPayable
2026-06-10 * "Payroll"
  Expenses:Conversion:Labor     70.00 USD
  Liabilities:Wages
2026-06-20 custom "backflush" "count" 60 STEEL
2026-06-30 custom "backflush" "close"
2026-07-02 custom "backflush" "produce" 2 FRAME
2026-07-31 custom "backflush" "close"
"""


def balances(entries: list[data.Directive]) -> dict[tuple[str, str, object], Decimal]:
    result: dict[tuple[str, str, object], Decimal] = defaultdict(Decimal)
    for entry in entries:
        if isinstance(entry, data.Transaction):
            for p in entry.postings:
                result[(p.account, p.units.currency, p.cost)] += p.units.number
    return {k: v for k, v in result.items() if v}


def test_rollup_prints_each_products_standard_by_component_and_pool(tmp_path):
    path = tmp_path / "standards.yaml"
    path.write_text(bike_standards())
    out = io.StringIO()
    assert cli.cmd_rollup(str(path), datetime.date(2026, 7, 1), out) == 0
    text = out.getvalue()
    assert "BIKE  standard 20.70 USD  (since 2026-07-01)" in text
    assert "FRAME  standard 10.30 USD" in text
    assert "exploded to materials: 2 STEEL, 16 BOLT" in text
    assert "conversion labor" in text and "9.00" in text


def test_expand_round_trips_to_identical_balances_without_the_plugin(ledger, tmp_path):
    book = ledger(bike_standards(disposition="prorate"), FULL_MONTH)
    assert book.errors == []
    text = cli.expand_text(book.entries, book.options)
    assert "plugin" not in text
    assert 'custom "backflush"' not in text
    expanded = tmp_path / "expanded.beancount"
    expanded.write_text(text)
    entries, errors, _ = loader.load_file(str(expanded))
    assert errors == []
    assert balances(entries) == balances(book.entries)


def test_main_expand_writes_to_stdout(ledger, capsys):
    book = ledger(bike_standards(), FULL_MONTH)
    assert cli.main(["expand", str(book.path)]) == 0
    out = capsys.readouterr().out
    assert "Backflush produce 10 FRAME" in out
    assert "{2.50 USD, 2026-01-01}" in out


def test_main_rollup_reports_standards_errors(tmp_path, capsys):
    path = tmp_path / "standards.yaml"
    path.write_text("materials:\n  STEEL: {cost: -1}\n")
    assert cli.main(["rollup", str(path)]) == 1
    assert "standards.yaml:2:" in capsys.readouterr().err

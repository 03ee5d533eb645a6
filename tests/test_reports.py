"""Reports reconcile with the ledger: inventory with the inventory accounts, variances with
the variance and conversion accounts (bike standards, see standards_bike.py)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from standards_bike import FG, RIP, bike_standards

from beancount_backflush import reports
from beancount_backflush.plugin import standards_for

D = Decimal

MONTHS = """
2026-01-05 custom "backflush" "purchase" 100 STEEL 260.00 USD
2026-01-05 custom "backflush" "purchase" 1000 BOLT 48.00 USD
2026-01-06 custom "backflush" "produce" 10 FRAME
2026-01-20 custom "backflush" "sell" 6 FRAME 300.00 USD
2026-01-25 * "Payroll"
  Expenses:Conversion:Labor     40.00 USD
  Liabilities:Wages
2026-01-31 custom "backflush" "close"
2026-02-03 custom "backflush" "scrap" 1 FRAME
2026-02-10 custom "backflush" "count" 75 STEEL
2026-02-11 * "Imported receipt"
  Assets:Inventory:RawInProcess  20 STEEL {2.60 USD}
  Liabilities:AccountsPayable
"""


def load(ledger, **kwargs):
    book = ledger(bike_standards(**kwargs), MONTHS)
    assert book.errors == []
    return book, standards_for(book.options)


def test_inventory_report_reconciles_with_the_inventory_accounts(ledger):
    book, standards = load(ledger, disposition="prorate")
    report = reports.inventory_report(book.entries, book.options, standards)
    for account in (RIP, FG, RIP + ":Adjustment", FG + ":Adjustment"):
        assert report.by_account.get(account, D(0)) == book.money(account)
    assert report.total == sum(book.money(a) for a in (RIP, FG, RIP + ":Adjustment",
                                                       FG + ":Adjustment"))
    steel = next(r for r in report.rows if r.item == "STEEL")
    assert steel.quantity == 95 and steel.unit == "kg" and steel.unit_cost == D("2.50")
    assert steel.last_count == datetime.date(2026, 2, 10)
    assert steel.count_difference == -5                # 80 on the books, 75 counted
    frame = next(r for r in report.rows if r.item == "FRAME")
    assert frame.quantity == 3 and frame.value == D("29.70")


def test_inventory_report_as_of_an_earlier_date(ledger):
    book, standards = load(ledger)
    report = reports.inventory_report(book.entries, book.options, standards,
                                      datetime.date(2026, 1, 10))
    # 300.00 bought, 54.00 consumed by 10 frames (20 kg STEEL, 80 BOLT)
    assert report.by_account == {RIP: D("246.00"), FG: D("99.00")}


def test_variance_report_reconciles_with_the_accounts(ledger):
    book, standards = load(ledger)
    report = reports.variance_report(book.entries, book.options, standards)
    assert report.months == ["2026-01", "2026-02"]
    jan, feb = report.matrix["2026-01"], report.matrix["2026-02"]
    assert jan["purchase_price"] == D("8.00")
    assert jan["pool:labor"] == D("10.00")             # 40.00 incurred - 30.00 allocated
    assert jan["pool:overhead"] == D("-15.00")         # over-allocated: favourable
    assert feb["scrap"] == D("9.90") and feb["usage"] == D("12.50")
    assert feb["purchase_price"] == D("2.00")          # 20 kg re-priced 2.60 -> 2.50
    assert report.by_item["purchase_price"] == {"STEEL": D("12.00"), "BOLT": D("-2.00")}
    for column in report.columns:
        balance = sum(book.money(a) for a in column.accounts)
        assert report.balances[column.key] == balance, column
    # January's close moved PPV, labor and overhead out: they were disposed of.
    assert report.disposed["purchase_price"] == D("-8.00")
    assert sum(bar.height for bar in report.chart) > 0


def test_standards_report_tree_and_history(ledger):
    book, standards = load(ledger)
    report = reports.standards_report(standards, datetime.date(2026, 7, 1))
    bike = next(p for p in report.products if p.product == "BIKE")
    assert bike.total == D("20.70")
    assert [(n.item, n.kind) for n in bike.bom] == [("FRAME", "subassembly"), ("HUB", "phantom")]
    assert [c.item for c in bike.bom[1].children] == ["BOLT"]
    assert ("BOLT", D("0.05"), "units", ["FRAME", "HUB"]) in report.materials
    steel_changes = [(c.date, c.value) for c in report.history if c.item == "STEEL"]
    assert steel_changes == [(datetime.date(2026, 1, 1), "2.50"),
                             (datetime.date(2026, 7, 1), "2.70")]


def test_health_report_flags_uncounted_items_and_variance_share(ledger):
    book, standards = load(ledger, materiality="0.01")
    report = reports.health_report(book.entries, book.options, standards)
    jan = report.months[0]
    assert jan.cogs == D("59.40")
    assert jan.variances == D("3.00")                  # 8.00 + 10.00 - 15.00
    assert jan.variance_share == D("0.0505")
    assert any("above the materiality" in w for w in report.warnings)
    # The books are five weeks old: nothing is overdue for a count yet (90 days).
    assert report.overdue_counts == []


def test_health_report_flags_items_not_counted_for_90_days():
    from pathlib import Path

    from beancount import loader

    example = Path(__file__).resolve().parent.parent / "example-ledger" / "ledger.beancount"
    entries, errors, options = loader.load_file(str(example))
    report = reports.health_report(entries, options, standards_for(options))
    overdue = dict(report.overdue_counts)
    # Four months of books; only SPOKE was counted (2026-03-31), so it is not overdue.
    assert "SPOKE" not in overdue and overdue["STEEL"] is None


def test_text_renderers(ledger):
    book, standards = load(ledger)
    text = reports.render_inventory_text(
        reports.inventory_report(book.entries, book.options, standards))
    assert "STEEL" in text and "Total" in text
    text = reports.render_variances_text(
        reports.variance_report(book.entries, book.options, standards))
    assert "2026-01" in text and "Balance" in text

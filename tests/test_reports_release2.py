"""Reports of Release 2, with figures worked out by hand.

- The price / efficiency / volume analysis of the Variances page on Horngren's Webb Company
  (tests/test_conversion_variances.py): each driver pool's split by month, its parts adding
  up to the pool's under-allocation, and each part as a share of its standard base.
- Material usage (efficiency) per item from actual consumption, next to the conversion ones.
- Open backlog (``negative_stock: backlog``) on the Inventory and Health pages.
- Driver units x rate in ``rollup`` and on the Standards page.
"""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

from standards_bike import bike_standards
from test_conversion_variances import APRIL, webb_standards

from beancount_backflush import cli, reports
from beancount_backflush.plugin import standards_for

D = Decimal
Date = datetime.date


def webb(ledger, text=APRIL):
    book = ledger(webb_standards(), text, opens=False)
    assert book.errors == [], book.messages()
    standards = standards_for(book.options)
    return book, standards, reports.variance_report(book.entries, book.options, standards)


def rows_of(report, section_key):
    section = next(s for s in report.analysis if s.key == section_key)
    return section, {row.title: row for row in section.rows}


def test_webb_labor_split_and_shares(ledger):
    _, _, report = webb(ledger)
    section, rows = rows_of(report, "pool:labor")
    assert section.title == "Labor" and section.description == "variable: 20.00 per hour"
    spending, efficiency, total = (
        rows["Spending"],
        rows["Efficiency"],
        rows["Under/(over)-allocated"],
    )
    # Spending (rate) variance 18,000 U = (22.00 - 20.00) x 9,000 hours. Its base is the actual
    # hours at the standard rate, 9,000 x 20.00 = 180,000: 10 %, exactly how far the actual
    # rate (198,000 / 9,000 = 22.00) is above standard. (Of the 198,000 paid it would be
    # 9.09 %, a share of an actual figure, not of a standard one.)
    assert spending.months == {"2026-04": D("18000.00")}
    assert spending.base == D("180000.00") and spending.share == D("0.1000")
    # Efficiency 20,000 U = (9,000 - 8,000 hours allowed) x 20.00, of the standard cost allowed
    # for 10,000 jackets (0.80 hours x 20.00 each = 160,000): 12.5 %.
    assert efficiency.total == D("20000.00")
    assert efficiency.base == D("160000.00") and efficiency.share == D("0.1250")
    # The parts add up to the pool's under-allocation, 198,000 - 160,000.
    assert total.total == spending.total + efficiency.total == D("38000.00")
    assert total.base == D("160000.00") and total.share == D("0.2375")
    assert rows["Actual hours"].months == {"2026-04": D("9000")}
    assert rows["Standard hours allowed"].months == {"2026-04": D("8000")}
    assert "Not split (no activity, or no close yet)" not in rows


def test_webb_variable_and_fixed_overhead(ledger):
    _, _, report = webb(ledger)
    _, voh = rows_of(report, "pool:variable_overhead")
    # Spending 4,500 F = 130,500 - 4,500 machine-hours x 30.00 (135,000): -3.33 %.
    assert voh["Spending"].total == D("-4500.00") and voh["Spending"].base == D("135000.00")
    assert voh["Spending"].share == D("-0.0333")
    # Efficiency 15,000 U = (4,500 - 4,000) x 30.00, of 120,000 allowed: 12.5 %.
    assert voh["Efficiency"].total == D("15000.00") and voh["Efficiency"].share == D("0.1250")
    assert voh["Under/(over)-allocated"].total == D("10500.00")
    section, fixed = rows_of(report, "pool:fixed_overhead")
    assert section.description == "fixed: budget 276,000.00 a month (4,800 machine-hours at 57.50)"
    # Spending 9,000 U = 285,000 - 276,000, of the budget: 3.26 %.
    assert fixed["Spending"].base == D("276000.00") and fixed["Spending"].share == D("0.0326")
    # Production volume 46,000 U = 276,000 - 4,000 allowed x 57.50, of the budget: 16.67 %.
    volume = fixed["Production volume"]
    assert volume.total == D("46000.00") and volume.share == D("0.1667")
    assert "Efficiency" not in fixed
    assert fixed["Under/(over)-allocated"].total == D("55000.00")
    # All three pools: 38,000 + 10,500 + 55,000 = the 103,500 the close disposed of.
    totals = [row.total for s in report.analysis for row in s.rows if row.kind == "total"]
    assert sum(totals) == D("103500.00") == -sum(report.disposed.values())


def test_webb_aggregate_shares_and_tables(ledger):
    _, _, report = webb(ledger)
    # The matrix's Spending column, all pools: 18,000 - 4,500 + 9,000 = 22,500, of
    # 180,000 + 135,000 + 276,000 = 591,000.
    assert report.arisen["spending"] == D("22500.00") and report.bases["spending"] == D("591000.00")
    assert report.bases["efficiency"] == D("280000.00")
    assert report.share("volume") == D("0.1667")
    table = next(t for t in reports.variance_tables(report) if t.name == "analysis")
    assert table.columns == [
        "Element",
        "Variance",
        "2026-04",
        "Total",
        "Share of base",
        "Base amount",
        "Base",
    ]
    assert [
        "Labor",
        "Spending",
        D("18000.00"),
        D("18000.00"),
        D("0.1000"),
        D("180000.00"),
        "actual hours at standard rate",
    ] in table.rows
    csv_text = reports.render_csv(table)
    assert "Fixed overhead,Production volume,46000.00,46000.00,0.1667,276000.00,budget" in csv_text
    text = reports.render_variances_text(report)
    assert "Labor (variable: 20.00 per hour)" in text
    assert "46,000.00  16.67 %  276,000.00 budget" in text


def test_a_driver_pool_without_activity_shows_its_amount_not_split(ledger):
    text = APRIL.replace('2026-04-30 custom "backflush" "activity" "labor" 9000\n', "")
    book = ledger(webb_standards(), text, opens=False)
    standards = standards_for(book.options)
    report = reports.variance_report(book.entries, book.options, standards)
    _, rows = rows_of(report, "pool:labor")
    assert rows["Not split (no activity, or no close yet)"].total == D("38000.00")
    assert rows["Spending"].total == 0 and rows["Efficiency"].total == 0
    assert rows["Under/(over)-allocated"].total == D("38000.00")


def test_material_usage_per_item_from_actual_consumption(ledger):
    book = ledger(
        bike_standards(),
        """
2026-01-05 custom "backflush" "purchase" 100 STEEL 250.00 USD
2026-01-05 custom "backflush" "purchase" 1000 BOLT 50.00 USD
2026-01-06 custom "backflush" "produce" 10 FRAME 21.5 STEEL 78 BOLT
2026-01-07 custom "backflush" "produce" 10 FRAME
""",
    )
    assert book.errors == []
    standards = standards_for(book.options)
    report = reports.variance_report(book.entries, book.options, standards)
    _, rows = rows_of(report, "materials")
    steel, bolt = rows["Usage (efficiency): STEEL"], rows["Usage (efficiency): BOLT"]
    # 20 frames allow 40 kg of steel (100.00 at standard); 1.5 kg over: 3.75 U, 3.75 %.
    assert steel.total == D("3.75") and steel.base == D("100.00") and steel.share == D("0.0375")
    # ...and 160 bolts (8.00); 2 under: 0.10 F, -1.25 %.
    assert bolt.total == D("-0.10") and bolt.base == D("8.00") and bolt.share == D("-0.0125")
    # The usage column's base is the standard quantity allowed too: 108.00, not the 109.65
    # relieved at the actual quantities.
    assert report.bases["usage"] == D("108.00")
    assert rows["Purchase price"].base == D("300.00")


def test_purchases_net_of_returns_to_supplier_are_the_price_variance_base(ledger):
    book = ledger(
        bike_standards(),
        """
2026-01-05 custom "backflush" "purchase" 100 STEEL 260.00 USD
2026-01-08 custom "backflush" "return-to-supplier" 10 STEEL 26.00 USD
""",
    )
    assert book.errors == []
    report = reports.variance_report(book.entries, book.options, standards_for(book.options))
    # 90 kg kept at 2.50 standard: 225.00; PPV 10.00 - 1.00 on the 10 kg sent back.
    assert report.bases["purchase_price"] == D("225.00")
    assert report.arisen["purchase_price"] == D("9.00")


BACKLOG = """
2026-01-05 custom "backflush" "purchase" 10 STEEL 25.00 USD
2026-01-05 custom "backflush" "purchase" 1000 BOLT 50.00 USD
2026-01-06 custom "backflush" "produce" 10 FRAME
2026-02-03 custom "backflush" "purchase" 50 STEEL 125.00 USD
2026-02-04 custom "backflush" "produce" 5 FRAME
"""


def test_open_backlog_on_the_inventory_page(ledger):
    book = ledger(bike_standards(negative_stock="backlog"), BACKLOG)
    assert book.errors == []
    standards = standards_for(book.options)
    report = reports.inventory_report(book.entries, book.options, standards, Date(2026, 1, 31))
    # 10 frames need 20 kg; 10 kg on hand: 10 kg owed at 2.50.
    (row,) = report.backlog
    assert (row.item, row.quantity, row.unit, row.unit_cost, row.value, row.since) == (
        "STEEL",
        D("10"),
        "kg",
        D("2.50"),
        D("25.00"),
        Date(2026, 1, 6),
    )
    assert report.backlog_total == D("25.00")
    table = reports.inventory_tables(report)[-1]
    assert table.name == "backlog" and table.rows[0][:5] == [
        "STEEL",
        D("10"),
        "kg",
        D("2.50"),
        D("25.00"),
    ]
    assert "STEEL             10  kg             2.50              25.00  2026-01-06" in (
        reports.render_inventory_text(report)
    )
    # February's delivery clears it first.
    later = reports.inventory_report(book.entries, book.options, standards)
    assert later.backlog == []


def test_health_warns_of_backlog_open_at_a_month_end(ledger):
    book = ledger(bike_standards(negative_stock="backlog"), BACKLOG)
    standards = standards_for(book.options)
    report = reports.health_report(book.entries, book.options, standards)
    january, february = report.months
    assert january.backlog == D("25.00") and february.backlog == 0
    (warning,) = [w for w in report.warnings if "backlog" in w]
    assert warning.startswith(
        "2026-01: backlog open at the month end (2026-01-31): 10 kg STEEL (25.00 USD) used but "
        "not yet received"
    )
    assert reports.health_tables(report)[0].rows[0][-1] == D("25.00")
    # Seen on January 20th, the backlog is open before the month-end close.
    early = reports.health_report(book.entries, book.options, standards, Date(2026, 1, 20))
    assert "backlog open at 2026-01-20, before the month-end close" in early.warnings[0]


def test_rollup_and_standards_show_driver_units_times_rate(ledger, tmp_path):
    path = tmp_path / "standards.yaml"
    path.write_text(webb_standards())
    out = io.StringIO()
    assert cli.cmd_rollup(str(path), Date(2026, 4, 30), out) == 0
    text = out.getvalue()
    assert "conversion labor (this level): 0.80 hours x 20.00 =" in text
    assert "conversion fixed_overhead: 0.40 machine-hours x 57.50 =" in text
    line = next(x for x in text.splitlines() if x.startswith("  conversion labor: 0.80"))
    assert line.endswith("16.00")
    assert (
        "fixed_overhead: 57.50 USD per machine-hour, fixed: budget 276,000.00 a month "
        "over 4,800 machine-hours" in text
    )
    book, standards, _ = webb(ledger)
    report = reports.standards_report(standards, Date(2026, 4, 30))
    (jacket,) = report.products
    assert jacket.drivers == {
        "labor": D("0.8"),
        "variable_overhead": D("0.4"),
        "fixed_overhead": D("0.4"),
    }
    pools = {p.name: p for p in report.pool_standards}
    assert pools["fixed_overhead"].kind == "fixed" and pools["fixed_overhead"].denominator == 4800
    assert pools["labor"].kind == "variable"
    text = reports.render_standards_text(report)
    assert "JACKET  labor              0.80 hours x 20.00 = 16.00" in text
    drivers = next(t for t in reports.standards_tables(report) if t.name == "drivers")
    assert drivers.rows[0] == ["JACKET", "labor", D("0.8"), "hours", D("20.00"), D("16.00")]


def test_rollup_and_standards_show_byproducts_planned_loss_and_coproducts(tmp_path):
    from test_planned_losses import BREWERY, standards

    from beancount_backflush.standards import load_standards

    path = tmp_path / "standards.yaml"
    path.write_text(standards())
    out = io.StringIO()
    assert cli.cmd_rollup(str(path), Date(2026, 1, 1), out) == 0
    text = out.getvalue()
    # 25.50 + 6.25 - 1.50 (15 kg of SPENT at 0.10) + 50.00 = 80.25, of which 16.75 planned loss.
    assert "by-product SPENT               -15          0.10         -1.50" in text
    assert "of which planned scrap and yield loss                    16.75" in text
    std, _ = load_standards(str(path))
    report = reports.standards_report(std, Date(2026, 1, 1))
    (wort,) = report.products
    assert wort.planned_loss == D("16.75")
    assert [(n.item, n.quantity, n.kind, n.extended) for n in wort.bom][-1] == (
        "SPENT",
        D("-15"),
        "by-product",
        D("-1.50"),
    )
    path.write_text(BREWERY)
    out = io.StringIO()
    assert cli.cmd_rollup(str(path), Date(2026, 1, 1), out) == 0
    assert "co-product LAGER: 100 per BREW, cost share 90 % = 4.68 USD each" in out.getvalue()
    std, _ = load_standards(str(path))
    report = reports.standards_report(std, Date(2026, 1, 1))
    lager = next(p for p in report.products if p.product == "LAGER")
    assert lager.total == D("4.68") and lager.note.startswith("co-product of BREW: 90 %")

"""Reports on planned losses, by-products and co-products, with figures worked out by hand
(the brewery of example-brewery/ and the BREW process of tests/test_planned_losses.py)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from test_planned_losses import BREWERY

from beancount_backflush import reports
from beancount_backflush.plugin import standards_for
from beancount_backflush.standards import load_standards

D = Decimal
Date = datetime.date
ROOT = Path(__file__).resolve().parent.parent
STANDARDS = ROOT / "example-brewery" / "standards.yaml"
MARCH = Date(2026, 3, 31)


@pytest.fixture(scope="module")
def brewery():
    standards, errors = load_standards(str(STANDARDS))
    assert errors == []
    return standards


def bom_of(report, product):
    found = next(p for p in report.products if p.product == product)
    return found, {n.item: n for n in found.bom}


def test_bom_tree_is_per_good_unit_and_adds_up_to_the_materials(brewery):
    report = reports.standards_report(brewery, MARCH)
    lager, lines = bom_of(report, "LAGER")
    # Per good keg: 9 kg x 1.02 / 0.9 = 10.2 kg malt (11.22), 0.135 / 0.9 = 0.15 kg hops
    # (4.20), 0.45 / 0.9 = 0.5 pack (3.25), less 12 kg of spent grain at 0.05 (0.60).
    assert {i: (n.quantity, n.unit, n.scrap, n.extended) for i, n in lines.items()} == {
        "MALT": (D("10.2"), "kg", D("0.02"), D("11.22")),
        "HOPS": (D("0.15"), "kg", None, D("4.20")),
        "YEAST": (D("0.5"), "pack", None, D("3.25")),
        "SPENT_GRAIN": (D("-12"), "kg", None, D("-0.60")),
    }
    assert sum(n.extended for n in lines.values()) == lager.material == D("18.07")
    assert lager.yield_ == D("0.9")
    ipa, lines = bom_of(report, "IPA")
    # 10.5 x 1.02 = 10.71 kg a keg brewed, / 0.9 = 11.9 kg a good keg (13.09).
    assert (lines["MALT"].quantity, lines["MALT"].extended) == (D("11.9"), D("13.09"))
    assert sum(n.extended for n in lines.values()) == ipa.material == D("29.64")
    brew, lines = bom_of(report, "PARTI_GYLE")
    # A process, yield 1: 500 x 1.02 = 510 kg, shown as 510 (not 510.00).
    assert str(lines["MALT"].quantity) == "510" and brew.yield_ is None
    assert sum(n.extended for n in lines.values()) == brew.material == D("736.00")
    text = reports.render_standards_text(report)
    assert "  LAGER  85.57  (yield 90 %)" in text
    assert "10.2 kg x MALT (material, 2 % planned scrap) at 1.10 = 11.22" in text
    assert "510 kg x MALT (material, 2 % planned scrap) at 1.10 = 561.00" in text
    bom = next(t for t in reports.standards_tables(report) if t.name == "bom")
    assert bom.rows[0] == [
        "LAGER", 1, "LAGER:MALT", "MALT", "material", D("10.2"), "kg", D("0.02"), D("1.10"),
        D("11.22"),
    ]  # fmt: skip
    assert "10.2,kg,0.02,1.10,11.22" in reports.render_csv(bom)


def test_planned_loss_rounds_half_up_like_the_engine(brewery):
    report = reports.standards_report(brewery, MARCH)
    losses = {p.product: p.planned_loss for p in report.products}
    # The roll-up's 8.815 and 12.265 (tests/test_example_brewery.py), to the cent half-up.
    assert brewery.rollup("IPA", MARCH).planned_loss == D("12.265")
    assert losses["LAGER"] == D("8.82") and losses["IPA"] == D("12.27")
    products = reports.standards_tables(report)[0]
    csv = reports.render_csv(products)
    assert "LAGER,,85.57,18.07,45.00,22.50,8.82," in csv
    assert "IPA,,119.64,29.64,60.00,30.00,12.27," in csv
    text = reports.render_standards_text(report)
    assert "12.27" in text and "12.26" not in text
    assert reports.round_money(D("12.265")) == D("12.27")
    assert reports.round_money(D("2.925")) == D("2.93")


def test_used_in_names_byproduct_producers_and_coproduct_processes(brewery):
    report = reports.standards_report(brewery, MARCH)
    used = {name: (cost, unit, list(uses)) for name, cost, unit, uses in report.materials}
    assert used["MALT"][2] == ["IPA", "LAGER", "PARTI_GYLE"]
    assert used["SPENT_GRAIN"] == (
        D("0.05"),
        "kg",
        ["IPA (by-product)", "LAGER (by-product)", "PARTI_GYLE (by-product)"],
    )
    assert [u.product for u in used["SPENT_GRAIN"][2]] == ["IPA", "LAGER", "PARTI_GYLE"]
    assert used["STRONG_ALE"] == (D("146.02"), "units", ["PARTI_GYLE (co-product)"])
    assert used["SMALL_BEER"] == (D("62.58"), "units", ["PARTI_GYLE (co-product)"])
    table = next(t for t in reports.standards_tables(report) if t.name == "materials")
    assert ["STRONG_ALE", D("146.02"), "units", "PARTI_GYLE (co-product)"] in table.rows


def test_coproduct_units_are_their_own_or_the_process(tmp_path, ledger):
    text = BREWERY.replace("HOPS: {cost: 10.00}", "HOPS: {cost: 10.00, unit: kg}")
    text = text.replace("    bom: {MALT: 200", "    unit: brew\n    bom: {MALT: 200")
    text = text.replace("{qty: 100, share: 0.9}", "{qty: 100, share: 0.9, unit: keg}")
    book = ledger(
        text,
        """
2026-01-05 custom "backflush" "purchase" 1000 MALT 1000.00 USD
2026-01-05 custom "backflush" "purchase" 10 HOPS 100.00 USD
2026-01-06 custom "backflush" "produce" 2 BREW
""",
        opens=False,
    )
    assert book.errors == [], book.messages()
    standards = standards_for(book.options)
    report = reports.inventory_report(book.entries, book.options, standards)
    units = {row.item: (row.quantity, row.unit) for row in report.rows}
    # LAGER names its unit; ALE takes the process's.
    assert units["LAGER"] == (D("200"), "keg") and units["ALE"] == (D("40"), "brew")
    assert units["HOPS"] == (D("6"), "kg")
    std = reports.standards_report(standards, Date(2026, 1, 6))
    lager = next(p for p in std.products if p.product == "LAGER")
    assert lager.unit == "keg" and lager.note.endswith("over 100 keg")


def test_a_process_is_not_made_its_coproducts_are(ledger):
    book = ledger(
        BREWERY.replace("HOPS: {cost: 10.00}", "HOPS: {cost: 10.00, unit: kg}"),
        """
2026-01-05 custom "backflush" "purchase" 1000 MALT 1000.00 USD
2026-01-05 custom "backflush" "purchase" 10 HOPS 100.00 USD
2026-01-06 custom "backflush" "produce" 2 BREW
2026-01-07 custom "backflush" "sell" 10 LAGER 60.00 USD
2026-02-02 custom "backflush" "unbuild" 1 BREW
""",
        opens=False,
    )
    assert book.errors == [], book.messages()
    standards = standards_for(book.options)
    january = reports.inventory_report(book.entries, book.options, standards, Date(2026, 1, 31))
    flows = {f.item: (f.made, f.sold, f.revenue, f.cogs) for f in january.products}
    # Two batches: 2 x 100 LAGER and 2 x 20 ALE into FG; BREW itself is never made.
    assert flows == {
        "LAGER": (D("200"), D("10"), D("60.00"), D("46.80")),  # 10 x 4.68
        "ALE": (D("40"), D("0"), D("0"), D("0")),
    }
    # Unbuilding a batch in February takes 100 LAGER and 20 ALE back apart.
    whole = reports.inventory_report(book.entries, book.options, standards)
    months = {(m, f.item): f.made for m, f in whole.product_months}
    assert months == {
        ("2026-01", "ALE"): 40,
        ("2026-01", "LAGER"): 200,
        ("2026-02", "ALE"): -20,
        ("2026-02", "LAGER"): -100,
    }
    figures = {c.title: (c.month, c.previous, c.year_to_date) for c in whole.comparison}
    # No unit declared for LAGER and ALE: not added up, each has its rows.
    assert "Units made" not in figures and "Units sold" not in figures
    assert figures["LAGER made (units)"] == (D("-100"), D("200"), D("100"))
    assert figures["ALE made (units)"] == (D("-20"), D("40"), D("20"))
    assert figures["LAGER sold (units)"] == (D("0"), D("10"), D("10"))


def test_month_comparison_keeps_kegs_and_kilograms_apart():
    from beancount import loader

    entries, errors, options = loader.load_file(str(ROOT / "example-brewery" / "ledger.beancount"))
    assert errors == []
    standards = standards_for(options)
    report = reports.inventory_report(entries, options, standards)
    figures = {c.title: (c.month, c.previous, c.year_to_date) for c in report.comparison}
    assert "Units made" not in figures and "Units sold" not in figures
    # March against February, and the year: kegs of each beer, kilograms of spent grain.
    assert figures["LAGER made (keg)"] == (120, 120, 340)
    assert figures["IPA sold (keg)"] == (110, 95, 265)
    assert figures["STRONG_ALE made (units)"] == (10, 0, 10)
    assert figures["SPENT_GRAIN sold (kg)"] == (3720, 2840, 8880)
    rows = {row.item: row for row in report.rows}
    # HOPS: 210 kg bought less 206 used at standard, +0.6 and +0.4 kg: 3 kg, not "3.0".
    assert str(rows["HOPS"].quantity) == "3" and rows["HOPS"].unit == "kg"
    assert "  HOPS  " in reports.render_inventory_text(report)
    line = next(t for t in reports.render_inventory_text(report).splitlines() if " HOPS " in t)
    assert " 3  kg " in line and "3.0" not in line


def test_coproducts_received_are_production_at_standard(ledger):
    book = ledger(
        BREWERY,
        """
2026-01-05 custom "backflush" "purchase" 1000 MALT 1000.00 USD
2026-01-05 custom "backflush" "purchase" 10 HOPS 100.00 USD
2026-01-06 custom "backflush" "produce" 2 BREW
2026-01-07 custom "backflush" "scrap" 1 ALE
""",
        opens=False,
    )
    assert book.errors == [], book.messages()
    standards = standards_for(book.options)
    report = reports.variance_report(book.entries, book.options, standards)
    # Two batches at 520.00: 200 LAGER x 4.68 = 936.00 + 40 ALE x 2.60 = 104.00 = 1,040.00.
    assert report.bases["scrap"] == D("1040.00")
    assert report.arisen["scrap"] == D("2.60")  # one ALE
    assert report.share("scrap") == D("0.0025")  # 2.60 / 1,040.00

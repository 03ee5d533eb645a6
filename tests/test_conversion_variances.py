"""Conversion variances the textbook way: spending, efficiency and production volume.

Horngren, Datar & Rajan, *Cost Accounting* (14th ed.), Webb Company, April: 10,000 jackets
made (12,000 budgeted). Direct manufacturing labor: 0.80 hours per jacket at 20.00 standard;
actual 9,000 hours for 198,000.00. Variable manufacturing overhead: 0.40 machine-hours per
jacket at 30.00; actual 4,500 machine-hours, 130,500.00 incurred. Fixed manufacturing
overhead: budget 276,000.00 for 4,800 machine-hours (57.50 per machine-hour); actual
285,000.00. The book's variances: labor price 18,000 U and efficiency 20,000 U (chapter 7);
variable overhead spending 4,500 F and efficiency 15,000 U; fixed overhead spending 9,000 U
and production-volume 46,000 U (chapter 8).
"""

from __future__ import annotations

from decimal import Decimal

from conftest import line_of

D = Decimal
COGS = "Expenses:COGS"
FG = "Assets:Inventory:FinishedGoods"


def webb_standards(disposition: str = "cogs") -> str:
    return f"""
currency: USD
auto_open: true
accounts:
  raw_in_process: Assets:Inventory:RawInProcess
  finished_goods: Assets:Inventory:FinishedGoods
  cogs: Expenses:COGS
conversion:
  labor: {{incurred: Expenses:Labor, allocated: Expenses:Labor:Allocated,
           driver: hours, rate: 20.00}}
  variable_overhead: {{incurred: Expenses:VariableOverhead,
                       allocated: Expenses:VariableOverhead:Allocated,
                       driver: machine-hours, rate: 30.00}}
  fixed_overhead: {{incurred: Expenses:FixedOverhead,
                    allocated: Expenses:FixedOverhead:Allocated,
                    driver: machine-hours, rate: 57.50, budget: 276000.00}}
close: {{disposition: {disposition}}}
materials:
  CLOTH: {{cost: 60.00}}
products:
  JACKET:
    bom: {{CLOTH: 1}}
    conversion: {{labor: 0.80, variable_overhead: 0.40, fixed_overhead: 0.40}}
"""


APRIL = """
2026-04-01 custom "backflush" "purchase" 10000 CLOTH 600000.00 USD
2026-04-20 custom "backflush" "produce" 10000 JACKET
2026-04-30 * "April conversion costs"
  Expenses:Labor              198000.00 USD
  Expenses:VariableOverhead   130500.00 USD
  Expenses:FixedOverhead      285000.00 USD
  Liabilities:AccountsPayable
2026-04-30 custom "backflush" "activity" "labor" 9000
2026-04-30 custom "backflush" "activity" "variable_overhead" 4500
2026-04-30 custom "backflush" "close"
"""

SPENDING = "Expenses:Variances:Spending"
EFFICIENCY = "Expenses:Variances:Efficiency"
VOLUME = "Expenses:Variances:Volume"


def split_of(book) -> dict[str, Decimal]:
    (split,) = book.generated("conversion-variances")
    return {
        p.account: p.units.number
        for p in split.postings
        if p.account.startswith("Expenses:Variances:")
    }


def test_webb_company_variances_to_the_cent(ledger):
    book = ledger(webb_standards(), APRIL, opens=False)
    assert book.errors == [], book.messages()
    # Standard cost of a jacket: 60.00 + 0.80 x 20 + 0.40 x 30 + 0.40 x 57.50 = 111.00.
    assert book.money(FG) == D("1110000.00")
    assert split_of(book) == {
        SPENDING + ":Labor": D("18000.00"),  # (22 - 20) x 9,000 hours
        EFFICIENCY + ":Labor": D("20000.00"),  # (9,000 - 8,000 allowed) x 20
        SPENDING + ":VariableOverhead": D("-4500.00"),  # 130,500 - 4,500 x 30
        EFFICIENCY + ":VariableOverhead": D("15000.00"),  # (4,500 - 4,000) x 30
        SPENDING + ":FixedOverhead": D("9000.00"),  # 285,000 - 276,000
        VOLUME + ":FixedOverhead": D("46000.00"),  # 276,000 - 4,000 x 57.50
    }
    # The parts add up to the pools' under-allocation, all disposed of to COGS.
    assert book.money(COGS) == D("103500.00")
    for account in (SPENDING, EFFICIENCY, VOLUME):
        for pool in ("Labor", "VariableOverhead", "FixedOverhead"):
            assert book.money(f"{account}:{pool}") == 0


def test_under_prorate_volume_goes_to_cogs_and_the_rest_follows_the_pool(ledger):
    # Half the jackets sold: labor's 38,000 and variable overhead's 10,500 split by each
    # pool's content in FG and COGS (half each); fixed overhead's spending 9,000 too, but
    # its production-volume 46,000 is a period cost (IAS 2.13): all to COGS.
    book = ledger(
        webb_standards("prorate"),
        APRIL.replace(
            '2026-04-30 custom "backflush" "close"',
            '2026-04-25 custom "backflush" "sell" 5000 JACKET\n'
            '2026-04-30 custom "backflush" "close"',
        ),
        opens=False,
    )
    assert book.errors == [], book.messages()
    assert book.money(FG + ":Adjustment") == (D("38000") + D("10500") + D("9000")) / 2
    assert book.money(COGS) == D("555000.00") + D("28750.00") + D("46000.00")


def test_a_month_with_no_production_is_all_spending_and_volume(ledger):
    book = ledger(
        webb_standards(),
        """
2020-01-01 open Liabilities:AccountsPayable
2026-05-31 * "May: idle plant"
  Expenses:FixedOverhead   280000.00 USD
  Expenses:Labor             2000.00 USD
  Liabilities:AccountsPayable
2026-05-31 custom "backflush" "activity" "labor" 100
2026-05-31 custom "backflush" "close"
""",
        opens=False,
    )
    assert book.errors == [], book.messages()
    assert split_of(book) == {
        SPENDING + ":FixedOverhead": D("4000.00"),  # 280,000 - 276,000
        VOLUME + ":FixedOverhead": D("276000.00"),  # nothing allocated
        # Labor: 2,000 for 100 hours is the standard 20.00 (no spending variance, no
        # posting); 100 hours used and none allowed: efficiency 2,000.
        EFFICIENCY + ":Labor": D("2000.00"),
    }


def test_favourable_efficiency_and_unfavourable_spending(ledger):
    # 10,000 jackets in 7,500 hours at 21.00: spending +7,500; efficiency -10,000.
    text = APRIL.replace("198000.00", "157500.00").replace('"labor" 9000', '"labor" 7500')
    book = ledger(webb_standards(), text, opens=False)
    split = split_of(book)
    assert split[SPENDING + ":Labor"] == D("7500.00")
    assert split[EFFICIENCY + ":Labor"] == D("-10000.00")


def test_a_driver_pool_without_activity_is_disposed_unsplit_with_a_warning(ledger):
    text = APRIL.replace('2026-04-30 custom "backflush" "activity" "labor" 9000\n', "")
    book = ledger(webb_standards(), text, opens=False)
    (warning,) = book.errors
    assert type(warning).__name__ == "BackflushWarning"
    assert "'labor' has a driver but no activity" in warning.message
    assert warning.source["lineno"] == line_of(book.path, '"close"')
    assert SPENDING + ":Labor" not in split_of(book)
    assert book.money(COGS) == D("103500.00")  # labor's 38,000 still disposed of


def test_activity_for_an_unknown_pool_or_one_without_driver(ledger):
    standards = webb_standards().replace(
        "  labor: {incurred: Expenses:Labor, allocated: Expenses:Labor:Allocated,\n"
        "           driver: hours, rate: 20.00}",
        "  labor: {incurred: Expenses:Labor, allocated: Expenses:Labor:Allocated}",
    ).replace("labor: 0.80,", "labor: 16.00,")
    book = ledger(
        standards,
        """
2026-04-30 custom "backflush" "activity" "labour" 10
2026-04-30 custom "backflush" "activity" "labor" 10
""",
        opens=False,
    )
    by_line = {e.source["lineno"]: e.message for e in book.errors}
    assert "did you mean 'labor'" in by_line[line_of(book.path, '"labour"')]
    assert '"labor" has no driver' in by_line[line_of(book.path, '"labor" 10')]

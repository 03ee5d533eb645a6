"""Period close, standard revisions and the two-trigger variants, with the bike standards."""

from __future__ import annotations

import datetime
from decimal import Decimal

from conftest import line_of
from standards_bike import COGS, FG, LABOR_ALLOCATED, PPV, RIP, bike_standards

D = Decimal
ADJ_RIP = RIP + ":Adjustment"
ADJ_FG = FG + ":Adjustment"

# January: 10 FRAME made (labor 30.00 and overhead 15.00 allocated), 6 sold; labor incurred
# 40.00 (10.00 under-allocated), overhead 12.00 (3.00 over-allocated); PPV 10.00 - 2.00.
JANUARY = """
2026-01-05 custom "backflush" "purchase" 100 STEEL 260.00 USD
2026-01-05 custom "backflush" "purchase" 1000 BOLT 48.00 USD
2026-01-06 custom "backflush" "produce" 10 FRAME
2026-01-20 custom "backflush" "sell" 6 FRAME
2026-01-25 * "Payroll"
  Expenses:Conversion:Labor     40.00 USD
  Liabilities:Wages
2026-01-25 * "Power"
  Expenses:Conversion:Overhead  12.00 USD
  Assets:Bank
"""


def test_close_to_cogs_empties_the_pools_and_listed_variances(ledger):
    book = ledger(bike_standards(), JANUARY + """
2026-01-31 custom "backflush" "close"
""")
    assert book.errors == []
    assert book.money("Expenses:Conversion:Labor") == 0
    assert book.money(LABOR_ALLOCATED) == 0
    assert book.money(PPV) == 0
    # COGS: 6 x 9.90 at standard + 10.00 under - 3.00 over + 8.00 PPV
    assert book.money(COGS) == D("59.40") + D("10.00") - D("3.00") + D("8.00")
    close = book.generated("close")[0]
    assert close.meta["backflush_since"] == datetime.date(2026, 1, 5)
    assert close.meta["backflush_disposed"] == D("15.00")


def test_prorate_splits_each_variance_by_its_own_cost_element(ledger):
    book = ledger(bike_standards(disposition="prorate"), JANUARY + """
2026-01-31 custom "backflush" "close"
""")
    assert book.errors == []
    # Labor 10.00 under: labor content FG 4 x 3.00 = 12, COGS 6 x 3.00 = 18 -> 4.00 / 6.00.
    # Overhead -3.00: FG 4 x 1.50 = 6, COGS 9 -> -1.20 / -1.80.
    # PPV 8.00 by material: RIP (80 STEEL x 2.50 + 920 BOLT x 0.05 = 246.00),
    # FG 4 x 5.40 = 21.60, COGS 6 x 5.40 = 32.40, total 300.00:
    # RIP 6.56, FG 0.576 -> 0.58, COGS the rest 0.86.
    assert book.money(ADJ_RIP) == D("6.56")
    assert book.money(ADJ_FG) == D("4.00") - D("1.20") + D("0.58")
    assert book.money(COGS) == D("59.40") + D("6.00") - D("1.80") + D("0.86")
    # Nothing lost: every variance went somewhere.
    assert book.money(ADJ_RIP) + book.money(ADJ_FG) + book.money(COGS) - D("59.40") == \
        D("15.00")


def test_prorate_releases_last_periods_adjustment_at_the_next_close(ledger):
    book = ledger(bike_standards(disposition="prorate"), JANUARY + """
2026-01-31 custom "backflush" "close"
2026-02-10 custom "backflush" "sell" 4 FRAME
2026-02-28 custom "backflush" "close"
""")
    assert book.errors == []
    # In February the last 4 frames are sold: what January capitalised in FG (4.00 labor,
    # -1.20 overhead) follows them to COGS. The PPV capitalised (6.56 + 0.58 = 7.14) is split
    # again by material content: RIP 246.00, FG 0, February's relieved 4 x 5.40 = 21.60:
    # RIP 7.14 x 246.00 / 267.60 = 6.5637 -> 6.56, COGS 0.58.
    feb = book.generated("close")[1]
    assert feb.meta["backflush_disposed"] == 0
    assert book.money(ADJ_FG) == 0
    assert book.money(ADJ_RIP) == D("6.56")
    assert book.money(COGS) + book.money(ADJ_RIP) == D("99.00") + D("15.00")


def test_materiality_sends_small_variances_to_cogs(ledger):
    # Period COGS 59.40; 20 % materiality = 11.88: labor (10.00), overhead (-3.00) and
    # PPV (8.00) are each immaterial, so nothing is capitalised.
    book = ledger(bike_standards(disposition="prorate", materiality="0.20"), JANUARY + """
2026-01-31 custom "backflush" "close"
""")
    assert book.errors == []
    assert book.money(ADJ_RIP) == 0 and book.money(ADJ_FG) == 0
    assert book.money(COGS) == D("59.40") + D("15.00")


def test_monthly_schedule_closes_each_month_end(ledger):
    book = ledger(bike_standards(schedule="monthly"), JANUARY + """
2026-02-10 custom "backflush" "sell" 1 FRAME
2026-02-11 * "Payroll"
  Expenses:Conversion:Labor     5.00 USD
  Liabilities:Wages
2026-03-15 custom "backflush" "sell" 1 FRAME
""")
    assert book.errors == []
    closes = book.generated("close")
    assert [c.date for c in closes] == [datetime.date(2026, 1, 31), datetime.date(2026, 2, 28)]
    # Caused by the standards file, not a directive: Fava must not offer to edit it there.
    assert closes[0].meta["filename"] == "<backflush>"
    standards = book.path.parent / "standards.yaml"
    assert closes[0].meta["backflush_source"] == f"{standards}:{line_of(standards, 'schedule:')}"
    assert book.money("Expenses:Conversion:Labor") == 0
    assert book.money(COGS) == D("8") * D("9.90") + D("15.00") + D("5.00")


def test_asserted_close_total_is_a_period_lock(ledger):
    agreed = ledger(bike_standards(), JANUARY + """
2026-01-31 custom "backflush" "close" 15.00 USD
""")
    assert agreed.errors == []
    # A back-dated payroll entry changes the closed January: bean-check now fails.
    changed = ledger(bike_standards(), JANUARY + """
2026-01-28 * "Late payroll"
  Expenses:Conversion:Labor     1.00 USD
  Liabilities:Wages
2026-01-31 custom "backflush" "close" 15.00 USD
""")
    assert [e.source["lineno"] for e in changed.errors] == [
        line_of(changed.path, '"close" 15.00 USD')]
    assert "asserts 15.00 USD" in changed.errors[0].message
    assert "16.00 USD" in changed.errors[0].message


def test_revision_revalues_stock_on_its_effective_date(ledger):
    book = ledger(bike_standards(), """
2026-06-01 custom "backflush" "purchase" 100 STEEL 250.00 USD
2026-06-01 custom "backflush" "purchase" 1000 BOLT 50.00 USD
2026-06-02 custom "backflush" "produce" 10 FRAME
2026-07-03 custom "backflush" "produce" 5 FRAME
""")
    assert book.errors == []
    # 80 kg STEEL +0.20 = 16.00 and 10 FRAME +0.40 = 4.00 revalued on 2026-07-01.
    assert book.money("Expenses:Variances:Revaluation") == D("-20.00")
    reval = book.generated("revalue")[0]
    assert reval.date == datetime.date(2026, 7, 1)
    assert reval.meta["filename"] == "<backflush>"
    standards = book.path.parent / "standards.yaml"
    assert reval.meta["backflush_source"] == f"{standards}:{line_of(standards, 'STEEL:')}"
    # Every lot carries the standard in force: one lot each, at the new cost.
    costs = {item: cost.number for (item, cost) in book.lots(RIP) | book.lots(FG)}
    assert costs == {"STEEL": D("2.70"), "BOLT": D("0.05"), "FRAME": D("10.30")}
    assert book.units(FG, "FRAME") == 15
    assert book.money(FG) == D("154.50")


def test_purchase_sale_variant_warns_about_uninventoried_conversion(ledger):
    book = ledger(bike_standards(triggers="[purchase, sale]"), """
2026-01-05 custom "backflush" "purchase" 1000 STEEL 2500.00 USD
2026-01-05 custom "backflush" "purchase" 10000 BOLT 500.00 USD
2026-01-06 custom "backflush" "produce" 100 FRAME
2026-01-20 custom "backflush" "sell" 10 FRAME
2026-01-31 custom "backflush" "close"
""")
    # 90 frames completed and unsold carry 90 x 4.50 = 405.00 of conversion that this
    # variant does not inventory: 405.00 against COGS of 99.00 is far above 5 %.
    assert len(book.errors) == 1
    warning = book.errors[0]
    assert type(warning).__name__ == "BackflushWarning"
    assert "405.00 USD" in warning.message
    assert warning.source["lineno"] == line_of(book.path, '"close"')
    assert book.generated("close")[0].meta["backflush_uninventoried"] == D("405.00")
    assert book.units(RIP, "STEEL") == 1000 - 20        # sale relieves RIP by the BOM


def test_revision_inside_a_month_is_closed_with_that_month(ledger):
    # STEEL's revision on 2026-07-01 and the scheduled June/July closes fall on days with
    # no entries: the revaluation (start of 07-01) must come after June's close and before
    # July's, so July's close sees the revalued stock.
    book = ledger(bike_standards(schedule="monthly", disposition="prorate"), """
2026-06-10 custom "backflush" "purchase" 100 STEEL 260.00 USD
2026-08-03 custom "backflush" "purchase" 10 STEEL 27.00 USD
""")
    assert book.errors == []
    dated = [(t.date, t.meta["backflush"]) for t in book.generated()
             if t.meta["backflush"] in ("close", "revalue")]
    assert dated == [(datetime.date(2026, 6, 30), "close"),
                     (datetime.date(2026, 7, 1), "revalue"),
                     (datetime.date(2026, 7, 31), "close")]
    # June's PPV (10.00) was capitalised in RIP: 100 kg at 2.60, their actual cost. The
    # revision to 2.70 revalues the lots by +20.00 against the adjustment (it changes the
    # split between standard and adjustment, not the cost), and July's close re-splits it:
    # RIP still holds the 100 kg at 260.00, what they cost, and nothing reached P&L.
    assert book.money(RIP) == D("270.00") + D("27.00")
    assert book.money(ADJ_RIP) == D("-10.00")
    assert book.money(RIP) + book.money(ADJ_RIP) == D("260.00") + D("27.00")
    assert book.money("Expenses:Variances:Revaluation") == 0
    assert book.money(COGS) == 0

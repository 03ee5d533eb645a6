"""Figures an accountant would catch: stock that was never there, conversion counted twice,
capitalised variances flushed, revaluations that overstate stock, half-posted events.

Each case is computed by hand beside its assertions (the SPEC's bike standards: FRAME 9.90 =
2 kg STEEL x 2.50 + 8 BOLT x 0.05 + labor 3.00 + overhead 1.50; BIKE 20.30).
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from conftest import line_of
from standards_bike import COGS, FG, PPV, RIP, bike_standards

from beancount_backflush import eventtable

D = Decimal
ADJ_RIP = RIP + ":Adjustment"
ADJ_FG = FG + ":Adjustment"
CLEARING = "Expenses:Materials:Clearing"

STOCKED = """
2026-01-05 custom "backflush" "purchase" 100 STEEL 260.00 USD
2026-01-05 custom "backflush" "purchase" 1000 BOLT 48.00 USD
"""


def errors_at(book, needle: str) -> list[str]:
    line = line_of(book.path, needle)
    return [e.message for e in book.errors if e.source.get("lineno") == line]


# -- stock that can never be invented ------------------------------------------------------


def test_a_return_cannot_put_back_more_than_was_sold(ledger):
    book = ledger(bike_standards(), STOCKED + """
2026-01-06 custom "backflush" "produce" 10 FRAME
2026-01-07 custom "backflush" "sell" 5 FRAME 250.00 USD
2026-01-08 custom "backflush" "return" 50 FRAME 2500.00 USD
2026-01-09 custom "backflush" "unbuild" 6 FRAME
2026-01-10 custom "backflush" "return" 5 FRAME 250.00 USD
2026-01-11 custom "backflush" "return" 1 FRAME
""")
    (message,) = errors_at(book, '"return" 50 FRAME')
    assert "50 FRAME returned, but only 5 sold and not yet returned" in message
    # Only 5 FRAME were on hand when the unbuild asked for 6: nothing invented there either.
    assert "not enough stock" in errors_at(book, '"unbuild" 6 FRAME')[0]
    assert "0 sold and not yet returned" in errors_at(book, '"return" 1 FRAME')[0]
    assert len(book.errors) == 3
    # 10 made, 5 sold, 5 returned: 10 on hand; COGS and revenue back to zero.
    assert book.units(FG, "FRAME") == 10
    assert book.money(COGS) == 0 and book.money("Income:Sales") == 0
    assert book.units(RIP, "STEEL") == 80  # no materials out of an unbuild that failed


def test_an_unbuild_cannot_take_apart_more_than_was_made(ledger):
    # Units received by hand (opening stock) count as made; the 3 beyond them do not.
    book = ledger(bike_standards(negative_stock="allow"), STOCKED + """
2026-01-06 * "Opening stock"
  Assets:Inventory:FinishedGoods  2 FRAME {9.90 USD}
  Equity:Opening                -19.80 USD
2026-01-07 custom "backflush" "produce" 1 FRAME
2026-01-08 custom "backflush" "unbuild" 6 FRAME
2026-01-09 custom "backflush" "unbuild" 3 FRAME
""" + "2020-01-01 open Equity:Opening\n")
    assert "an unbuild cannot take apart more than was made" in errors_at(
        book, '"unbuild" 6 FRAME'
    )[0]
    assert errors_at(book, '"unbuild" 3 FRAME') == []
    assert book.units(FG, "FRAME") == 0
    # 100 bought, 2 into the FRAME made, 6 back from 3 FRAME unbuilt (2 of them opening
    # stock, whose materials came in with them).
    assert book.units(RIP, "STEEL") == 104
    assert len(book.errors) == 1


def test_purchase_sale_counts_each_units_conversion_once(ledger):
    # 10 FRAME completed (conversion 4.50 each), then all consumed by 10 BIKE (conversion
    # 14.50 each through both levels): 145.00 is uninventoried, not 45.00 + 145.00.
    book = ledger(bike_standards(triggers="[purchase, sale]"), STOCKED + """
2026-01-06 custom "backflush" "produce" 10 FRAME
2026-01-07 custom "backflush" "produce" 10 BIKE
2026-01-08 custom "backflush" "unbuild" 1 FRAME
2026-01-31 custom "backflush" "close"
""")
    (message,) = errors_at(book, '"unbuild" 1 FRAME')
    assert "1 FRAME needed, 0 completed and not yet sold" in message
    assert book.generated("close")[0].meta["backflush_uninventoried"] == D("145.00")


def test_purchase_sale_parent_needs_its_subassemblies_completed(ledger):
    book = ledger(bike_standards(triggers="[purchase, sale]"), STOCKED + """
2026-01-06 custom "backflush" "produce" 4 FRAME
2026-01-07 custom "backflush" "produce" 5 BIKE
""")
    assert "5 FRAME needed, 4 completed and not yet sold" in errors_at(
        book, '"produce" 5 BIKE'
    )[0]


# -- proration -----------------------------------------------------------------------------


def test_an_immaterial_period_does_not_flush_what_earlier_closes_capitalised(ledger):
    book = ledger(bike_standards(disposition="prorate", materiality="0.05"), """
2026-01-05 custom "backflush" "purchase" 100 STEEL 260.00 USD
2026-01-31 custom "backflush" "close"
2026-02-02 custom "backflush" "purchase" 1000 BOLT 50.10 USD
2026-02-03 custom "backflush" "produce" 10 FRAME
2026-02-04 custom "backflush" "sell" 10 FRAME
2026-02-28 custom "backflush" "close"
""")
    assert book.errors == []
    # January: PPV 10.00, all on STEEL still in RIP -> RIP:Adjustment 10.00.
    # February: new PPV 0.10 is under 5 % of COGS (99.00): to COGS. January's 10.00 is
    # re-split over the material in RIP (80 STEEL 200.00 + 920 BOLT 46.00 = 246.00) and in
    # COGS (10 FRAME x 5.40 = 54.00): RIP 10 x 246/300 = 8.20, COGS 1.80.
    assert book.money(ADJ_RIP) == D("8.20")
    # COGS: 99.00 + 0.10 + 1.80, less the over-allocated conversion (labor 30, overhead
    # 15; all of it relieved to COGS in February).
    assert book.money(COGS) == D("99.00") + D("0.10") + D("1.80") - D("45.00")
    assert book.money(PPV) == 0


def test_a_revision_under_prorate_keeps_finished_goods_at_actual_cost(ledger):
    # 10 FRAME made from STEEL bought at 2.60 (PPV 10.00 on 100 kg). January's close
    # capitalises the PPV by material content: RIP 246.00 of 300.00 -> 8.20, FG 1.80.
    # On 2026-07-01 STEEL goes to 2.70: FRAME +0.40, STEEL +0.20, lots revalued by +20.00
    # against the adjustments (FG -4.00, RIP -16.00): inventory still holds what the goods
    # cost, 355.00, and nothing reaches the income statement. (Revalued against a period
    # account it would hold 375.00 with a 20.00 gain and nothing sold.)
    book = ledger(bike_standards(disposition="prorate"), STOCKED.replace("48.00", "50.00") + """
2026-01-06 custom "backflush" "produce" 10 FRAME
2026-01-06 * "Payroll"
  Expenses:Conversion:Labor     30.00 USD
  Expenses:Conversion:Overhead  15.00 USD
  Liabilities:Wages
2026-01-31 custom "backflush" "close"
2026-07-02 custom "backflush" "close"
""")
    assert book.errors == []
    assert book.money(FG) == D("103.00")  # 10 x 10.30
    assert book.money(RIP) == D("216.00") + D("46.00")  # 80 x 2.70 + 920 x 0.05
    # Actual cost: 260.00 STEEL + 50.00 BOLT + 45.00 conversion = 355.00.
    held = book.money(FG) + book.money(ADJ_FG) + book.money(RIP) + book.money(ADJ_RIP)
    assert held == D("355.00")
    # July's close re-splits the net -10.00 by material content now (RIP 262 : FG 58).
    assert book.money(ADJ_FG) == D("-1.81") and book.money(ADJ_RIP) == D("-8.19")
    assert book.money("Expenses:Variances:Revaluation") == 0
    assert book.money(COGS) == 0


# -- design decisions ----------------------------------------------------------------------


def test_completion_sale_moves_the_price_variance_on_used_materials_out_of_clearing(ledger):
    book = ledger(bike_standards(triggers="[completion, sale]"), STOCKED + """
2026-01-06 custom "backflush" "produce" 10 FRAME
2026-01-31 custom "backflush" "close"
""")
    assert book.errors == []
    # Clearing: 308.00 invoiced - 54.00 used at standard = 254.00 = unused at standard
    # (80 x 2.50 + 920 x 0.05 = 246.00) + price variance 8.00 (STEEL +10.00, BOLT -2.00).
    # The 8.00 falls on used and unused alike: 8.00 x 54 / (54 + 246) = 1.44 on the
    # materials used goes to PPV and is closed to COGS; unused stays at average actual.
    assert book.money(CLEARING) == D("252.56")
    assert book.money(PPV) == 0
    assert book.money(COGS) == D("1.44") - D("45.00")
    assert book.generated("close")[0].meta["backflush_uninventoried"] == D("252.56")


def test_a_product_bought_in_at_another_cost_is_a_price_variance(ledger):
    book = ledger(bike_standards(), """
2026-01-06 * "Frames bought in"
  Assets:Inventory:FinishedGoods  10 FRAME {10.40 USD}
  Liabilities:AccountsPayable   -104.00 USD
""")
    assert book.errors == []
    assert book.money(FG) == D("99.00")
    assert book.money(PPV) == D("5.00")
    assert book.money("Expenses:Variances:Revaluation") == 0


# -- all or nothing ------------------------------------------------------------------------


def test_an_event_that_fails_half_way_leaves_no_trace(ledger, monkeypatch):
    spec = eventtable.EVENT_TYPES["purchase"]
    calls = []

    def fails_once(book, event):
        calls.append(event)
        if len(calls) == 1:
            txn = book.txn()
            txn.lot(RIP, "BOLT", D(7), book.rollup("BOLT", event.date))
            txn.cash(PPV, D("0.006"))  # would round the PPV account's running total up
            raise RuntimeError("half-way")
        spec.handler(book, event)

    monkeypatch.setitem(
        eventtable.EVENT_TYPES, "purchase", dataclasses.replace(spec, handler=fails_once)
    )
    book = ledger(bike_standards(), """
2026-01-05 custom "backflush" "purchase" 1 BOLT 0.05 USD
2026-01-06 custom "backflush" "purchase" 1 BOLT 0.054 USD
""")
    assert "half-way" in errors_at(book, "0.05 USD")[0]
    # Only the second purchase: 1 BOLT; its PPV 0.004 rounds to 0.00, as if the first had
    # never been tried (with its 0.006 left behind it would be 0.01).
    assert book.units(RIP, "BOLT") == 1
    assert book.money(PPV) == 0


# -- return to supplier, foreign-currency invoices -------------------------------------------


def test_return_to_supplier_relieves_rip_at_standard_and_the_difference_is_ppv(ledger):
    book = ledger(
        bike_standards(),
        STOCKED + '2026-01-12 custom "backflush" "return-to-supplier" 10 STEEL 27.00 USD\n',
    )
    assert book.errors == []
    # 10 kg at 2.50 standard (25.00) out of RIP; the supplier credits 27.00, 2.00 more than
    # standard: a favourable PPV of -2.00 beside the purchases' 8.00.
    assert book.units(RIP, "STEEL") == 90
    assert book.money("Liabilities:AccountsPayable") == D("-308.00") + D("27.00")
    assert book.money(PPV) == D("8.00") - D("2.00")


def test_return_to_supplier_cannot_send_back_what_is_not_on_hand(ledger):
    book = ledger(
        bike_standards(),
        STOCKED + '2026-01-12 custom "backflush" "return-to-supplier" 101 STEEL 262.60 USD\n',
    )
    assert "not enough stock: 101 STEEL needed, 100 on hand" in book.messages()[0]


def test_return_to_supplier_under_completion_sale_credits_clearing(ledger):
    book = ledger(
        bike_standards(triggers="[completion, sale]"),
        STOCKED + '2026-01-12 custom "backflush" "return-to-supplier" 10 STEEL 26.00 USD\n',
    )
    assert book.errors == []
    assert book.money(CLEARING) == D("308.00") - D("26.00")


def test_a_foreign_currency_invoice_is_converted_at_the_ledgers_price(ledger):
    book = ledger(
        bike_standards(),
        """
2026-01-01 price EUR 1.08 USD
2026-01-04 price EUR 1.10 USD
2026-01-05 custom "backflush" "purchase" 100 STEEL 250.00 EUR
2026-01-06 custom "backflush" "return-to-supplier" 10 STEEL 24.00 EUR
""",
    )
    assert book.errors == []
    # 250.00 EUR at 1.10 (the latest price on or before the date) = 275.00 USD for 250.00
    # at standard: PPV 25.00. The credit note 24.00 EUR = 26.40 USD for 25.00: PPV -1.40.
    assert book.money(PPV) == D("25.00") - D("1.40")
    payable = [
        p
        for t in book.generated()
        for p in t.postings
        if p.account == "Liabilities:AccountsPayable"
    ]
    assert [(p.units.number, p.units.currency, p.price.number) for p in payable] == [
        (D("-250.00"), "EUR", D("1.10")),
        (D("24.00"), "EUR", D("1.10")),
    ]


def test_a_foreign_currency_invoice_without_a_price_is_an_error(ledger):
    book = ledger(
        bike_standards(),
        '2026-01-04 price EUR 1.10 USD\n'
        '2026-01-03 custom "backflush" "purchase" 100 STEEL 250.00 EUR\n',
    )
    (message,) = book.messages()
    assert "has no price of EUR in USD on or before 2026-01-03" in message
    assert book.units(RIP, "STEEL") == 0


# -- actual consumption on produce ------------------------------------------------------------


def test_actual_consumption_posts_the_efficiency_variance_of_the_batch(ledger):
    book = ledger(
        bike_standards(),
        STOCKED + '2026-01-06 custom "backflush" "produce" 10 FRAME 21.5 STEEL 78 BOLT\n',
    )
    assert book.errors == []
    # Standard: 20 kg STEEL and 80 BOLT. Used 21.5 kg (+1.5 x 2.50 = 3.75 unfavourable)
    # and 78 BOLT (-2 x 0.05 = -0.10 favourable): usage variance 3.65 on the batch's date.
    assert book.units(RIP, "STEEL") == D("78.5")
    assert book.units(RIP, "BOLT") == 922
    assert book.money("Expenses:Variances:MaterialUsage") == D("3.65")
    assert book.money(FG) == D("99.00")  # finished goods at standard all the same


def test_actual_consumption_of_a_phantom_leaf_and_its_checks(ledger):
    book = ledger(
        bike_standards(),
        STOCKED
        + '2026-01-06 custom "backflush" "produce" 10 FRAME\n'
        + '2026-01-07 custom "backflush" "produce" 5 BIKE 42 BOLT\n'
        + '2026-01-07 custom "backflush" "produce" 1 BIKE 1 WHEEL\n'
        + '2026-01-07 custom "backflush" "produce" 1 BIKE 2 BOLT 3 BOLT\n',
    )
    # BIKE = FRAME + 2 HUB (a phantom of 4 BOLT): 5 BIKE allow 40 BOLT; 42 used: 0.10.
    assert book.money("Expenses:Variances:MaterialUsage") == D("0.10")
    assert book.units(RIP, "BOLT") == 1000 - 80 - 42
    assert "WHEEL is not a component of BIKE (its components: FRAME, BOLT)" in errors_at(
        book, '"produce" 1 BIKE 1 WHEEL'
    )[0]
    assert "names BOLT twice" in errors_at(book, "2 BOLT 3 BOLT")[0]


def test_actual_consumption_needs_the_completion_trigger(ledger):
    book = ledger(
        bike_standards(triggers="[purchase, sale]"),
        STOCKED + '2026-01-06 custom "backflush" "produce" 10 FRAME 21.5 STEEL\n',
    )
    assert "cannot be recorded with triggers [purchase, sale]" in book.messages()[0]


# -- negative_stock: backlog ------------------------------------------------------------------

BACKLOG = "Liabilities:Backflush:Backlog"


def test_a_shortage_posts_in_full_and_the_next_receipt_clears_the_backlog(ledger):
    book = ledger(
        "auto_open: true\n" + bike_standards(negative_stock="backlog"),
        """
2026-01-05 custom "backflush" "purchase" 10 STEEL 25.00 USD
2026-01-05 custom "backflush" "purchase" 1000 BOLT 50.00 USD
2026-01-06 custom "backflush" "produce" 10 FRAME
2026-01-08 custom "backflush" "purchase" 30 STEEL 75.00 USD
""",
    )
    assert book.errors == []
    # 10 FRAME need 20 kg STEEL, 10 on hand: all 10 FRAME are made; 10 kg out of RIP and
    # the missing 10 kg credited to the backlog at standard (25.00), never negative stock.
    (produce,) = book.generated("produce")
    steel = {p.account: p.units.number for p in produce.postings if p.units.currency == "STEEL"}
    assert steel == {RIP: -10, BACKLOG: -10}
    assert book.units(FG, "FRAME") == 10
    # The purchase of 30 kg clears the 10 kg backlog first: 20 kg into RIP.
    assert book.units(BACKLOG, "STEEL") == 0
    assert book.units(RIP, "STEEL") == 20
    assert book.money(RIP) == D("50.00") + D("46.00")  # 20 x 2.50 + 920 BOLT


def test_a_close_with_open_backlog_names_what_is_open(ledger):
    book = ledger(
        "auto_open: true\n" + bike_standards(negative_stock="backlog"),
        """
2026-01-05 custom "backflush" "purchase" 10 STEEL 25.00 USD
2026-01-06 custom "backflush" "produce" 10 FRAME
2026-01-31 custom "backflush" "close"
""",
    )
    (message,) = book.messages()
    assert "with open backlog: 80 BOLT, 10 STEEL used but not yet received" in message
    assert message == errors_at(book, '"close"')[0]
    assert book.generated("close")  # the close still posts, as a failed assertion does
    assert book.money(BACKLOG) == D("-29.00")  # 10 x 2.50 + 80 x 0.05


def test_a_count_with_open_backlog_counts_against_the_net_book(ledger):
    # Book: 0 held, 10 kg in backlog (net -10). Counted 5: 15 kg found at 2.50 (a favourable
    # usage variance of -37.50); 10 clear the backlog, 5 are held.
    book = ledger(
        "auto_open: true\n" + bike_standards(negative_stock="backlog"),
        """
2026-01-05 custom "backflush" "purchase" 10 STEEL 25.00 USD
2026-01-05 custom "backflush" "purchase" 80 BOLT 4.00 USD
2026-01-06 custom "backflush" "produce" 10 FRAME
2026-01-07 custom "backflush" "count" 5 STEEL
""",
    )
    assert book.errors == []
    assert book.units(RIP, "STEEL") == 5 and book.units(BACKLOG, "STEEL") == 0
    assert book.money("Expenses:Variances:MaterialUsage") == D("-37.50")


def test_a_scheduled_close_with_open_backlog_points_at_the_schedule_line(ledger):
    book = ledger(
        "auto_open: true\n" + bike_standards(negative_stock="backlog", schedule="monthly"),
        """
2026-01-05 custom "backflush" "purchase" 10 STEEL 25.00 USD
2026-01-06 custom "backflush" "produce" 10 FRAME
2026-02-02 custom "backflush" "purchase" 100 STEEL 250.00 USD
""",
    )
    (error,) = book.errors
    assert "close on 2026-01-31 with open backlog" in error.message
    standards = book.path.parent / "standards.yaml"
    assert error.source == {"filename": str(standards), "lineno": line_of(standards, "schedule:")}

"""Each event, posted at standard, with the SPEC's bike standards (see standards_bike.py)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from conftest import line_of
from standards_bike import (
    COGS,
    FG,
    LABOR_ALLOCATED,
    OVERHEAD_ALLOCATED,
    PPV,
    RIP,
    bike_standards,
)

D = Decimal

STOCKED = """
2026-01-05 custom "backflush" "purchase" 100 STEEL 260.00 USD
2026-01-05 custom "backflush" "purchase" 1000 BOLT 48.00 USD
"""


def test_purchase_puts_material_in_rip_at_standard_and_the_difference_in_ppv(ledger):
    book = ledger(bike_standards(), STOCKED)
    assert book.errors == []
    assert book.units(RIP, "STEEL") == 100
    assert book.money(RIP) == D("250.00") + D("50.00")
    # STEEL: 260.00 paid for 250.00 at standard (unfavourable 10.00);
    # BOLT: 48.00 paid for 50.00 (favourable -2.00).
    assert book.money(PPV) == D("8.00")
    assert book.money("Liabilities:AccountsPayable") == D("-308.00")


def test_purchase_to_another_payable_account(ledger):
    book = ledger(bike_standards(), """
2026-01-05 custom "backflush" "purchase" 10 BOLT 0.50 USD Assets:Bank
""")
    assert book.errors == []
    assert book.money("Assets:Bank") == D("-0.50")


def test_produce_subassembly_relieves_materials_and_allocates_conversion(ledger):
    book = ledger(bike_standards(), STOCKED + """
2026-01-06 custom "backflush" "produce" 10 FRAME
""")
    assert book.errors == []
    assert book.units(FG, "FRAME") == 10
    assert book.money(FG) == D("99.00")                    # 10 x 9.90
    assert book.units(RIP, "STEEL") == 80                  # 100 - 10 x 2
    assert book.units(RIP, "BOLT") == 920                  # 1000 - 10 x 8
    assert book.money(LABOR_ALLOCATED) == D("-30.00")
    assert book.money(OVERHEAD_ALLOCATED) == D("-15.00")


def test_produce_parent_consumes_stocked_subassembly_and_explodes_phantom(ledger):
    book = ledger(bike_standards(), STOCKED + """
2026-01-06 custom "backflush" "produce" 10 FRAME
2026-01-07 custom "backflush" "produce" 5 BIKE
""")
    assert book.errors == []
    assert book.units(FG, "BIKE") == 5
    assert book.units(FG, "FRAME") == 5                    # 10 made, 5 consumed
    assert book.units(FG, "HUB") == 0                      # a phantom is never stocked
    assert book.units(RIP, "BOLT") == 1000 - 80 - 5 * 8    # HUB's 4 BOLT x 2 per bike
    assert book.money(FG) == D("5") * D("20.30") + D("5") * D("9.90")
    # BIKE's own conversion only: 5 x 6.00 labor, 5 x 4.00 overhead.
    assert book.money(LABOR_ALLOCATED) == D("-30.00") - D("30.00")
    assert book.money(OVERHEAD_ALLOCATED) == D("-15.00") - D("20.00")


def test_sell_with_revenue_relieves_fg_to_cogs(ledger):
    book = ledger(bike_standards(), STOCKED + """
2026-01-06 custom "backflush" "produce" 10 FRAME
2026-01-07 custom "backflush" "produce" 5 BIKE
2026-01-08 custom "backflush" "sell" 4 BIKE 1000.00 USD
2026-01-09 custom "backflush" "sell" 1 BIKE 250.00 USD Assets:Bank
""")
    assert book.errors == []
    assert book.money(COGS) == D("101.50")                 # 5 x 20.30
    assert book.units(FG, "BIKE") == 0
    assert book.money("Income:Sales") == D("-1250.00")
    assert book.money("Assets:AccountsReceivable") == D("1000.00")
    assert book.money("Assets:Bank") == D("250.00")


def test_sell_without_revenue_posts_cost_only(ledger):
    book = ledger(bike_standards(), STOCKED + """
2026-01-06 custom "backflush" "produce" 2 FRAME
2026-01-08 custom "backflush" "sell" 1 FRAME
""")
    assert book.errors == []
    assert book.money(COGS) == D("9.90")
    assert book.money("Income:Sales") == 0


def test_scrap_of_material_and_product_at_standard(ledger):
    book = ledger(bike_standards(), STOCKED + """
2026-01-06 custom "backflush" "produce" 2 FRAME
2026-01-07 custom "backflush" "scrap" 3 STEEL
2026-01-07 custom "backflush" "scrap" 1 FRAME
""")
    assert book.errors == []
    assert book.money("Expenses:Variances:Scrap") == D("7.50") + D("9.90")
    assert book.units(RIP, "STEEL") == 100 - 4 - 3
    assert book.units(FG, "FRAME") == 1


def test_count_books_the_difference_after_the_days_other_events(ledger):
    # The count is written before the day's production but runs after it (SPEC: count
    # and close run after all other events of their date).
    book = ledger(bike_standards(), STOCKED + """
2026-01-06 custom "backflush" "count" 78 STEEL
2026-01-06 custom "backflush" "produce" 10 FRAME
2026-01-07 custom "backflush" "count" 11 FRAME
""")
    assert book.errors == []
    # Book 80 kg after production, counted 78: 2 kg x 2.50 unfavourable usage.
    assert book.money("Expenses:Variances:MaterialUsage") == D("5.00")
    assert book.units(RIP, "STEEL") == 78
    # One FRAME more than the books: favourable shrinkage of 9.90.
    assert book.money("Expenses:Variances:Shrinkage") == D("-9.90")
    assert book.units(FG, "FRAME") == 11
    count = book.generated("count")[0]
    assert count.meta["backflush_book"] == 80


def test_unbuild_reverses_a_completion(ledger):
    book = ledger(bike_standards(), STOCKED + """
2026-01-06 custom "backflush" "produce" 10 FRAME
2026-01-07 custom "backflush" "unbuild" 4 FRAME
""")
    assert book.errors == []
    assert book.units(FG, "FRAME") == 6
    assert book.units(RIP, "STEEL") == 100 - 12
    assert book.money(LABOR_ALLOCATED) == D("-18.00")


def test_customer_return_reverses_cogs_and_revenue(ledger):
    book = ledger(bike_standards(), STOCKED + """
2026-01-06 custom "backflush" "produce" 2 FRAME
2026-01-08 custom "backflush" "sell" 2 FRAME 60.00 USD
2026-01-10 custom "backflush" "return" 1 FRAME 30.00 USD
""")
    assert book.errors == []
    assert book.units(FG, "FRAME") == 1
    assert book.money(COGS) == D("9.90")
    assert book.money("Income:Sales") == D("-30.00")
    assert book.money("Assets:AccountsReceivable") == D("30.00")


def test_imported_receipt_at_non_standard_cost_is_repriced_with_ppv(ledger):
    book = ledger(bike_standards(), """
2026-01-10 * "Steel Co" "Invoice 881 (imported)"
  Assets:Inventory:RawInProcess  500 STEEL {2.60 USD}
  Liabilities:AccountsPayable   -1300.00 USD
""")
    assert book.errors == []
    ((item, lot_cost),) = book.lots(RIP)
    assert item == "STEEL" and book.units(RIP, "STEEL") == 500
    assert lot_cost.number == D("2.50") and lot_cost.date == datetime.date(2026, 1, 1)
    assert book.money(PPV) == D("50.00")
    txn = next(t for t in book.transactions() if t.narration.startswith("Invoice 881"))
    assert txn.meta["backflush"] == "reprice" and "backflush" in txn.tags


def test_one_lot_per_item_and_standard(ledger):
    book = ledger(bike_standards(), """
2026-01-05 custom "backflush" "purchase" 100 STEEL 260.00 USD
2026-02-05 custom "backflush" "purchase" 50 STEEL 120.00 USD
2026-03-01 * "Imported"
  Assets:Inventory:RawInProcess  10 STEEL {2.40 USD}
  Liabilities:AccountsPayable
""")
    assert book.errors == []
    assert len(book.lots(RIP)) == 1
    assert sum(book.lots(RIP).values()) == 160


def test_generated_transactions_point_back_to_their_directive(ledger):
    book = ledger(bike_standards(), STOCKED + """
2026-01-06 custom "backflush" "produce" 10 FRAME
  batch: "B-17"
""")
    produce = book.generated("produce")[0]
    assert produce.meta["filename"] == str(book.path)
    assert produce.meta["lineno"] == line_of(book.path, '"produce" 10 FRAME')
    assert produce.meta["batch"] == "B-17"                   # the directive's metadata
    assert produce.meta["backflush_item"] == "FRAME"
    assert produce.meta["backflush_quantity"] == 10
    assert "backflush" in produce.tags
    # No per-directive link unless asked for (links: true): file:line is the audit trail.
    assert produce.links == frozenset()


def test_directives_are_consumed_and_the_standards_file_is_watched(ledger):
    book = ledger(bike_standards(), STOCKED)
    customs = [e for e in book.entries if type(e).__name__ == "Custom"]
    assert customs == []
    assert str(book.path.parent / "standards.yaml") in book.options["include"]

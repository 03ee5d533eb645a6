"""Horngren, Datar & Rajan, Cost Accounting, "Backflush costing": Silicon Valley Computer.

Standard direct materials $19 a unit and conversion $12 a unit; materials purchased
$1,950,000 (no price variance), conversion incurred $1,260,000; 100,000 units completed,
99,000 sold. Direct materials are modelled as 19 units of a $1.00 material per computer.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

D = Decimal

STANDARDS = """
currency: USD
triggers: {triggers}
accounts:
  raw_in_process: Assets:Inventory:RawInProcess
  finished_goods: Assets:Inventory:FinishedGoods
  materials_clearing: Expenses:Materials:Clearing
  cogs: Expenses:COGS
conversion:
  conversion: {{incurred: Expenses:Conversion, allocated: Expenses:Conversion:Allocated}}
close: {{disposition: {disposition}}}
materials:
  DM: {{cost: 1.00}}
products:
  COMPUTER: {{bom: {{DM: 19}}, conversion: {{conversion: 12.00}}}}
"""

LEDGER = """
2026-01-02 custom "backflush" "purchase" 1950000 DM 1950000.00 USD
2026-01-31 * "Conversion costs incurred"
  Expenses:Conversion  1260000.00 USD
  Liabilities:Wages
2026-01-31 custom "backflush" "produce" 100000 COMPUTER
2026-01-31 custom "backflush" "sell" 99000 COMPUTER
2026-01-31 custom "backflush" "close"
"""

RIP = "Assets:Inventory:RawInProcess"
FG = "Assets:Inventory:FinishedGoods"
COGS = "Expenses:COGS"


def load(ledger, triggers: str, disposition: str = "cogs"):
    book = ledger(STANDARDS.format(triggers=triggers, disposition=disposition), LEDGER)
    assert book.errors == []
    return book


def test_variant_1_purchase_completion_sale(ledger):
    book = load(ledger, "[purchase, completion, sale]")
    assert book.money(RIP) == D("50000.00")           # 50,000 of materials not yet used
    assert book.units(RIP, "DM") == D(50000)
    assert book.money(FG) == D("31000.00")            # 1,000 computers at $31
    assert book.units(FG, "COMPUTER") == D(1000)
    # COGS at standard 3,069,000 plus the 60,000 under-allocated conversion written off.
    assert book.money(COGS) == D("3129000.00")
    assert book.money("Expenses:Conversion") == D(0)
    assert book.money("Expenses:Conversion:Allocated") == D(0)
    assert book.money("Liabilities:AccountsPayable") == D("-1950000.00")
    assert book.money("Expenses:Variances:PurchasePrice") == D(0)


def test_variant_1_prorated(ledger):
    # The textbook's proration: 60,000 split by conversion in FG (12,000) and COGS
    # (1,188,000): 600 to finished goods, 59,400 to cost of goods sold.
    book = load(ledger, "[purchase, completion, sale]", "prorate")
    assert book.money(FG + ":Adjustment") == D("600.00")
    assert book.money(RIP + ":Adjustment") == D(0)
    assert book.money(COGS) == D("3069000.00") + D("59400.00")


def test_variant_2_purchase_sale(ledger):
    book = load(ledger, "[purchase, sale]")
    # Materials and in-process: 1,950,000 - 99,000 x 19 = 69,000 (50,000 raw, 19,000 in FG).
    assert book.money(RIP) == D("69000.00")
    assert book.units(RIP, "DM") == D(69000)
    assert book.money(FG) == D(0)
    # Allocated at sale 99,000 x 12 = 1,188,000; 72,000 under-allocated written off.
    assert book.money(COGS) == D("3069000.00") + D("72000.00")
    assert book.money("Expenses:Conversion") == D(0)
    produce = book.generated("produce")
    assert len(produce) == 1 and produce[0].postings == []  # recorded, nothing posted


def test_variant_3_completion_sale(ledger):
    book = load(ledger, "[completion, sale]")
    assert book.money(RIP) == D(0)
    # Bought and not yet used stays visible in the clearing account, at actual.
    assert book.money("Expenses:Materials:Clearing") == D("50000.00")
    assert book.money(FG) == D("31000.00")
    assert book.money(COGS) == D("3129000.00")
    assert book.money("Liabilities:AccountsPayable") == D("-1950000.00")


@pytest.mark.parametrize("triggers", ["[purchase, completion, sale]", "[purchase, sale]",
                                      "[completion, sale]"])
def test_every_generated_transaction_balances(ledger, triggers):
    book = load(ledger, triggers)
    for txn in book.generated():
        weight = sum((p.units.number * (p.cost.number if p.cost else 1) for p in txn.postings),
                     D(0))
        assert weight == 0, txn

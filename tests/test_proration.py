"""A published proration example, to the cent.

Blocher, Stout, Juras & Smith, *Cost Management: A Strategic Emphasis*, problem "Proration
of variances" (Butrico Manufacturing Corporation). Year-end balances at standard: raw
materials 65,000; finished goods: direct materials 87,000, direct labor 130,500, overhead
104,400; cost of goods sold: direct materials 348,000, direct labor 739,500, overhead
591,600. Variances: materials price 10,000 U, materials usage 15,000 F, labor rate 20,000 U,
labor efficiency 5,000 F; overhead incurred 690,000 (applied 696,000). No opening
inventories, no ending WIP. The book's answers (rounded to the dollar): direct materials in
finished goods after proration 85,732; direct labor in finished goods 132,750; cost of goods
sold 1,681,678.

The ledger below produces exactly those balances with two products: A (1 M, labor 1.50,
overhead 1.20) and B (1 M, labor 2.75, overhead 2.20); 261,000 A and 174,000 B made,
174,000 of each sold; 485,000 M bought for 495,000.00 and 65,000 counted at year end.
"""

from __future__ import annotations

from decimal import Decimal

from standards_bike import COGS, FG, PPV, RIP

D = Decimal

STANDARDS = """
currency: USD
accounts:
  raw_in_process: Assets:Inventory:RawInProcess
  finished_goods: Assets:Inventory:FinishedGoods
  cogs: Expenses:COGS
conversion:
  labor: {incurred: Expenses:Conversion:Labor, allocated: Expenses:Conversion:Labor:Allocated}
  overhead:
    incurred: Expenses:Conversion:Overhead
    allocated: Expenses:Conversion:Overhead:Allocated
close: {disposition: prorate, variances: [purchase_price, usage]}
materials:
  M: {cost: 1.00}
products:
  A: {bom: {M: 1}, conversion: {labor: 1.50, overhead: 1.20}}
  B: {bom: {M: 1}, conversion: {labor: 2.75, overhead: 2.20}}
"""

LEDGER = """
2026-01-02 custom "backflush" "purchase" 485000 M 495000.00 USD
2026-06-01 custom "backflush" "produce" 261000 A
2026-06-01 custom "backflush" "produce" 174000 B
2026-09-01 custom "backflush" "sell" 174000 A
2026-09-01 custom "backflush" "sell" 174000 B
2026-12-30 * "Payroll and overhead for the year"
  Expenses:Conversion:Labor     885000.00 USD
  Expenses:Conversion:Overhead  690000.00 USD
  Liabilities:Wages
2026-12-31 custom "backflush" "count" 65000 M
2026-12-31 custom "backflush" "close"
"""


def test_butrico_proration_to_the_cent(ledger):
    book = ledger(STANDARDS, LEDGER)
    assert book.errors == []
    # Before the close, at standard: the problem's balances.
    assert book.money(RIP) == D("65000.00")
    assert book.money(FG) == D("87000") + D("130500") + D("104400")
    assert book.money("Expenses:Variances:MaterialUsage") == 0  # closed, was -15,000

    # Price variance 10,000 over material content 65,000 (RIP) + 87,000 (FG) + 348,000
    # (COGS) - 15,000 (usage) = 485,000: RIP 1,340.21, FG 1,793.81, usage -309.28,
    # COGS 7,175.26. Usage -15,309.28 over FG 87,000 and COGS 348,000: FG -3,061.86,
    # COGS -12,247.42. Labor 15,000 and overhead -6,000 by FG's share of each pool
    # (130,500 / 870,000 = 104,400 / 696,000 = 15 %): FG 2,250.00 and -900.00.
    assert book.money(RIP + ":Adjustment") == D("1340.21")
    assert book.money(FG + ":Adjustment") == D("1793.81") - D("3061.86") + D("2250") - D("900")
    fg_materials = D("87000") + D("1793.81") - D("3061.86")
    assert fg_materials == D("85731.95")  # the book: 85,732
    assert D("130500") + D("2250.00") == D("132750")  # the book: 132,750
    assert book.money(COGS) == D("1681677.84")  # the book: 1,681,678
    assert book.money(PPV) == 0


def test_without_usage_closed_its_price_share_goes_to_cogs(ledger):
    # The usage variance stays in its account (a period cost): the price variance's share
    # on it (-309.28) is expensed with it, in COGS.
    book = ledger(STANDARDS.replace("[purchase_price, usage]", "[purchase_price]"), LEDGER)
    assert book.errors == []
    assert book.money(RIP + ":Adjustment") == D("1340.21")
    assert book.money(FG + ":Adjustment") == D("1793.81") + D("2250") - D("900")
    assert book.money("Expenses:Variances:MaterialUsage") == D("-15000.00")
    assert book.money(COGS) == D("1679100") + D("7175.26") - D("309.28") + D("12750") - D("5100")

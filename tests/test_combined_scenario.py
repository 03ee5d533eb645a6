"""Two months of a brewery using every release-2 feature at once, checked to the cent.

Standards (per good unit):
- WORT: MALT 20 kg + 2 % planned scrap, 0.5 kg HOPS, 1.5 labor hours, yield 0.8, 15 kg of
  SPENT grain by-product: MALT 25.5 kg (25.50), HOPS 0.625 kg (6.25), less SPENT 15 x 0.10
  (1.50): materials 30.25; labor 1.875 h x 20.00 = 37.50; total 67.75.
- BREW, a process: 1 WORT + 0.5 labor hour (10.00) = 77.75, with co-products LAGER (100 a
  batch, 90 % of the cost: 0.69975 each) and ALE (20 a batch, 10 %: 0.38875 each).

January: MALT 300 kg for 330.00 USD (PPV 30.00); HOPS 10 kg for 100.00 EUR at 1.10 =
110.00 (PPV 10.00); 10 WORT using 260 kg MALT (5 kg over the 255 allowed: usage 5.00),
receiving 150 kg SPENT; 10 BREW into 1,000 LAGER (699.75) and 200 ALE (77.75); 1 kg HOPS
back to the supplier for 11.00 (PPV -1.00); 500 LAGER sold (COGS 349.875 -> 349.88); 25
labor hours paid 500.00. Close: labor allocated 375.00 + 100.00 = 475.00 (23.75 hours
allowed): efficiency (25 - 23.75) x 20 = 25.00, spending 0; COGS + 39.00 + 5.00 + 25.00.

February: 10 WORT again with 40 kg MALT and 2.75 kg HOPS on hand: 215 kg MALT and 3.5 kg
HOPS go to the backlog; 300 kg MALT for 300.00 EUR at 1.20 = 360.00 (PPV 60.00) clear
215 kg first; 10 kg HOPS for 100.00 clear 3.5 kg; 200 ALE sold (77.75); counted 80 kg MALT
against 85 (usage 5.00); 18 hours paid 400.00 for 18.75 allowed: efficiency -15.00,
spending 40.00. Close: COGS + 60.00 + 5.00 + 25.00.
"""

from __future__ import annotations

from decimal import Decimal

D = Decimal
RIP = "Assets:Inventory:RawInProcess"
FG = "Assets:Inventory:FinishedGoods"
COGS = "Expenses:COGS"
BACKLOG = "Liabilities:Backflush:Backlog"

STANDARDS = """
currency: USD
auto_open: true
negative_stock: backlog
accounts:
  raw_in_process: Assets:Inventory:RawInProcess
  finished_goods: Assets:Inventory:FinishedGoods
  cogs: Expenses:COGS
conversion:
  labor: {incurred: Expenses:Labor, allocated: Expenses:Labor:Allocated,
          driver: hours, rate: 20.00}
close: {disposition: cogs, variances: [purchase_price, usage]}
materials:
  MALT: {cost: 1.00, unit: kg}
  HOPS: {cost: 10.00, unit: kg}
  SPENT: {cost: 0.10, unit: kg}
products:
  WORT:
    bom: {MALT: {qty: 20, scrap: 0.02}, HOPS: 0.5}
    conversion: {labor: 1.5}
    yield: 0.8
    byproducts: {SPENT: 15}
  BREW:
    bom: {WORT: 1}
    conversion: {labor: 0.5}
    outputs: {LAGER: {qty: 100, share: 0.9}, ALE: {qty: 20, share: 0.1}}
"""

LEDGER = """
2026-01-02 price EUR 1.10 USD
2026-01-03 custom "backflush" "purchase" 300 MALT 330.00 USD
2026-01-03 custom "backflush" "purchase" 10 HOPS 100.00 EUR
2026-01-10 custom "backflush" "produce" 10 WORT 260 MALT
2026-01-11 custom "backflush" "produce" 10 BREW
2026-01-15 custom "backflush" "return-to-supplier" 1 HOPS 11.00 USD
2026-01-20 custom "backflush" "sell" 500 LAGER 1000.00 USD
2026-01-31 * "January wages"
  Expenses:Labor  500.00 USD
  Assets:Bank
2026-01-31 custom "backflush" "activity" "labor" 25
2026-01-31 custom "backflush" "close" 69.00 USD
2026-02-01 custom "backflush" "produce" 10 WORT
2026-02-05 price EUR 1.20 USD
2026-02-05 custom "backflush" "purchase" 300 MALT 300.00 EUR
2026-02-05 custom "backflush" "purchase" 10 HOPS 100.00 USD
2026-02-20 custom "backflush" "sell" 200 ALE 100.00 USD
2026-02-28 * "February wages"
  Expenses:Labor  400.00 USD
  Assets:Bank
2026-02-28 custom "backflush" "activity" "labor" 18
2026-02-28 custom "backflush" "count" 80 MALT
2026-02-28 custom "backflush" "close" 90.00 USD
"""


def test_two_months_of_every_feature_to_the_cent(ledger):
    book = ledger(STANDARDS, LEDGER)
    assert book.errors == [], book.messages()

    # Stock at the end: 80 kg MALT, 6.5 kg HOPS, 300 kg SPENT; 500 LAGER and 10 WORT.
    assert book.units(RIP, "MALT") == 80
    assert book.units(RIP, "HOPS") == D("6.5")
    assert book.units(RIP, "SPENT") == 300
    assert book.money(RIP) == D("80.00") + D("65.00") + D("30.00")
    assert book.units(FG, "LAGER") == 500 and book.units(FG, "ALE") == 0
    assert book.units(FG, "WORT") == 10
    assert book.money(FG) == D("349.875") + D("677.50")
    assert book.units(BACKLOG, "MALT") == 0 and book.units(BACKLOG, "HOPS") == 0

    # February's shortage went to the backlog, never to negative stock.
    (february,) = [t for t in book.generated("produce") if t.date.month == 2]
    backlog = {p.units.currency: p.units.number for p in february.postings if p.account == BACKLOG}
    assert backlog == {"MALT": D("-215"), "HOPS": D("-3.5")}

    # COGS: January 349.88 + 69.00, February 77.75 + 90.00; every variance closed.
    assert book.money(COGS) == D("418.88") + D("167.75")
    for kind in ("PurchasePrice", "MaterialUsage"):
        assert book.money(f"Expenses:Variances:{kind}") == 0
    splits = book.generated("conversion-variances")
    amounts = [
        {p.account: p.units.number for p in t.postings if "Variances" in p.account}
        for t in splits
    ]
    assert amounts == [
        {"Expenses:Variances:Efficiency:Labor": D("25.00")},
        {
            "Expenses:Variances:Spending:Labor": D("40.00"),
            "Expenses:Variances:Efficiency:Labor": D("-15.00"),
        },
    ]

    # The payables stay in the currency owed: 400.00 EUR, and 419.00 USD.
    assert book.money("Liabilities:AccountsPayable", "EUR") == D("-400.00")
    assert book.money("Liabilities:AccountsPayable") == D("-330.00") + D("11.00") - D("100.00")

    # Cost is conserved: 1,789.00 paid = inventory + COGS (+ the half cent of rounding).
    paid = D("330") + D("110") - D("11") + D("360") + D("100") + D("500") + D("400")
    held = book.money(RIP) + book.money(FG) + book.money(COGS)
    assert held + book.money("Expenses:Variances:Rounding") == paid
    assert abs(book.money("Expenses:Variances:Rounding")) < D("0.01")

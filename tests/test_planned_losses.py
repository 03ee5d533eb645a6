"""Planned scrap, yield and by-products: part of the standard cost, posted at standard.

A brewery line: WORT = 20 kg MALT (2.0 % planned scrap) + 0.5 kg HOPS, labor 40.00, yield
0.8 (a fifth of what is brewed is lost in the process), each unit yielding 15 kg of SPENT
(spent grain, sold to a farmer at a standard of 0.10/kg).
"""

from __future__ import annotations

from decimal import Decimal

D = Decimal
RIP = "Assets:Inventory:RawInProcess"
FG = "Assets:Inventory:FinishedGoods"

STANDARDS = """
currency: USD
auto_open: true
triggers: {triggers}
accounts:
  raw_in_process: Assets:Inventory:RawInProcess
  finished_goods: Assets:Inventory:FinishedGoods
  materials_clearing: Expenses:Materials:Clearing
  cogs: Expenses:COGS
conversion:
  labor: {{incurred: Expenses:Labor, allocated: Expenses:Labor:Allocated}}
materials:
  MALT: {{cost: 1.00}}
  HOPS: {{cost: 10.00}}
  SPENT: {{cost: 0.10}}
products:
  WORT:
    bom: {{MALT: {{qty: 20, scrap: 0.02}}, HOPS: 0.5}}
    conversion: {{labor: 40.00}}
    yield: 0.8
    byproducts: {{SPENT: 15}}
"""


def standards(triggers: str = "[purchase, completion, sale]") -> str:
    return STANDARDS.format(triggers=triggers)


def test_the_standard_cost_carries_planned_scrap_yield_and_the_byproduct_credit(tmp_path):
    from beancount_backflush.standards import load_standards

    path = tmp_path / "standards.yaml"
    path.write_text(standards())
    std, errors = load_standards(str(path))
    assert errors == []
    import datetime

    rollup = std.rollup("WORT", datetime.date(2026, 1, 1))
    # Per good unit: MALT 20 x 1.02 / 0.8 = 25.5 kg; HOPS 0.5 / 0.8 = 0.625 kg;
    # labor 40 / 0.8 = 50.00. Materials 25.50 + 6.25 = 31.75, less the by-product
    # 15 x 0.10 = 1.50: 30.25; total 80.25.
    assert rollup.direct == {"MALT": D("25.5"), "HOPS": D("0.625")}
    assert rollup.material == D("30.25")
    assert rollup.total == D("80.25")
    # Planned loss: without scrap and yield, 20 + 5 + 40 = 65.00 of inputs; with them
    # 81.75: 16.75 of the standard is planned scrap and yield loss.
    assert rollup.planned_loss == D("16.75")


def test_produce_relieves_standard_quantities_and_receives_the_byproduct(ledger):
    book = ledger(
        standards(),
        """
2026-01-05 custom "backflush" "purchase" 1000 MALT 1000.00 USD
2026-01-05 custom "backflush" "purchase" 10 HOPS 100.00 USD
2026-01-06 custom "backflush" "produce" 10 WORT
""",
        opens=False,
    )
    assert book.errors == [], book.messages()
    assert book.units(RIP, "MALT") == 1000 - 255
    assert book.units(RIP, "HOPS") == D("10") - D("6.25")
    assert book.units(RIP, "SPENT") == 150
    assert book.money(FG) == D("802.50")
    assert book.money("Expenses:Labor:Allocated") == D("-500.00")
    # No variance: planned losses are part of the standard.
    assert book.money("Expenses:Variances:MaterialUsage") == 0
    assert book.money("Expenses:Variances:Rounding") == 0


def test_byproducts_under_completion_sale_go_to_clearing(ledger):
    book = ledger(
        standards("[completion, sale]"),
        """
2026-01-05 custom "backflush" "purchase" 1000 MALT 1000.00 USD
2026-01-05 custom "backflush" "purchase" 10 HOPS 100.00 USD
2026-01-06 custom "backflush" "produce" 10 WORT
""",
        opens=False,
    )
    assert book.errors == [], book.messages()
    # Clearing: 1,100.00 bought, less materials used at standard (255 + 62.50), plus the
    # by-product received at standard (15.00).
    assert book.money("Expenses:Materials:Clearing") == D("1100") - D("317.50") + D("15.00")


def test_byproducts_need_the_completion_trigger(ledger):
    book = ledger(
        standards("[purchase, sale]"),
        """
2026-01-05 custom "backflush" "purchase" 1000 MALT 1000.00 USD
2026-01-06 custom "backflush" "produce" 10 WORT
""",
        opens=False,
    )
    assert "which need the completion trigger" in book.messages()[0]


def test_bad_scrap_yield_and_byproduct_lines_are_located(tmp_path):
    from beancount_backflush.standards import load_standards

    text = standards().replace("scrap: 0.02", "scrap: -1").replace("yield: 0.8", "yield: 1.5")
    text = text.replace("SPENT: 15}", "SPENT: 15, WORT: 1}")
    path = tmp_path / "standards.yaml"
    path.write_text(text)
    std, errors = load_standards(str(path))
    assert std is None
    lines = path.read_text().splitlines()
    by_line = {e.source["lineno"]: e.message for e in errors}

    def at(needle: str) -> str:
        return by_line[next(i for i, t in enumerate(lines, 1) if needle in t)]

    assert "planned scrap of MALT" in at("scrap:")
    assert "at most 1" in at("yield:")
    assert "WORT -> WORT" in at("byproducts")


# -- co-products -------------------------------------------------------------------------------

BREWERY = """
currency: USD
auto_open: true
accounts:
  raw_in_process: Assets:Inventory:RawInProcess
  finished_goods: Assets:Inventory:FinishedGoods
  cogs: Expenses:COGS
conversion:
  labor: {incurred: Expenses:Labor, allocated: Expenses:Labor:Allocated}
materials:
  MALT: {cost: {2026-01-01: 1.00, 2026-02-01: 1.10}}
  HOPS: {cost: 10.00}
products:
  BREW:
    bom: {MALT: 200, HOPS: 2}
    conversion: {labor: 300.00}
    outputs: {LAGER: {qty: 100, share: 0.9}, ALE: {qty: 20, share: 0.1}}
"""


def test_a_process_receives_its_coproducts_at_their_share_of_its_cost(ledger):
    book = ledger(
        BREWERY,
        """
2026-01-05 custom "backflush" "purchase" 1000 MALT 1000.00 USD
2026-01-05 custom "backflush" "purchase" 10 HOPS 100.00 USD
2026-01-06 custom "backflush" "produce" 2 BREW
2026-01-07 custom "backflush" "sell" 10 LAGER 30.00 USD
2026-01-08 custom "backflush" "count" 39 ALE
2026-01-09 custom "backflush" "sell" 1 BREW
2026-01-09 custom "backflush" "produce" 1 LAGER
2026-02-02 custom "backflush" "unbuild" 1 BREW
""",
        opens=False,
    )
    # A batch of BREW costs 200 + 20 + 300 = 520.00: LAGER 0.9 x 520 / 100 = 4.68 a unit,
    # ALE 0.1 x 520 / 20 = 2.60 a unit. Two batches: 200 LAGER 936.00 + 40 ALE 104.00.
    assert book.money("Expenses:COGS") == D("46.80")  # 10 LAGER
    assert book.money("Expenses:Variances:Shrinkage") == D("2.60")  # one ALE missing
    messages = book.messages()
    assert any("BREW is a process" in m for m in messages)
    assert any("LAGER is a co-product of BREW" in m for m in messages)
    # February: MALT 1.10, a batch 540.00, LAGER 4.86 and ALE 2.70. The 190 LAGER and 39 ALE
    # were revalued on 02-01; the unbuild takes 100 LAGER and 20 ALE back apart.
    assert book.units(FG, "LAGER") == 90 and book.units(FG, "ALE") == 19
    assert book.money(FG) == 90 * D("4.86") + 19 * D("2.70")
    assert book.units(RIP, "MALT") == 800
    assert len(messages) == 2


def test_coproduct_shares_must_sum_to_one(tmp_path):
    from beancount_backflush.standards import load_standards

    path = tmp_path / "standards.yaml"
    path.write_text(BREWERY.replace("share: 0.1", "share: 0.2"))
    std, errors = load_standards(str(path))
    assert std is None
    (error,) = errors
    assert "the cost shares must sum to 1, they sum to 1.1" in error.message
    lines = path.read_text().splitlines()
    assert error.source["lineno"] == next(i for i, t in enumerate(lines, 1) if "outputs:" in t)

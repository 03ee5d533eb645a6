"""Property tests: invariants that hold on every generated ledger.

Hypothesis draws a standards file (materials with effective-dated costs, products with
multi-level BOMs, stocked subassemblies and phantoms, dated BOM and conversion changes,
many-decimal costs, fractional quantities) under one trigger variant, disposition,
schedule and negative-stock setting, and a sequence of events (purchase, produce, sell
with and without revenue, scrap, count, unbuild, return, close, conversion costs incurred,
imported receipts at a non-standard cost). For every such ledger:

- no error but the expected stock shortfalls (and uninventoried warnings);
- every generated (or re-priced) transaction balances exactly: the sum of weights is 0;
- cash postings (other than the sub-cent rounding residue) have the currency's precision;
- every lot is at the standard in force; one lot per item per inventory account at the end
  of each day; no lot negative unless ``negative_stock: allow``;
- units: each event moves exactly the units its BOM says; a revaluation moves none;
- cost conservation: the actual costs (purchase invoices, conversion incurred, imported
  receipts) equal, to the cent, the book value of inventory at standard + adjustments +
  COGS + variances + conversion + clearing; revenue and receivables net to zero;
- ``bean-backflush expand`` output loads without the plugin with zero errors and identical
  balances per (account, currency, cost).

CI runs the "ci" profile (a few dozen examples per test). Thorough run (docs/testing.md):

    HYPOTHESIS_PROFILE=thorough .venv/bin/python -m pytest tests/test_properties.py
"""

from __future__ import annotations

import datetime
import os
import tempfile
import textwrap
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from beancount import loader
from beancount.core import data
from beancount.core.amount import Amount
from beancount.parser.grammar import ValueType
from conftest import OPEN_ACCOUNTS
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from beancount_backflush.cli import expand_text
from beancount_backflush.events import Event, bind, bind_slots
from beancount_backflush.eventtable import EVENT_TYPES
from beancount_backflush.standards import Standards, load_standards

D = Decimal
ZERO = D(0)
START = datetime.date(2026, 1, 1)
DAYS = 120
RIP = "Assets:Inventory:RawInProcess"
FG = "Assets:Inventory:FinishedGoods"
CLEARING = "Expenses:Materials:Clearing"
PAYABLE = "Liabilities:AccountsPayable"
WAGES = "Liabilities:Wages"
RECEIVABLE = "Assets:AccountsReceivable"
REVENUE = "Income:Sales"
ROUNDING = "Expenses:Variances:Rounding"
BACKLOG = "Liabilities:Backflush:Backlog"
COST_ACCOUNTS = {
    RIP,
    RIP + ":Adjustment",
    FG,
    FG + ":Adjustment",
    CLEARING,
    "Expenses:COGS",
    "Expenses:Variances:PurchasePrice",
    "Expenses:Variances:MaterialUsage",
    "Expenses:Variances:Shrinkage",
    "Expenses:Variances:Scrap",
    "Expenses:Variances:Revaluation",
    ROUNDING,
    BACKLOG,
    "Expenses:Conversion:Labor",
    "Expenses:Conversion:Labor:Allocated",
    "Expenses:Conversion:Overhead",
    "Expenses:Conversion:Overhead:Allocated",
}
VARIANTS = {
    "purchase-completion-sale": "[purchase, completion, sale]",
    "purchase-sale": "[purchase, sale]",
    "completion-sale": "[completion, sale]",
}
SHORTFALLS = ("not enough stock", "completed and not yet sold")
# Not about stock: a listed actual component that the BOM in force does not have.
ALWAYS_POSSIBLE = ("is not a component of", "with open backlog", "need the completion trigger")
# Whatever the negative-stock policy: stock that was never there cannot come back.
NEVER_ALLOWED = (
    "a return cannot put back more than was sold",
    "an unbuild cannot take apart more than was made",
    "a second close on the same day",
    "only what is held can be sent back",
)


def day(offset: int) -> datetime.date:
    return START + datetime.timedelta(days=offset)


# -- strategies ----------------------------------------------------------------------------------


def decimals(low: int, high: int, places: int) -> st.SearchStrategy[Decimal]:
    """Positive decimals n x 10^-e, with up to ``places`` decimals."""
    return st.builds(
        lambda n, e: D(n).scaleb(-e), st.integers(low, high), st.integers(0, places)
    ).filter(lambda d: d > 0)


# Bounded so that a product's rolled-up cost (cost x quantity over up to four BOM levels)
# stays under the standards file's limit of 1e12 per unit.
COSTS = decimals(1, 10_000, 6)  # 0.000001 .. 10,000 with up to six decimals
BOM_QTY = decimals(1, 40, 3)  # 0.001 .. 40
RATES = st.one_of(st.just(ZERO), decimals(1, 30_000, 4))
QTY = decimals(1, 300, 2)  # 0.01 .. 300 units
SCRAP = st.integers(1, 50).map(lambda n: D(n).scaleb(-2))  # planned scrap 0.01 .. 0.50
YIELD = st.integers(50, 100).map(lambda n: D(n).scaleb(-2))  # 0.50 .. 1.00
MONEY = st.builds(lambda n: D(n).scaleb(-2), st.integers(0, 5_000_000))


@dataclass
class Scenario:
    variant: str
    disposition: str
    schedule: str
    negative_stock: str
    materiality: str
    pools_shared: bool
    materials: dict[str, dict[int, Decimal]]  # name -> {day offset: cost}; -1 = undated
    products: dict[str, dict[str, Any]]
    events: list[tuple[int, str]] = field(default_factory=list)  # (day, ledger text)
    actual_cost: Decimal = ZERO  # purchases + conversion incurred + imported receipts

    def standards_yaml(self) -> str:
        lines = [
            "currency: USD",
            f"triggers: {VARIANTS[self.variant]}",
            "accounts:",
            f"  raw_in_process: {RIP}",
            f"  finished_goods: {FG}",
            f"  materials_clearing: {CLEARING}",
            "  cogs: Expenses:COGS",
            "conversion:",
        ]
        for pool in ("labor", "overhead"):
            title = pool.title()
            allocated = "" if self.pools_shared else f", allocated: Expenses:Conversion:{title}"
            allocated = allocated and allocated + ":Allocated"
            lines.append(f"  {pool}: {{incurred: Expenses:Conversion:{title}{allocated}}}")
        lines += [
            "close:",
            f"  disposition: {self.disposition}",
            f"  materiality: {self.materiality}",
            "  variances: [purchase_price, usage]",
            f"  schedule: {self.schedule}",
            f"negative_stock: {self.negative_stock}",
            "warn_uninventoried: 1000000",
            "materials:",
        ]
        for name, cost in self.materials.items():
            lines.append(f"  {name}: {{cost: {dated(cost)}}}")
        lines.append("products:")
        for name, spec in self.products.items():
            parts = [f"bom: {dated(spec['bom'])}"]
            if spec["conversion"]:
                parts.append(f"conversion: {dated(spec['conversion'])}")
            if spec["phantom"]:
                parts.append("phantom: true")
            if spec.get("yield"):
                parts.append(f"yield: {spec['yield']}")
            if spec.get("byproducts"):
                parts.append(f"byproducts: {flow(spec['byproducts'])}")
            lines.append(f"  {name}: {{{', '.join(parts)}}}")
        return "\n".join(lines) + "\n"

    def ledger_text(self, standards_path: str) -> str:
        body = "".join(text for _, text in sorted(self.events, key=lambda e: e[0]))
        return f'plugin "beancount_backflush" "{standards_path}"\n' + OPEN_ACCOUNTS + body


def flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in value.items()) + "}"
    return str(value)


def dated(versions: dict[int, Any]) -> str:
    if list(versions) == [-1]:
        return flow(versions[-1])
    return "{" + ", ".join(f"{day(d)}: {flow(v)}" for d, v in sorted(versions.items())) + "}"


def versions(draw: Any, values: st.SearchStrategy[Any], change_days: list[int]) -> dict:
    if not change_days or draw(st.booleans()):
        return {-1: draw(values)}
    later = draw(st.lists(st.sampled_from(change_days), unique=True, min_size=1))
    return {d: draw(values) for d in sorted({0, *later})}


def leaves(products: dict[str, dict[str, Any]], product: str) -> set[str]:
    """Components a batch of ``product`` may list: direct ones, and phantoms' leaves."""
    found: set[str] = set()
    for bom in products[product]["bom"].values():
        for name in bom:
            if name in products and products[name]["phantom"]:
                found |= leaves(products, name)
            else:
                found.add(name)
    return found


@st.composite
def scenarios(draw: Any, max_events: int = 40) -> Scenario:
    variant = draw(st.sampled_from(sorted(VARIANTS)))
    change_days = sorted(draw(st.sets(st.integers(1, DAYS - 1), max_size=2)))
    materials = {
        f"M{i}": versions(draw, COSTS, change_days) for i in range(draw(st.integers(1, 3)))
    }
    products: dict[str, dict[str, Any]] = {}
    for i in range(draw(st.integers(1, 4))):
        choices = [*materials, *products]

        def boms(choices: list[str] = choices) -> st.SearchStrategy[dict[str, Any]]:
            # A line is a quantity, or a quantity with planned scrap.
            line = st.one_of(
                BOM_QTY, st.fixed_dictionaries({"qty": BOM_QTY, "scrap": SCRAP})
            )
            return st.dictionaries(st.sampled_from(choices), line, min_size=1, max_size=3)

        rates = st.dictionaries(st.sampled_from(["labor", "overhead"]), RATES, max_size=2)
        conversion = draw(st.booleans())
        products[f"P{i}"] = {
            "bom": versions(draw, boms(), change_days),
            "conversion": versions(draw, rates, change_days) if conversion else None,
            "phantom": i < 3 and draw(st.integers(0, 3)) == 0,
        }
        if not products[f"P{i}"]["phantom"]:
            if draw(st.booleans()):
                products[f"P{i}"]["yield"] = draw(YIELD)
            if draw(st.integers(0, 3)) == 0:  # a by-product: a material, at its standard
                byproduct = draw(st.sampled_from(list(materials)))
                products[f"P{i}"]["byproducts"] = {byproduct: draw(SCRAP)}
    s = Scenario(
        variant=variant,
        disposition=draw(st.sampled_from(["cogs", "prorate"])),
        schedule=draw(st.sampled_from(["explicit", "monthly"])),
        negative_stock=draw(st.sampled_from(["error", "allow", "backlog"])),
        materiality=draw(st.sampled_from(["0", "0.1"])),
        pools_shared=draw(st.booleans()),
        materials=materials,
        products=products,
    )
    stocked = [p for p, spec in products.items() if not spec["phantom"]]
    mats = list(materials)
    kinds = ["purchase", "purchase", "conversion", "close", "return-to-supplier"]
    if stocked:
        kinds += ["produce", "produce", "sell", "return", "unbuild"]
    if variant != "completion-sale":
        kinds += ["import", "count", "scrap"]
    elif stocked:
        kinds += ["count", "scrap", "import"]
    for _ in range(draw(st.integers(1, max_events))):
        d = draw(st.integers(0, DAYS - 1))
        date = day(d)
        kind = draw(st.sampled_from(kinds))
        qty = draw(QTY)
        if kind in ("purchase", "return-to-supplier"):
            total = draw(MONEY)
            if kind == "purchase":  # credits are counted from what was posted (a return
                s.actual_cost += total  # may be refused for want of stock)
            item = draw(st.sampled_from(mats))
            text = f'{date} custom "backflush" "{kind}" {qty} {item} {total} USD\n'
        elif kind == "conversion":
            amount = draw(MONEY)
            s.actual_cost += amount
            pool = draw(st.sampled_from(["Labor", "Overhead"]))
            text = f'{date} * "Conversion incurred"\n  Expenses:Conversion:{pool}  {amount} USD\n'
            text += f"  {WAGES}  {-amount} USD\n"
        elif kind == "close":
            text = f'{date} custom "backflush" "close"\n'
        elif kind == "import":
            # An imported receipt at its own (non-standard) cost, re-priced at standard.
            cost = draw(COSTS)
            to_fg = variant == "completion-sale" or (
                variant != "purchase-sale" and draw(st.booleans())
            )
            if stocked and to_fg:
                item, account = draw(st.sampled_from(stocked)), FG
            else:
                item, account = draw(st.sampled_from(mats)), RIP
            s.actual_cost += qty * cost
            text = f'{date} * "Imported receipt"\n  {account}  {qty:f} {item} {{{cost:f} USD}}\n'
            text += f"  {PAYABLE}  {-(qty * cost):f} USD\n"
        elif kind in ("count", "scrap"):
            if variant == "purchase-completion-sale":
                item = draw(st.sampled_from(mats + stocked))
            else:
                item = draw(st.sampled_from(mats if variant == "purchase-sale" else stocked))
            if kind == "count":
                qty = draw(st.one_of(st.just(ZERO), QTY))
            text = f'{date} custom "backflush" "{kind}" {qty} {item}\n'
        else:  # produce, sell, return, unbuild
            pool = (
                stocked
                if kind in ("produce", "unbuild") or variant == "completion-sale"
                else (stocked + mats)
            )
            item = draw(st.sampled_from(pool))
            revenue = ""
            if kind in ("sell", "return") and draw(st.booleans()):
                revenue = f" {draw(MONEY)} USD"
            if kind == "produce" and variant != "purchase-sale" and draw(st.booleans()):
                # Actual consumption of one component of the batch (any version's BOM).
                component = draw(st.sampled_from(sorted(leaves(products, item))))
                revenue = f" {draw(QTY)} {component}"
            text = f'{date} custom "backflush" "{kind}" {qty} {item}{revenue}\n'
        s.events.append((d, text))
    return s


# -- loading and checking ------------------------------------------------------------------------


@dataclass
class Loaded:
    scenario: Scenario
    standards: Standards
    entries: list[data.Directive]
    errors: list[Any]
    options: dict[str, Any]


def load(s: Scenario) -> Loaded:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "standards.yaml")
        with open(path, "w") as file:
            file.write(s.standards_yaml())
        entries, errors, options = loader.load_string(s.ledger_text(path))
        standards, problems = load_standards(path)
    # A by-product worth more than its product is refused by design (a negative standard):
    # such a draw is not a ledger anyone can write.
    if any("by-products are worth more" in p.message for p in problems):
        assume(False)
    assert problems == [] and standards is not None, problems
    standards.base_date = datetime.date(2020, 1, 1)
    return Loaded(s, standards, entries, errors, options)


def weight(posting: data.Posting) -> Decimal:
    number = posting.units.number
    return number * posting.cost.number if posting.cost is not None else number


def transactions(loaded: Loaded) -> list[data.Transaction]:
    txns = [e for e in loaded.entries if isinstance(e, data.Transaction)]
    return sorted(txns, key=data.entry_sortkey)


def check_errors(loaded: Loaded) -> None:
    for error in loaded.errors:
        message = error.message
        if message.startswith("warning:") or any(
            s in message for s in NEVER_ALLOWED + ALWAYS_POSSIBLE
        ):
            continue
        assert loaded.scenario.negative_stock == "error", (message, error.source)
        assert any(s in message for s in SHORTFALLS), (message, error.source)
        assert not str(error.source.get("filename", "")).startswith("<load>")


def check_balanced(loaded: Loaded) -> None:
    for txn in transactions(loaded):
        if "backflush" not in txn.meta:
            continue
        assert sum((weight(p) for p in txn.postings), ZERO) == 0, txn
        for p in txn.postings:
            # The sub-cent residue of exact lot values goes to the rounding account; a
            # re-priced user transaction keeps the user's own numbers.
            mine = txn.meta["backflush"] != "reprice" or p.account.startswith("Expenses:Var")
            if p.cost is None and p.account != ROUNDING and mine:
                exponent = p.units.number.as_tuple().exponent
                assert isinstance(exponent, int) and exponent >= -2, (p, txn.meta)
            if p.cost is not None:
                assert p.cost.currency == "USD" and p.cost.date is not None


def check_lots(loaded: Loaded) -> None:
    """Standard in force; one lot per item per account at day ends; none negative."""
    std = loaded.standards
    lots: dict[tuple[str, str], dict[Any, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    by_day: dict[datetime.date, list[data.Transaction]] = defaultdict(list)
    for txn in transactions(loaded):
        by_day[txn.date].append(txn)
    for date in sorted(by_day):
        for txn in by_day[date]:
            for p in txn.postings:
                if p.cost is None or p.account not in (RIP, FG):
                    continue
                lots[(p.account, p.units.currency)][p.cost] += p.units.number
                in_force = [std.rollup(p.units.currency, date)]
                if txn.meta.get("backflush") == "revalue":  # the old lot going out
                    in_force.append(std.rollup(p.units.currency, date - datetime.timedelta(1)))
                lot = (p.cost.number, p.cost.date)
                assert lot in [(r.total, r.since) for r in in_force if r], (p, txn)
        for (account, item), held in lots.items():
            live = {cost: qty for cost, qty in held.items() if qty}
            assert len(live) <= 1, (date, account, item, live)
            if loaded.scenario.negative_stock in ("error", "backlog"):
                # Under backlog a shortage is held in the backlog account, never here.
                assert all(q > 0 for q in live.values()), (date, account, item, live)


def expected_units(loaded: Loaded, txn: data.Transaction) -> dict[tuple[str, str], Decimal]:
    """What an event should move, from the standards alone."""
    std, variant = loaded.standards, loaded.scenario.variant
    kind = txn.meta["backflush"]
    item, qty = txn.meta.get("backflush_item"), txn.meta.get("backflush_quantity")
    moves: dict[tuple[str, str], Decimal] = defaultdict(Decimal)

    def holding(name: str) -> str:
        return RIP if name in std.materials else FG

    if kind == "purchase" and variant != "completion-sale":
        moves[(RIP, item)] += qty
    elif kind == "return-to-supplier" and variant != "completion-sale":
        moves[(RIP, item)] -= qty
    elif kind in ("produce", "unbuild") and variant != "purchase-sale":
        sign = 1 if kind == "produce" else -1
        rollup = std.rollup(item, txn.date)
        moves[(FG, item)] += sign * qty
        actuals = txn.meta.get("backflush_actuals", "").split()
        actual = {actuals[i + 1]: D(actuals[i]) for i in range(0, len(actuals), 2)}
        for component, per in rollup.direct.items():
            if variant == "completion-sale" and component in std.materials:
                continue
            used = actual.get(component, qty * per)
            moves[(holding(component), component)] -= sign * used
        for byproduct, per in rollup.byproducts.items():
            if variant != "completion-sale":
                moves[(holding(byproduct), byproduct)] += sign * qty * per
    elif kind in ("sell", "return"):
        sign = 1 if kind == "sell" else -1
        rollup = std.rollup(item, txn.date)
        if variant == "purchase-sale" and item in std.products:
            for material, per in rollup.materials.items():
                moves[(RIP, material)] -= sign * qty * per
        else:
            moves[(holding(item), item)] -= sign * qty
    elif kind == "scrap":
        moves[(holding(item), item)] -= qty
    elif kind == "count":
        moves[(holding(item), item)] += qty - txn.meta["backflush_book"]
    return {k: v for k, v in moves.items() if v}


def check_units(loaded: Loaded) -> None:
    for txn in transactions(loaded):
        kind = txn.meta.get("backflush")
        if kind is None or kind == "reprice":
            continue
        moved: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for p in txn.postings:
            if p.cost is not None:
                account = p.account
                if account == BACKLOG:  # a shortage or its clearing: the item's own account
                    account = RIP if p.units.currency in loaded.standards.materials else FG
                moved[(account, p.units.currency)] += p.units.number
        moved = {k: v for k, v in moved.items() if v}
        assert moved == expected_units(loaded, txn), txn


def book_values(entries: list[data.Directive]) -> dict[str, Decimal]:
    values: dict[str, Decimal] = defaultdict(Decimal)
    for entry in entries:
        if isinstance(entry, data.Transaction):
            for p in entry.postings:
                values[p.account] += weight(p)
    return values


def check_conservation(loaded: Loaded) -> None:
    values = book_values(loaded.entries)
    credits = sum(
        (
            p.units.number
            for t in transactions(loaded)
            if t.meta.get("backflush") == "return-to-supplier"
            for p in t.postings
            if p.account == PAYABLE
        ),
        ZERO,
    )
    actual = loaded.scenario.actual_cost - credits
    assert -(values[PAYABLE] + values[WAGES]) == actual
    assert values[RECEIVABLE] + values[REVENUE] == 0
    other = {a for a, v in values.items() if v} - {PAYABLE, WAGES, RECEIVABLE, REVENUE}
    assert other <= COST_ACCOUNTS, other - COST_ACCOUNTS
    assert sum((values[a] for a in other), ZERO) == actual


def balances(entries: list[data.Directive]) -> dict[tuple[str, str, Any], Decimal]:
    result: dict[tuple[str, str, Any], Decimal] = defaultdict(Decimal)
    for entry in entries:
        if isinstance(entry, data.Transaction):
            for p in entry.postings:
                result[(p.account, p.units.currency, p.cost)] += p.units.number
    return {k: v for k, v in result.items() if v}


def check_expand(loaded: Loaded) -> None:
    text = expand_text(loaded.entries, loaded.options)
    assert 'custom "backflush"' not in text and "beancount_backflush" not in text
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "expanded.beancount")
        with open(path, "w") as file:
            file.write(text)
        entries, errors, _ = loader.load_file(path)
    assert [e.message for e in errors] == []
    assert balances(entries) == balances(loaded.entries)


# -- the properties ------------------------------------------------------------------------------


def check_no_invented_units(loaded: Loaded) -> None:
    """Units in = units out + on hand, per item, at every date: a return never exceeds what
    was sold, an unbuild never what was completed (or received into stock by hand)."""
    sold: dict[str, Decimal] = defaultdict(Decimal)
    made: dict[str, Decimal] = defaultdict(Decimal)
    for txn in transactions(loaded):
        kind = txn.meta.get("backflush")
        item, qty = txn.meta.get("backflush_item"), txn.meta.get("backflush_quantity")
        if kind == "sell":
            sold[item] += qty
        elif kind == "return":
            sold[item] -= qty
            assert sold[item] >= 0, ("returned more than sold", txn)
        elif kind == "produce":
            made[item] += qty
        elif kind == "unbuild":
            made[item] -= qty
            assert made[item] >= 0, ("unbuilt more than made", txn)
        elif kind in (None, "reprice"):
            for p in txn.postings:
                if p.account == FG and p.cost is not None and p.units.number > 0:
                    made[p.units.currency] += p.units.number


@given(scenarios())
def test_invariants_hold_on_generated_ledgers(s: Scenario) -> None:
    loaded = load(s)
    check_errors(loaded)
    check_balanced(loaded)
    check_lots(loaded)
    check_units(loaded)
    check_conservation(loaded)
    check_no_invented_units(loaded)


@given(scenarios(max_events=25))
def test_expand_round_trips_without_the_plugin(s: Scenario) -> None:
    loaded = load(s)
    check_errors(loaded)
    check_expand(loaded)


def test_a_fixed_example_exercises_every_event() -> None:
    """A hand-written scenario, so that a failing invariant has a readable reproduction."""
    s = Scenario(
        variant="purchase-completion-sale",
        disposition="prorate",
        schedule="monthly",
        negative_stock="error",
        materiality="0",
        pools_shared=False,
        materials={"M0": {0: D("0.333333"), 40: D("0.35")}, "M1": {-1: D("1.1")}},
        products={
            "P0": {"bom": {-1: {"M0": D("0.37")}}, "conversion": None, "phantom": True},
            "P1": {
                "bom": {-1: {"P0": D("2"), "M1": D("1.5")}},
                "conversion": {-1: {"labor": D("0.125")}},
                "phantom": False,
            },
            "P2": {
                "bom": {0: {"P1": D("1")}, 60: {"P1": D("1"), "M0": D("3")}},
                "conversion": {-1: {"overhead": D("2.4567")}},
                "phantom": False,
            },
        },
    )
    events = textwrap.dedent(
        """\
        2026-01-02 custom "backflush" "purchase" 1000 M0 340.00 USD
        2026-01-02 custom "backflush" "purchase" 100.5 M1 110.00 USD
        2026-01-03 * "Imported receipt"
          Assets:Inventory:RawInProcess  30 M0 {0.31 USD}
          Liabilities:AccountsPayable  -9.30 USD
        2026-01-04 custom "backflush" "produce" 20.5 P1
        2026-01-05 custom "backflush" "produce" 7 P2
        2026-01-06 custom "backflush" "sell" 3 P2 60.00 USD
        2026-01-07 custom "backflush" "return" 1 P2 20.00 USD
        2026-01-08 custom "backflush" "scrap" 0.5 P1
        2026-01-09 custom "backflush" "unbuild" 1 P2
        2026-01-10 * "Conversion incurred"
          Expenses:Conversion:Labor  10.00 USD
          Liabilities:Wages  -10.00 USD
        2026-01-20 custom "backflush" "count" 950 M0
        2026-01-25 custom "backflush" "close"
        2026-03-05 custom "backflush" "produce" 2 P2
        2026-03-06 custom "backflush" "sell" 100 P2
        """
    )
    s.events = [(0, events)]
    s.actual_cost = D("340.00") + D("110.00") + D("9.30") + D("10.00")
    loaded = load(s)
    assert len(loaded.errors) == 1 and "not enough stock" in loaded.errors[0].message
    check_errors(loaded)
    check_balanced(loaded)
    check_lots(loaded)
    check_units(loaded)
    check_conservation(loaded)
    check_expand(loaded)


def test_expand_round_trips_stock_that_went_negative() -> None:
    """negative_stock: allow leaves a negative lot, which Beancount's booking refuses to
    reduce; the expanded ledger then books with booking_method NONE (found by the above)."""
    s = Scenario(
        variant="purchase-completion-sale",
        disposition="cogs",
        schedule="explicit",
        negative_stock="allow",
        materiality="0",
        pools_shared=True,
        materials={"M0": {-1: D("0.5")}},
        products={"P0": {"bom": {-1: {"M0": D("2")}}, "conversion": None, "phantom": False}},
    )
    s.events = [
        (0, '2026-01-02 custom "backflush" "produce" 3 P0\n'),
        (1, '2026-01-03 custom "backflush" "purchase" 10 M0 5.00 USD\n'),
        (2, '2026-01-04 custom "backflush" "sell" 5 P0\n'),
    ]
    s.actual_cost = D("5.00")
    loaded = load(s)
    assert loaded.errors == []
    check_balanced(loaded)
    check_conservation(loaded)
    check_expand(loaded)
    assert 'option "booking_method" "NONE"' in expand_text(loaded.entries, loaded.options)


# -- binding: the fast path and the general walk agree -----------------------------------

_NUMBERS = st.one_of(
    st.decimals(min_value=-1000, max_value=1000, places=2),
    st.decimals(allow_nan=True, allow_infinity=True, places=None),
    st.sampled_from(
        [D("0"), D("-0"), D("10"), D("1E+2"), D("0.0000001"), D("12345678901234"),
         D("123456789012345"), D("1e15"), D("0.123456789012"), D("0.1234567890123"),
         D("10.00000000000000"), D("-5"), D("2.50")]
    ),
)
_AMOUNTS = st.builds(
    Amount,
    st.one_of(st.decimals(min_value=-100, max_value=100, places=2), st.none(), _NUMBERS),
    st.sampled_from(["STEEL", "FRAME", "USD", "EUR"]),
)
_VALUES = st.one_of(
    _AMOUNTS,
    _NUMBERS,
    st.sampled_from(["labor", "Assets:Bank", "Assets:AccountsReceivable", "not an account"]),
)
# Mostly the shapes the fast path takes (QTY ITEM, then maybe TOTAL CCY), then any values.
_FAST_SHAPES = st.lists(_AMOUNTS, min_size=1, max_size=2)
_DIRECTIVE_VALUES = st.one_of(
    _FAST_SHAPES, _FAST_SHAPES, _FAST_SHAPES, st.lists(_VALUES, max_size=4)
)


@settings(max_examples=300)  # no ledger is loaded: quick
@given(values=_DIRECTIVE_VALUES)
def test_the_fast_binding_gives_what_the_general_walk_gives(values):
    """bind() takes a shortcut for "purchase" 100 STEEL 260.00 USD and "produce" 10 FRAME;
    for every event and any values, it must bind (or refuse) exactly as the walk does."""
    for kind, spec in EVENT_TYPES.items():
        entry = data.Custom(
            data.new_metadata("ledger.beancount", 7),
            START,
            "backflush",
            [ValueType(v, type(v)) for v in [kind, *values]],
        )
        fast, fast_error = bind(entry, EVENT_TYPES)
        walked, walk_error = bind_slots(spec, entry, entry.values)
        assert _bound(fast) == _bound(walked)
        assert (fast_error and fast_error.message) == (walk_error and walk_error.message)


def _bound(event: Event | None) -> tuple[Any, ...] | None:
    if event is None:
        return None
    return (event.type, event.quantity, event.item, event.total, event.account, event.actuals)

"""Deterministic generator of large, valid backflush ledgers for the benchmark.

    python benchmarks/generate.py --directives 10000 --out /tmp/bench10k

writes ``ledger.beancount`` and ``standards.yaml``: materials with effective-dated costs,
products with BOMs of a given width and depth (stocked subassemblies and a phantom), two
conversion pools, and about forty directives a day — purchases ahead of need at prices near
standard, production (subassemblies first), sales with revenue, scrap, counts, ordinary
payroll and overhead transactions, and a close at each month end. The generator simulates
stock itself, so every directive is valid and the plugin reports no error.
"""

from __future__ import annotations

import argparse
import datetime
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

START = datetime.date(2026, 1, 1)
CENT = Decimal("0.01")


@dataclass
class Model:
    rng: random.Random
    width: int
    depth: int
    revisions: int
    days: int
    materials: dict[str, list[tuple[datetime.date, Decimal]]] = field(default_factory=dict)
    products: dict[str, dict[str, int]] = field(default_factory=dict)
    conversion: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    phantoms: set[str] = field(default_factory=set)
    sellable: list[str] = field(default_factory=list)

    def cost(self, material: str, date: datetime.date) -> Decimal:
        value = self.materials[material][0][1]
        for since, cost in self.materials[material]:
            if since <= date:
                value = cost
        return value

    def direct(self, product: str) -> dict[str, int]:
        """What one unit consumes at its own level, phantoms exploded."""
        result: dict[str, int] = {}
        for item, qty in self.products[product].items():
            if item in self.phantoms:
                for sub, sub_qty in self.direct(item).items():
                    result[sub] = result.get(sub, 0) + qty * sub_qty
            else:
                result[item] = result.get(item, 0) + qty
        return result


def build_model(seed: int, width: int, depth: int, revisions: int, days: int) -> Model:
    rng = random.Random(seed)
    model = Model(rng, width, depth, revisions, days)
    n_materials = max(6, width * 3)
    for i in range(n_materials):
        base = Decimal(rng.randint(5, 2000)) / 100
        schedule = [(START, base)]
        for r in range(revisions):
            since = START + datetime.timedelta(days=(r + 1) * days // (revisions + 1))
            schedule.append((since, (base * Decimal(rng.uniform(0.9, 1.15))).quantize(CENT)))
        model.materials[f"MAT{i:03d}"] = schedule
    materials = list(model.materials)
    # Levels from the bottom: level depth-1 uses materials only; upper levels use the level
    # below (stocked subassemblies), one phantom per level, and a material or two.
    level_below: list[str] = []
    for level in range(depth - 1, -1, -1):
        names = [f"L{level}P{j:02d}" for j in range(max(2, width))]
        for j, name in enumerate(names):
            bom: dict[str, int] = {}
            for item in rng.sample(materials, k=min(len(materials), max(1, width - 1))):
                bom[item] = rng.randint(1, 4)
            if level_below:
                for item in rng.sample(level_below, k=min(len(level_below), 2)):
                    bom[item] = rng.randint(1, 2)
            model.products[name] = bom
            model.conversion[name] = (
                Decimal(rng.randint(50, 400)) / 100,
                Decimal(rng.randint(20, 200)) / 100,
            )
            if level > 0 and j == 0:
                model.phantoms.add(name)
        level_below = names
    model.sellable = [p for p in level_below if p not in model.phantoms]
    return model


def standards_yaml(model: Model) -> str:
    lines = [
        "currency: USD",
        "triggers: [purchase, completion, sale]",
        "accounts:",
        "  raw_in_process: Assets:Inventory:RawInProcess",
        "  finished_goods: Assets:Inventory:FinishedGoods",
        "  cogs: Expenses:COGS",
        "conversion:",
        "  labor: {incurred: Expenses:Conversion:Labor, "
        "allocated: Expenses:Conversion:Labor:Allocated}",
        "  overhead: {incurred: Expenses:Conversion:Overhead, "
        "allocated: Expenses:Conversion:Overhead:Allocated}",
        "close: {disposition: prorate, materiality: 0.01, variances: [purchase_price, usage]}",
        "materials:",
    ]
    for name, schedule in model.materials.items():
        costs = ", ".join(f"{since}: {cost}" for since, cost in schedule)
        lines.append(f"  {name}: {{cost: {{{costs}}}, unit: pcs}}")
    lines.append("products:")
    for name, bom in model.products.items():
        labor, overhead = model.conversion[name]
        components = ", ".join(f"{item}: {qty}" for item, qty in bom.items())
        phantom = "phantom: true, " if name in model.phantoms else ""
        conversion = "" if name in model.phantoms else (
            f", conversion: {{labor: {labor}, overhead: {overhead}}}"
        )
        lines.append(f"  {name}: {{{phantom}bom: {{{components}}}{conversion}}}")
    return "\n".join(lines) + "\n"


ACCOUNTS = [
    "Assets:Bank", "Assets:AccountsReceivable", "Assets:Inventory:RawInProcess",
    "Assets:Inventory:RawInProcess:Adjustment", "Assets:Inventory:FinishedGoods",
    "Assets:Inventory:FinishedGoods:Adjustment", "Liabilities:AccountsPayable",
    "Liabilities:Wages", "Equity:Opening", "Income:Sales", "Expenses:COGS",
    "Expenses:Conversion:Labor", "Expenses:Conversion:Labor:Allocated",
    "Expenses:Conversion:Overhead", "Expenses:Conversion:Overhead:Allocated",
    "Expenses:Variances:PurchasePrice", "Expenses:Variances:MaterialUsage",
    "Expenses:Variances:Shrinkage", "Expenses:Variances:Scrap",
    "Expenses:Variances:Revaluation", "Expenses:Variances:Rounding",
]


class Ledger:
    """Writes directives while simulating stock, so that every one of them is valid."""

    def __init__(self, model: Model):
        self.model = model
        self.rng = model.rng
        self.stock: dict[str, int] = {}
        self.lines: list[str] = []
        self.count = 0
        self.labor = Decimal(0)
        self.overhead = Decimal(0)

    def emit(self, text: str) -> None:
        self.lines.append(text)
        self.count += 1

    def purchase(self, date: datetime.date, material: str, qty: int) -> None:
        standard = self.model.cost(material, date) * qty
        actual = (standard * Decimal(self.rng.uniform(0.97, 1.04))).quantize(CENT)
        self.emit(f'{date} custom "backflush" "purchase" {qty} {material} {actual} USD')
        self.stock[material] = self.stock.get(material, 0) + qty

    def make(self, date: datetime.date, product: str, qty: int) -> None:
        direct = self.model.direct(product)
        # Making one component may consume another already on hand: check until none short.
        while shortfalls := [
            (item, per * qty - self.stock.get(item, 0))
            for item, per in direct.items()
            if per * qty > self.stock.get(item, 0)
        ]:
            item, short = shortfalls[0]
            if item in self.model.products:
                self.make(date, item, short)
            else:
                self.purchase(date, item, short + self.rng.randint(0, 3) * direct[item] * qty)
        for item, per in direct.items():
            self.stock[item] -= per * qty
        self.emit(f'{date} custom "backflush" "produce" {qty} {product}')
        self.stock[product] = self.stock.get(product, 0) + qty
        labor, overhead = self.model.conversion[product]
        self.labor += labor * qty
        self.overhead += overhead * qty

    def day(self, date: datetime.date, budget: int) -> None:
        target = self.count + budget
        while self.count < target - 6:
            product = self.rng.choice(self.model.sellable)
            self.make(date, product, self.rng.randint(1, 6))
            on_hand = self.stock.get(product, 0)
            if on_hand:
                qty = self.rng.randint(1, on_hand)
                price = (Decimal(self.rng.randint(8000, 30000)) / 100 * qty).quantize(CENT)
                self.emit(f'{date} custom "backflush" "sell" {qty} {product} {price} USD')
                self.stock[product] -= qty
        material = self.rng.choice(list(self.model.materials))
        if self.stock.get(material, 0) > 1 and self.rng.random() < 0.3:
            self.emit(f'{date} custom "backflush" "scrap" 1 {material}')
            self.stock[material] -= 1
        self.payroll(date)
        if self.rng.random() < 0.2:
            material = self.rng.choice(list(self.model.materials))
            counted = max(0, self.stock.get(material, 0) + self.rng.choice((-1, 0, 0, 1)))
            self.emit(f'{date} custom "backflush" "count" {counted} {material}')
            self.stock[material] = counted

    def payroll(self, date: datetime.date) -> None:
        labor = (self.labor * Decimal(self.rng.uniform(0.95, 1.06))).quantize(CENT)
        overhead = (self.overhead * Decimal(self.rng.uniform(0.95, 1.06))).quantize(CENT)
        self.labor = self.overhead = Decimal(0)
        if labor or overhead:
            self.emit(
                f'{date} * "Payroll and overhead"\n'
                f"  Expenses:Conversion:Labor  {labor} USD\n"
                f"  Expenses:Conversion:Overhead  {overhead} USD\n"
                f"  Liabilities:Wages\n"
            )


def generate(
    directives: int, width: int = 3, depth: int = 3, revisions: int = 3, seed: int = 7,
    per_day: int = 40,
) -> tuple[str, str]:
    """(ledger text, standards text) with about ``directives`` directives."""
    days = max(1, directives // per_day)
    model = build_model(seed, width, depth, revisions, days)
    ledger = Ledger(model)
    header = [
        'option "title" "Backflush benchmark"',
        'option "operating_currency" "USD"',
        'plugin "beancount_backflush" "standards.yaml"',
        f'{START} custom "fava-extension" "beancount_backflush.fava"',
        "",
    ] + [f"{START} open {account}" for account in ACCOUNTS] + [""]
    date = START
    for _ in range(days):
        ledger.day(date, per_day)
        tomorrow = date + datetime.timedelta(days=1)
        if tomorrow.month != date.month:
            ledger.emit(f'{date} custom "backflush" "close"')
        date = tomorrow
    return "\n".join(header + ledger.lines) + "\n", standards_yaml(model)


def generate_revisions(materials: int, seed: int = 7) -> tuple[str, str]:
    """(ledger text, standards text): ``materials`` materials, each bought on the first day
    and revised on a date of its own, so that every revision revalues stock on hand.

    One product uses the first two materials (the standards need a product); the last
    directive falls after every revision, so the plugin runs them all.
    """
    rng = random.Random(seed)
    model = Model(rng, width=2, depth=1, revisions=1, days=materials + 2)
    for i in range(materials):
        base = Decimal(rng.randint(5, 2000)) / 100
        revised = (base * Decimal(rng.uniform(0.9, 1.15))).quantize(CENT)
        since = START + datetime.timedelta(days=1 + i)
        model.materials[f"MAT{i:05d}"] = [(START, base), (since, revised)]
    names = list(model.materials)
    model.products["PROD"] = {names[0]: 1, names[-1]: 2}
    model.conversion["PROD"] = (Decimal("1.00"), Decimal("0.50"))
    header = [
        'option "title" "Backflush benchmark: revisions"',
        'option "operating_currency" "USD"',
        'plugin "beancount_backflush" "standards.yaml"',
        "",
    ] + [f"{START} open {account}" for account in ACCOUNTS] + [""]
    lines = []
    for name, schedule in model.materials.items():
        qty = rng.randint(5, 50)
        actual = (schedule[0][1] * qty).quantize(CENT)
        lines.append(f'{START} custom "backflush" "purchase" {qty} {name} {actual} USD')
    last = START + datetime.timedelta(days=materials + 1)
    lines.append(f'{last} custom "backflush" "produce" 1 PROD')
    return "\n".join(header + lines) + "\n", standards_yaml(model)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--directives", type=int, default=10_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--bom-width", type=int, default=3)
    parser.add_argument("--bom-depth", type=int, default=3)
    parser.add_argument("--revisions", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    ledger, standards = generate(args.directives, args.bom_width, args.bom_depth,
                                 args.revisions, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ledger.beancount").write_text(ledger)
    (args.out / "standards.yaml").write_text(standards)


if __name__ == "__main__":
    main()

"""Rounding never drifts: 10,000 events at many-decimal standards.

A third of a dollar (0.333333) a kilo, 0.37 kg a unit, 0.1234 of labor a unit and
fractional quantities: almost every posting has a sub-cent remainder. Lots carry the exact
standard; money is rounded *cumulatively per account*, so each account's balance is always
its exact running total rounded to the cent, and the residue that keeps each transaction in
exact balance goes to the rounding variance. After 10,000 events that account must still
hold less than a few cents, however many events there are.
"""

from __future__ import annotations

import random
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from beancount import loader
from beancount.core import data
from conftest import OPEN_ACCOUNTS

D = Decimal
CENT = D("0.01")

STANDARDS = """\
currency: USD
accounts:
  raw_in_process: Assets:Inventory:RawInProcess
  finished_goods: Assets:Inventory:FinishedGoods
  cogs: Expenses:COGS
conversion:
  labor: {incurred: Expenses:Conversion:Labor, allocated: Expenses:Conversion:Labor:Allocated}
negative_stock: allow
materials:
  GOO: {cost: 0.333333}
  DROP: {cost: 0.0071}
products:
  BLOB:
    bom: {GOO: 0.37, DROP: 1.5}
    conversion: {labor: 0.1234}
  JAR:
    bom: {BLOB: 2.25, GOO: 0.125}
    conversion: {labor: 0.0101}
"""

GOO, DROP = D("0.333333"), D("0.0071")
BLOB = D("0.37") * GOO + D("1.5") * DROP + D("0.1234")
JAR = D("2.25") * BLOB + D("0.125") * GOO + D("0.0101")
RIP = "Assets:Inventory:RawInProcess"
FG = "Assets:Inventory:FinishedGoods"
ROUNDING = "Expenses:Variances:Rounding"


def quantize(number: Decimal) -> Decimal:
    return number.quantize(CENT, rounding=ROUND_HALF_UP)


def events(count: int, seed: int = 2026) -> tuple[str, dict[str, Decimal]]:
    """A year of random events; returns the ledger body and the exact totals expected."""
    rng = random.Random(seed)
    exact: dict[str, Decimal] = defaultdict(Decimal)
    lines = []
    for n in range(count):
        date = f"2026-{1 + n * 12 // count:02d}-{1 + n % 28:02d}"
        qty = D(rng.randint(1, 999)).scaleb(-rng.randint(0, 3))
        kind = rng.choice(["purchase", "purchase", "produce", "produce", "sell", "scrap"])
        if kind == "purchase":
            item, cost = rng.choice([("GOO", GOO), ("DROP", DROP)])
            total = quantize(qty * cost * D(rng.randint(80, 120)) / 100)
            exact["ppv"] += total - qty * cost
            lines.append(f'{date} custom "backflush" "purchase" {qty} {item} {total} USD')
        elif kind == "produce":
            item, rate = rng.choice([("BLOB", D("0.1234")), ("JAR", D("0.0101"))])
            exact["labor"] -= qty * rate
            lines.append(f'{date} custom "backflush" "produce" {qty} {item}')
        elif kind == "sell":
            item, cost = rng.choice([("BLOB", BLOB), ("JAR", JAR)])
            exact["cogs"] += qty * cost
            lines.append(f'{date} custom "backflush" "sell" {qty} {item} 1.00 USD')
        else:
            item, cost = rng.choice([("GOO", GOO), ("BLOB", BLOB)])
            exact["scrap"] += qty * cost
            lines.append(f'{date} custom "backflush" "scrap" {qty} {item}')
    return "\n".join(lines) + "\n", exact


def test_ten_thousand_events_do_not_drift(tmp_path):
    path = tmp_path / "standards.yaml"
    path.write_text(STANDARDS)
    body, exact = events(10_000)
    text = f'plugin "beancount_backflush" "{path}"\n' + OPEN_ACCOUNTS + body
    entries, errors, _ = loader.load_string(text)
    assert errors == []

    balance: dict[str, Decimal] = defaultdict(Decimal)
    generated = [e for e in entries if isinstance(e, data.Transaction) and "backflush" in e.meta]
    assert len(generated) == 10_000
    for txn in generated:
        weight = D(0)
        for p in txn.postings:
            value = p.units.number * (p.cost.number if p.cost else 1)
            weight += value
            balance[p.account] += value
            if p.cost is None and p.account != ROUNDING:
                # Money other than the sub-cent residue has the currency's precision.
                assert p.units.number == quantize(p.units.number), (p, txn.meta)
        assert weight == 0, txn

    # Each money account holds its exact running total, rounded once (never drifting).
    assert balance["Expenses:Variances:PurchasePrice"] == quantize(exact["ppv"])
    assert balance["Expenses:Conversion:Labor:Allocated"] == quantize(exact["labor"])
    assert balance["Expenses:COGS"] == quantize(exact["cogs"])
    assert balance["Expenses:Variances:Scrap"] == quantize(exact["scrap"])
    # The rounding variance is bounded by half a cent per money account, not by the
    # number of events.
    assert abs(balance[ROUNDING]) < D("0.05"), balance[ROUNDING]
    assert balance[ROUNDING] != 0  # there really were sub-cent residues to absorb


def test_rounding_bound_does_not_grow_with_the_number_of_events(tmp_path):
    path = tmp_path / "standards.yaml"
    path.write_text(STANDARDS)
    residues = []
    for count in (100, 1_000, 5_000):
        body, _ = events(count, seed=count)
        text = f'plugin "beancount_backflush" "{path}"\n' + OPEN_ACCOUNTS + body
        entries, errors, _ = loader.load_string(text)
        assert errors == []
        residues.append(
            abs(
                sum(
                    (
                        p.units.number
                        for e in entries
                        if isinstance(e, data.Transaction)
                        for p in e.postings
                        if p.account == ROUNDING
                    ),
                    D(0),
                )
            )
        )
    assert max(residues) < D("0.05"), residues

"""Standard revisions: on an effective date, what is on hand is revalued to the new standard.

    materials:
      STEEL: {cost: {2026-01-01: 2.50, 2026-07-01: 2.70}}

On 2026-07-01, before that day's events, every lot of STEEL — and of every product whose
rolled-up standard changes with it — is taken out at the old standard and put back at the
new one, so that each inventory account holds one lot per item at the standard in force:

    Dr/Cr Raw and in-process     the units at the new standard, less the old
    Cr/Dr Revaluation variance   the difference (a standard change is a period item)

Under ``disposition: prorate`` inventory is carried at actual cost (standard plus the
capitalised variances in ``<inventory>:Adjustment``). A revision then changes how that cost
is split between the standard lots and the adjustment, not the cost: each element's part of
the difference goes to the adjustment account of the inventory that holds it and nets
against what was capitalised for that element (materials: the purchase price variance, when
it is closed; conversion: the pool). The next close releases and re-splits it as usual.
Without this, stock bought at 2.60 and capitalised at actual would be revalued to a new
2.60 standard and still carry its 0.10 adjustment: inventory above what it cost, and a gain
with nothing sold.

Work is linear in the items each revision affects: the dates and items are indexed once.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal

from . import contract
from .book import Book, Group
from .errors import BackflushError
from .standards import Standards

ZERO = Decimal(0)


def revision_plan(standards: Standards) -> list[tuple[datetime.date, list[str], int]]:
    """(date, items whose standard may change on it, standards-file line), by date."""
    direct: dict[datetime.date, set[str]] = {}
    lines: dict[datetime.date, int] = {}

    def note(name: str, dated: object) -> None:
        for date, line in zip(dated.dates, dated.lines, strict=True):  # type: ignore[attr-defined]
            if date is not None:
                direct.setdefault(date, set()).add(name)
                lines[date] = min(lines.get(date, line), line)

    for material in standards.materials.values():
        note(material.name, material.cost)
    parents: dict[str, set[str]] = {}
    for product in standards.products.values():
        note(product.name, product.bom)
        note(product.name, product.conversion)
        for bom in product.bom.values:
            for component in bom:
                parents.setdefault(component, set()).add(product.name)
        for byproduct in product.byproducts:
            parents.setdefault(byproduct, set()).add(product.name)
        for output in product.outputs:  # a co-product's standard is its process's share
            parents.setdefault(product.name, set()).add(output)
    plan = []
    for date in sorted(direct):
        affected = set(direct[date])
        todo = list(affected)
        while todo:
            for parent in parents.get(todo.pop(), ()):
                if parent not in affected:
                    affected.add(parent)
                    todo.append(parent)
        plan.append((date, sorted(affected), lines[date]))
    return plan


def revalue(book: Book, date: datetime.date, items: Iterable[str], line: int) -> None:
    """Bring every lot of ``items`` on hand to the standard that takes effect on ``date``."""
    standards = book.standards
    previous = date - datetime.timedelta(days=1)
    prorate = standards.close.disposition == "prorate"
    ppv_closed = "purchase_price" in standards.close.variances
    held = sorted(
        (account, item, qty)
        for item in items
        for account, qty in book.stock.get(item, {}).items()
        if qty
    )
    txn = book.txn()
    changed: list[str] = []
    to_adjust: dict[tuple[Group, str], Decimal] = {}
    for account, item, qty in held:
        old = standards.rollup(item, previous)
        new = standards.rollup(item, date)
        if old is None or new is None:
            book.errors.append(
                BackflushError(
                    {"filename": standards.path, "lineno": line},
                    f"cannot revalue {qty} {item} in {account} on {date}: no standard in force "
                    f"{'before' if old is None else 'from'} that date",
                    None,
                )
            )
            continue
        if old.since == new.since:
            continue
        txn.lot(account, item, -qty, old)
        txn.lot(account, item, qty, new)
        difference = qty * (old.total - new.total)
        if prorate and account != book.backlog:
            adjustment = account + ":Adjustment"
            parts: list[tuple[Group, Decimal]] = []
            if ppv_closed:
                parts.append((("variance", "purchase_price"), qty * (old.material - new.material)))
            for pool in {*old.conversion, *new.conversion}:
                change = old.conversion.get(pool, ZERO) - new.conversion.get(pool, ZERO)
                parts.append((("pool", pool), qty * change))
            for group, part in parts:
                if part:
                    key = (group, adjustment)
                    to_adjust[key] = to_adjust.get(key, ZERO) + part
                    difference -= part
        if difference:
            txn.cash_for(book.variances["revaluation"], difference, item)
        changed.append(f"{item} {old.total} -> {new.total}")
    if not txn.postings:
        return
    posted: list[tuple[tuple[Group, str], Decimal]] = []
    for (group, adjustment), exact in sorted(to_adjust.items()):
        amount = book.quantize(exact)
        txn.exact(adjustment, amount)
        posted.append(((group, adjustment), amount))
    book.commit(
        txn,
        book.standards_meta(line, contract.REVALUE),
        date,
        "Backflush revaluation to new standards: " + ", ".join(changed),
        contract.REVALUE,
        f"bf-revalue-{date.isoformat()}",
        check=False,
    )
    for key, amount in posted:
        book.capitalised[key] = book.capitalised.get(key, ZERO) + amount

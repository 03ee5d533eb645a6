"""``produce`` and ``unbuild``: good units completed, or a completion reversed.

    2026-01-06 custom "backflush" "produce" 10 FRAME

Trigger "completion" (Horngren, Datar & Rajan, *Cost Accounting*, backflush variants 1 and
3: "record the cost of finished goods at standard and backflush the materials"):

    Dr Finished goods         10 FRAME at standard
    Cr Raw and in-process     the BOM's components at standard (phantoms exploded, stocked
                              subassemblies taken whole from finished goods)
    Cr <pool>:Allocated       units x the product's own conversion rate, per pool

Under ``[completion, sale]`` the materials come from the clearing account at standard
instead of raw and in-process. Under ``[purchase, sale]`` completion is not a trigger:
nothing is posted (a memo transaction records it for the reports), and the units count as
completed and not yet sold — their conversion is what the books leave uninventoried; the
stocked subassemblies a parent consumes stop counting, so each unit's conversion is counted
once however deep the BOM.

Actual consumption: ``"produce" 10 FRAME 21.5 STEEL`` relieves the 21.5 kg actually used
(listed components; the others at the BOM's quantity) and posts the difference from the
standard quantity, at standard cost, to the material usage variance on the batch's date:
the efficiency variance of direct materials (Horngren, Datar & Rajan, *Cost Accounting*,
"flexible budgets: efficiency variance = (actual quantity - budgeted quantity allowed for
actual output) x budgeted price"). A listed component may be a leaf of a phantom (phantoms
are exploded into the batch). Under ``[purchase, sale]`` completion posts nothing, so a
batch's actual consumption cannot be recorded there: an error.

Planned scrap and yield are in the BOM's standard quantities (qty x (1 + scrap), divided by
the yield): a batch relieves them like any standard quantity; only actual consumption
beyond them is a usage variance. By-products (``byproducts: {SPENT_GRAIN: 0.15}``) are
received at their standard with each batch, into the account that holds them; their value
was taken out of the main product's standard (net realizable value method). They need the
completion trigger.

A process with co-products (``outputs: {LAGER: {qty: 100, share: 0.9}, ALE: {qty: 20,
share: 0.1}}``) is never stocked: ``produce 2 BREW`` receives 200 LAGER and 40 ALE into
finished goods, each at its share of the process's standard cost per unit of it (the
relative sales value or physical measure the shares stand for is the user's choice;
Horngren, Datar & Rajan, *Cost Accounting*, "Allocating joint costs").

``unbuild`` reverses a completion at the standard in force: only units completed (and not
yet unbuilt) can be taken apart, only from stock on hand, and under ``[purchase, sale]``
only units completed and not yet sold.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from functools import partial

from . import contract
from .book import CLEARING, COMPLETED, UNSOLD, Book, Rejected, Txn
from .events import Event
from .standards import Rollup, tidy

ONE = Decimal(1)


def components(
    book: Book, product: str, qty: Decimal, date: datetime.date
) -> list[tuple[str, str, Decimal, Rollup]]:
    """(account, item, quantity, rollup) consumed by producing ``qty`` of ``product``."""
    rollup = book.rollup(product, date)
    plan = book.plans.get(id(rollup))
    if plan is None:
        # Once per standard version: rollups are cached, so their identity is the version.
        plan = book.plans[id(rollup)] = [
            (book.holding_account(item), item, per, book.rollup(item, date))
            for item, per in rollup.direct.items()
        ]
    # A batch without actual quantities is recorded once per size (Book.template), so this
    # runs once per (version, size), and for each batch with actuals.
    return [(account, item, tidy(qty * per), sub) for account, item, per, sub in plan]


def _complete(sign: Decimal, book: Book, event: Event) -> None:
    product, qty, date = event.item, event.quantity, event.date
    rollup = book.rollup(product, date)
    posts = book.variant.completion_posts
    if event.actuals:
        parts = components(book, product, qty, date)
        _check_actuals(book, event, parts)
        txn = book.txn()
        _batch(book, txn, product, qty, sign, rollup, date, event.actuals)
        used = " ".join(f"{n} {i}" for i, n in event.actuals.items())
        narration = f"Backflush {event.kind} {qty} {product} using {used}"
        book.emit_event(txn, event, narration, **{contract.META_ACTUALS: used})
        return
    # A batch of the same size at the same standard posts the same lots: recorded once.
    template = book.template(
        (event.kind, id(rollup), qty), _batch, product, qty, sign, rollup, date
    )
    txn = book.txn()
    txn.replay(template)
    if posts:
        book.emit_event(txn, event)
    else:
        book.emit_event(
            txn,
            event,
            f"Backflush {event.kind} {qty!s} {product} (no posting: completion is not a trigger)",
        )


def _batch(
    book: Book,
    txn: Txn,
    product: str,
    qty: Decimal,
    sign: Decimal,
    rollup: Rollup,
    date: datetime.date,
    actuals: dict[str, Decimal] | None = None,
) -> None:
    """What completing (``sign`` 1) or unbuilding (-1) ``qty`` units posts to ``txn``."""
    txn.count(COMPLETED, product, sign * qty)
    parts = components(book, product, qty, date)
    outputs = book.standards.products[product].outputs
    if (rollup.byproducts or outputs) and not book.variant.completion_posts:
        joint = [*rollup.byproducts, *outputs]
        kind = "co-products" if outputs else "by-products"
        raise Rejected(
            f"{product} yields {kind} ({', '.join(joint)}), which need the completion "
            f"trigger: with triggers {book.variant.label} completion posts nothing"
        )
    if not book.variant.completion_posts:
        txn.count(UNSOLD, product, sign * qty)
        for _, item, q, _sub in parts:
            if not book.is_material(item):
                # A stocked subassembly consumed by its parent is no longer unsold.
                txn.count(UNSOLD, item, -sign * q, strict=False)
        return
    if outputs:
        # A process is never stocked: its co-products are, each at its share of the cost.
        for output, (per_unit, _share) in outputs.items():
            txn.lot(book.fg, output, sign * tidy(qty * per_unit), book.rollup(output, date))
    else:
        txn.lot(book.fg, product, sign * qty, rollup)
    from_clearing = Decimal(0)
    usage = book.variances["usage"]
    to_clearing = book.variant.purchases_to_clearing
    rip = book.rip
    for account, item, q, sub in parts:
        if actuals:
            actual = actuals.get(item)
            if actual is not None:
                # Efficiency: (actual - standard quantity allowed) x standard cost.
                txn.cash(usage, (actual - q) * sub.total)
                q = actual
        if to_clearing and account == rip:
            from_clearing += q * sub.total
            txn.count(CLEARING, item, -sign * q)
        else:
            txn.lot(account, item, -sign * q, sub)
    for item, per_unit in rollup.byproducts.items():
        # By-products received at their standard (their value is already out of the main
        # product's standard cost): into the account that holds them.
        sub = book.rollup(item, date)
        q = tidy(qty * per_unit)
        account = book.holding_account(item)
        if to_clearing and account == rip:
            from_clearing -= q * sub.total
            txn.count(CLEARING, item, sign * q)
        else:
            txn.lot(account, item, sign * q, sub)
    if from_clearing:
        txn.cash(book.clearing, -sign * from_clearing)
        txn.cleared += sign * from_clearing
    for pool, rate in rollup.own_conversion.items():
        txn.allocate(pool, sign * qty * rate)


# The handlers (book, event): one call, no wrapper frame, on every directive of every load
# (a positional partial: a keyword one copies its keywords into a new dict on every call).
produce = partial(_complete, ONE)
unbuild = partial(_complete, -ONE)


def _check_actuals(book: Book, event: Event, parts: list[tuple[str, str, Decimal, Rollup]]) -> None:
    if not book.variant.completion_posts:
        raise Rejected(
            f"actual consumption cannot be recorded with triggers {book.variant.label}: "
            "completion posts nothing there (the sale relieves materials by the BOM)"
        )
    names = [item for _, item, _, _ in parts]
    for item in event.actuals:
        if item not in names:
            raise Rejected(
                f"{item} is not a component of {event.item} (its components: "
                + ", ".join(names)
                + ")"
            )

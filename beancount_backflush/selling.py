"""``sell`` and ``return``: units out to customers at standard, or back from them.

    2026-01-09 custom "backflush" "sell" 4 FRAME 200.00 USD

Trigger "sale" (Horngren, Datar & Rajan, *Cost Accounting*, all three backflush variants):

    Dr Cost of goods sold     units x standard
    Cr Finished goods         the units at standard
    Dr Accounts receivable    TOTAL (with a total)
    Cr Revenue                TOTAL

Under ``[purchase, sale]`` (variant 2) finished goods are not held: the sale relieves raw
and in-process by the BOM exploded down to materials (stocked subassemblies included) and
allocates conversion through every level.

``return`` reverses a sale at the standard in force. A return can only put back units that
were sold and not yet returned: anything more would be stock the books never had.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial

from .book import RETURNABLE, UNSOLD, Book
from .events import Event
from .standards import tidy

ONE = Decimal(1)
ZERO = Decimal(0)


def _sale(sign: Decimal, book: Book, event: Event) -> None:
    item, qty = event.item, event.quantity
    rollup = book.rollup(item, event.date)
    txn = book.txn()
    txn.count(RETURNABLE, item, sign * qty)
    if book.variant.sale_explodes_bom and rollup.is_product:
        for material, per in rollup.materials.items():
            txn.lot(book.rip, material, -sign * tidy(per * qty), book.rollup(material, event.date))
        for pool, rate in rollup.conversion.items():
            txn.allocate(pool, sign * qty * rate)
        # Completed and unsold units: a sale takes what was recorded as completed (units
        # sold without a completion simply had none); a return puts them back.
        unsold = book.counter(UNSOLD, item)
        change = -min(qty, max(unsold, ZERO)) if sign > ZERO else qty
        txn.count(UNSOLD, item, change)
    else:
        txn.lot(book.holding_account(item), item, -sign * qty, rollup)
    txn.cash(book.cogs, sign * qty * rollup.total)
    txn.relieve(rollup, sign * qty)
    if event.total is not None:
        accounts = book.standards.accounts
        txn.exact(event.account or accounts["receivable"], sign * event.total.number)
        txn.exact(accounts["revenue"], -sign * event.total.number)
    book.emit_event(txn, event)


# The handlers (book, event): one call, no wrapper frame, on every directive of every load
# (a positional partial: a keyword one copies its keywords into a new dict on every call).
sell = partial(_sale, ONE)
customer_return = partial(_sale, -ONE)

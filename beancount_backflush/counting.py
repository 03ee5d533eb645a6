"""``scrap`` and ``count``: units lost, and the physical count that corrects the book.

    2026-01-20 custom "backflush" "scrap" 2 FRAME
    2026-01-31 custom "backflush" "count" 78 STEEL

Scrap takes units out of the account that holds them at standard and charges the scrap
variance: abnormal waste is a period cost, never inventory (IAS 2.16(a); ASC 330-10-30-7).

A count is the quantity on hand at the end of its date (it runs after the day's other
events). The difference from the book quantity (stock less any open backlog) is posted at
standard: for a material to the material usage variance — in a backflush system the
count is where usage beyond the BOM shows (Horngren, Datar & Rajan, *Cost Accounting*:
"backflush costing ... relies on physical counts") — and for a product to shrinkage.
"""

from __future__ import annotations

from .book import Book
from .events import Event


def scrap(book: Book, event: Event) -> None:
    item, qty = event.item, event.quantity
    rollup = book.rollup(item, event.date)
    txn = book.txn()
    txn.lot(book.holding_account(item), item, -qty, rollup)
    txn.cash(book.variances["scrap"], qty * rollup.total)
    book.emit_event(txn, event)


def count(book: Book, event: Event) -> None:
    item = event.item
    rollup = book.rollup(item, event.date)
    account = book.holding_account(item)
    on_book = book.book_quantity(account, item)  # with open backlog: below what is held
    difference = event.quantity - on_book
    variance = book.variances["usage" if book.is_material(item) else "shrinkage"]
    txn = book.txn()
    txn.lot(account, item, difference, rollup)
    txn.cash(variance, -difference * rollup.total)
    book.emit_event(
        txn,
        event,
        f"Backflush count {event.quantity} {item} (book {on_book}, difference {difference})",
        backflush_book=on_book,
    )

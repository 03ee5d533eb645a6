"""``purchase``: materials received at standard, the price difference to PPV.

    2026-01-05 custom "backflush" "purchase" 100 STEEL 260.00 USD

Trigger "purchase" (Horngren, Datar & Rajan, *Cost Accounting*, backflush variants 1 and 2:
"record purchases of raw materials at standard"):

    Dr Raw and in-process   100 STEEL at standard (250.00)
    Dr Purchase price var.  actual - standard      (10.00; negative when favourable)
    Cr Accounts payable     actual                 (260.00)

Without the purchase trigger (``[completion, sale]``, variant 3) materials are not held in
inventory: the invoice waits in the materials clearing account at its actual amount, and
completion relieves that account at standard.
"""

from __future__ import annotations

from .book import CLEARING, Book
from .events import Event


def purchase(book: Book, event: Event) -> None:
    assert event.total is not None
    item, qty = event.item, event.quantity
    rollup = book.rollup(item, event.date)
    payable = event.account or book.standards.accounts["payable"]
    actual = event.total.number
    txn = book.txn()
    if book.variant.purchases_to_clearing:
        txn.exact(book.clearing, actual)
        txn.count(CLEARING, item, qty)
    else:
        txn.lot(book.rip, item, qty, rollup)
        txn.cash(book.variances["purchase_price"], actual - qty * rollup.total)
    txn.exact(payable, -actual)
    book.emit_event(txn, event, f"Backflush purchase {qty} {item}")

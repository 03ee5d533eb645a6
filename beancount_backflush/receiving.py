"""``purchase`` and ``return-to-supplier``: materials in at standard, the price to PPV.

    2026-01-05 custom "backflush" "purchase" 100 STEEL 260.00 USD
    2026-01-12 custom "backflush" "return-to-supplier" 10 STEEL 26.00 USD

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

from decimal import Decimal
from functools import partial

from .book import CLEARING, Book, Rejected
from .events import Event

ONE = Decimal(1)
ZERO = Decimal(0)


def _receive(sign: Decimal, book: Book, event: Event) -> None:
    assert event.total is not None
    item, qty = event.item, event.quantity
    rollup = book.rollup(item, event.date)
    payable = event.account or book.standards.accounts["payable"]
    if sign < ZERO and not book.variant.purchases_to_clearing:
        # Goods sent back must be there, whatever negative_stock says (no backlog of them).
        on_hand = book.on_hand(book.rip, item)
        if on_hand < qty:
            raise Rejected(
                f"{event.kind}: not enough stock: {qty} {item} needed, {on_hand} on hand in "
                f"{book.rip} (only what is held can be sent back)"
            )
    txn = book.txn()
    number, currency = event.total.number, event.total.currency
    rate = None if currency == book.currency else book.price(currency, event.date)
    actual = number if rate is None else number * rate
    if book.variant.purchases_to_clearing:
        txn.exact(book.clearing, sign * actual)
        txn.count(CLEARING, item, sign * qty)
    else:
        txn.lot(book.rip, item, sign * qty, rollup)
        txn.cash(book.variances["purchase_price"], sign * (actual - qty * rollup.total))
    if rate is None:
        txn.exact(payable, -sign * number)
    else:
        # The payable stays in the currency owed, at the day's price: Beancount balances it.
        txn.priced(payable, -sign * number, currency, rate)
    book.emit_event(txn, event)


# The handlers (book, event): one call, no wrapper frame, on every directive of every load
# (a positional partial: a keyword one copies its keywords into a new dict on every call).
purchase = partial(_receive, ONE)
return_to_supplier = partial(_receive, -ONE)

"""Hand-written and imported transactions that move the plugin's inventory.

    2026-02-10 * "Steel from the mill"
      Assets:Inventory:RawInProcess  500 STEEL {2.60 USD}
      Liabilities:AccountsPayable   -1300.00 USD

The book tracks the units of every user transaction in raw and in-process or finished goods.
A receipt at a cost other than standard is re-priced at standard in the same transaction and
the difference goes to the purchase price variance — for a material, and for a product
bought in finished (it is a price paid, not a change of standard). A receipt of a product
into finished goods counts as completed (opening stock, goods bought in), so it can later be
unbuilt. A withdrawal that takes more than is on hand is an error, and so is a cost in
another currency than the standards' (re-pricing it would unbalance the user's
transaction); the user's transaction is never dropped.
"""

from __future__ import annotations

from decimal import Decimal

from beancount.core import data
from beancount.core.position import Cost

from . import contract
from .book import COMPLETED, Book, Rejected
from .errors import BackflushError
from .standards import Rollup

# Why a hand-written withdrawal may not take stock below zero, by negative_stock policy.
_WITHDRAWAL_HINT = {
    "error": "set negative_stock: allow in the standards file to permit",
    "backlog": "under negative_stock: backlog only backflush events post a shortage, to the "
    "backlog; a hand-written withdrawal takes what is on hand",
}


def observe_user(book: Book, txn: data.Transaction) -> data.Transaction:
    """Track stock in a user transaction; re-price receipts at non-standard cost."""
    standards = book.standards
    rip, fg = book.rip, book.fg
    new_postings: list[data.Posting] | None = None
    builder = None
    delta = Decimal(0)
    for index, posting in enumerate(txn.postings):
        account = posting.account
        if (account != rip and account != fg) or posting.units is None:
            continue
        item = posting.units.currency
        if not standards.is_item(item):
            continue
        is_material = book.is_material(item)
        if account == rip and not book.variant.materials_in_stock:
            continue
        try:
            qty, rollup = _check(book, txn, posting, item)
        except Rejected as rejected:
            book.errors.append(BackflushError(txn.meta, str(rejected), txn))
            continue
        if qty < 0 and book.negative_stock != "allow":
            on_hand = book.on_hand(account, item)
            if on_hand + qty < 0:
                book.errors.append(
                    BackflushError(
                        txn.meta,
                        f"withdrawal: not enough stock: {-qty} {item} needed, {on_hand} on hand "
                        f"in {account} ({_WITHDRAWAL_HINT[book.negative_stock]})",
                        txn,
                    )
                )
        book.move_unchecked(account, item, qty)
        if not is_material and qty > 0:
            completed = book.counters[COMPLETED]
            completed[item] = completed.get(item, 0) + qty
        standard = book.cost_of(rollup)
        actual = posting.cost
        if actual == standard or not isinstance(actual, Cost):
            continue
        if new_postings is None:
            new_postings = list(txn.postings)
            builder = book.txn()
        assert builder is not None
        new_postings[index] = posting._replace(cost=standard)
        delta += qty * (rollup.total - actual.number)
        builder.cash_for(
            book.variances["purchase_price"], qty * (actual.number - rollup.total), item
        )
    book.observe(txn.postings)
    if new_postings is None or builder is None:
        return txn
    # What re-pricing changed in the transaction's weight, less the variances posted, is a
    # rounding residue that commit posts (the user's own tolerance residue stays).
    builder.residue += delta
    meta = dict(txn.meta)
    meta[contract.META_EVENT] = contract.REPRICE
    generated = book.commit(
        builder, meta, txn.date, txn.narration or "", contract.REPRICE, check=False
    )
    book.generated.pop()  # it is the user's transaction, re-priced, not a new one
    return txn._replace(
        meta=meta,
        postings=new_postings + generated.postings,
        tags=(txn.tags or frozenset()) | contract.TAGS,
    )


def _check(
    book: Book, txn: data.Transaction, posting: data.Posting, item: str
) -> tuple[Decimal, Rollup]:
    holding = book.holding_account(item)
    if posting.account != holding:
        raise Rejected(f"{item} belongs in {holding}, not {posting.account}")
    rollup = book.rollup(item, txn.date)
    qty: Decimal = posting.units.number  # type: ignore[union-attr,assignment]
    cost = posting.cost
    if not isinstance(cost, Cost):
        raise Rejected(
            f"{item} in {posting.account} must be held at cost "
            f"(e.g. {qty} {item} {{{rollup.total} {book.currency}}})"
        )
    if cost.currency != book.currency:
        raise Rejected(
            f"{qty} {item} received at {cost.number} {cost.currency}, but the standards are in "
            f"{book.currency}: state the cost in {book.currency} (e.g. "
            f"{{{rollup.total} {book.currency}}}) so that it can be re-priced at standard"
        )
    return qty, rollup

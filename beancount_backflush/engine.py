"""The pass over the ledger: each directive to its event's handler, in the SPEC's order.

One pass over the date-sorted entries. On each date: standard revisions first (revaluing
what is on hand, at the start of their date), then the day's events in file order, then
counts and closes (the event table gives each event's phase). Scheduled month-end closes run
at the end of their date. User transactions are observed in place (stock, re-pricing).

Everything the pass knows is in the :class:`~beancount_backflush.book.Book`; what each
event posts is in its handler (``eventtable.EVENT_TYPES``). An event's error, or an internal
exception inside it, is reported at its directive and leaves no trace in the book.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping
from typing import Any

from beancount.core import account as account_lib
from beancount.core import data

from . import closing, contract, repricing, revaluation
from .book import Book, Rejected
from .errors import BackflushError, describe_fault, did_you_mean
from .events import MATERIAL, PRODUCT, Event, EventType, bind
from .eventtable import EVENT_TYPES
from .standards import Standards


def run(
    standards: Standards,
    entries: list[data.Directive],
    types: Mapping[str, EventType] | None = None,
    today: datetime.date | None = None,
) -> tuple[list[data.Directive], list[Any]]:
    """Expand the backflush directives of ``entries``; returns (entries, errors)."""
    types = EVENT_TYPES if types is None else types
    book = Book(standards)
    book.entries = entries
    plan = revaluation.revision_plan(standards)
    schedule_limit = _schedule_limit(entries, today)
    kept: list[data.Directive] = []
    repriced: list[data.Transaction] = []
    deferred: list[Event] = []
    next_revision = 0
    current: datetime.date | None = None
    started = False
    inventory = (book.rip, book.fg)
    reserved = contract.RESERVED_META
    custom, directive = data.Custom, contract.DIRECTIVE
    for entry in entries:
        if entry.date != current:
            if current is not None and deferred:
                end_of_day(book, deferred)
                deferred = []
            current = entry.date
            next_revision = catch_up(book, current, plan, next_revision, schedule_limit)
        if isinstance(entry, custom) and entry.type == directive:
            event, error = bind(entry, types)
            if event is None:
                book.errors.append(error)
                continue
            if not started:
                started = True
                closing.start(book, event.date)
            if event.type.phase:
                deferred.append(event)
            else:
                apply(book, event)
        elif isinstance(entry, data.Transaction):
            if not reserved.isdisjoint(entry.meta):
                book.errors.append(_reserved_error(entry))
            observed = repricing.observe_user(book, entry)
            if observed is not entry:
                repriced.append(observed)
            kept.append(observed)
        else:
            if isinstance(entry, data.Open):
                book.opened.add(entry.account)
            elif isinstance(entry, data.Pad) and _is_inventory(entry.account, inventory):
                book.errors.append(
                    BackflushError(
                        entry.meta,
                        f"pad into {entry.account}: padding an inventory account creates units "
                        "without a cost that the backflush book does not see; record stock "
                        "with a purchase, a count or a transaction at cost",
                        entry,
                    )
                )
            kept.append(entry)
    if current is not None:
        if deferred:
            end_of_day(book, deferred)
        while book.next_month_end is not None and book.next_month_end <= min(
            current, schedule_limit
        ):
            closing.scheduled(book, book.next_month_end)
    kept.extend(book.generated)
    kept.extend(open_missing_accounts(book, kept, repriced))
    return kept, book.errors


def _schedule_limit(entries: list[data.Directive], today: datetime.date | None) -> datetime.date:
    """Scheduled closes stop at today or the last backflush event, whichever is later: a
    stray far-future entry must not generate thousands of empty month-end closes."""
    limit = today or datetime.date.today()
    for entry in reversed(entries):
        if isinstance(entry, data.Custom) and entry.type == contract.DIRECTIVE:
            return max(limit, closing.month_end(entry.date))
    return limit


def _is_inventory(account: str, inventory: tuple[str, str]) -> bool:
    return any(account_lib.parent_matcher(a)(account) for a in inventory)


def _reserved_error(entry: data.Transaction) -> BackflushError:
    keys = sorted(contract.RESERVED_META.intersection(entry.meta))
    return BackflushError(
        entry.meta,
        f"metadata {', '.join(keys)} is reserved for what the backflush plugin generates; "
        "rename it on this hand-written transaction (reports would take it for the plugin's)",
        entry,
    )


def catch_up(
    book: Book,
    today: datetime.date,
    plan: list[tuple[datetime.date, list[str], int]],
    index: int,
    schedule_limit: datetime.date,
) -> int:
    """Run, in date order, the revisions (at the start of their date) and scheduled
    month-end closes (at the end of theirs) that fall before ``today``'s events."""
    while True:
        revision = plan[index] if index < len(plan) and plan[index][0] <= today else None
        month_end = book.next_month_end
        if month_end is not None and (month_end >= today or month_end > schedule_limit):
            month_end = None
        if revision is None and month_end is None:
            return index
        if month_end is None or (revision is not None and revision[0] <= month_end):
            assert revision is not None
            date, items, line = revision
            revaluation.revalue(book, date, items, line)
            index += 1
        else:
            closing.scheduled(book, month_end)


def end_of_day(book: Book, deferred: list[Event]) -> None:
    # `count` and `close` run after all other events of their date, counts first.
    for event in sorted(deferred, key=lambda e: e.type.phase):
        apply(book, event)


def apply(book: Book, event: Event) -> None:
    """Apply one event, all or nothing; its problems are reported at its directive."""
    try:
        if event.type.items is not None:
            # Whether an event may take an item never changes during a load: ask once.
            key = (event.kind, event.item, event.total.currency if event.total else None)
            refusal = book.item_checks.get(key, "")
            if refusal == "":
                try:
                    check_item(book, event)
                    refusal = None
                except Rejected as rejected:
                    refusal = str(rejected)
                book.item_checks[key] = refusal
            if refusal is not None:
                raise Rejected(refusal)
        event.type.handler(book, event)
    except Rejected as rejected:
        book.errors.append(BackflushError(event.entry.meta, str(rejected), event.entry))
    except Exception as exc:  # noqa: BLE001 - one bad event must not stop the load
        book.errors.append(
            BackflushError(
                event.entry.meta,
                f'internal error while posting "{event.kind}": '
                f"{describe_fault(exc)} (please report this; nothing was posted)",
                event.entry,
            )
        )


def check_item(book: Book, event: Event) -> None:
    standards = book.standards
    item = event.item
    if not standards.is_item(item):
        raise Rejected(
            f"unknown item {item}"
            + did_you_mean(
                item,
                [*standards.materials, *standards.products],
                f" (not in {os.path.basename(standards.path)} materials or products)",
            )
        )
    is_material = book.is_material(item)
    product = standards.products.get(item)
    if product is not None and product.phantom:
        raise Rejected(
            f"{item} is a phantom subassembly: it is never stocked, so it cannot "
            f'be used in "{event.kind}" (it is exploded into its parents\' BOMs)'
        )
    if product is not None and product.outputs and event.kind not in ("produce", "unbuild"):
        raise Rejected(
            f"{item} is a process: it is never stocked, its co-products "
            f'{", ".join(product.outputs)} are; use them in "{event.kind}"'
        )
    if item in standards.outputs and event.kind in ("produce", "unbuild"):
        raise Rejected(
            f"{item} is a co-product of {standards.outputs[item][0]}: "
            f'"{event.kind}" {standards.outputs[item][0]} makes it'
        )
    if (
        event.total is not None
        and event.total.currency != book.currency
        and not event.type.foreign_total
    ):
        raise Rejected(
            f'"{event.kind}" total is in {event.total.currency}, but the '
            f"standards are in {book.currency}"
        )
    wanted = event.type.items
    if wanted == MATERIAL and not is_material:
        raise Rejected(f'"{event.kind}" expects a material; {item} is a product')
    if wanted == PRODUCT and is_material:
        raise Rejected(f'"{event.kind}" expects a product; {item} is a material')
    refusal = book.variant.refuses(event.kind, item, is_material)
    if refusal:
        raise Rejected(refusal)


# -- accounts ------------------------------------------------------------------------------------


def open_missing_accounts(
    book: Book, entries: list[data.Directive], repriced: list[data.Transaction]
) -> list[data.Open]:
    ours = (*book.generated, *repriced)
    if not book.accounts_posted(repriced) - book.opened:
        return []  # the common case, told without a look at every generated posting
    unopened = {p.account for t in ours for p in t.postings} - book.opened
    if not unopened:
        return []
    missing: dict[str, datetime.date] = {}  # account -> first use, the user's included
    for txn in (*ours, *(e for e in entries if isinstance(e, data.Transaction))):
        for posting in txn.postings:
            if posting.account in unopened and txn.date < missing.get(
                posting.account, datetime.date.max
            ):
                missing[posting.account] = txn.date
    standards = book.standards
    if standards.auto_open:
        line = standards.line_of("auto_open")
        return [
            data.Open(
                data.new_metadata(
                    contract.GENERATED_FILENAME,
                    0,
                    {contract.META_SOURCE: f"{standards.path}:{line}"},
                ),
                date,
                account,
                [],
                None,
            )
            for account, date in sorted(missing.items())
        ]
    for account, date in sorted(missing.items()):
        book.errors.append(
            BackflushError(
                _account_source(book, account),
                f"account {account} is used by backflush postings but not opened: add "
                f'"{date} open {account}" to the ledger, or set auto_open: true in the '
                "standards file",
                None,
            )
        )
    return []


def _account_source(book: Book, account: str) -> dict[str, Any]:
    """The standards file's line naming the account, else the first directive using it."""
    standards = book.standards
    for key, name in standards.accounts.items():
        if name == account:
            return standards.source("accounts", key)
    for key, name in standards.variance_accounts.items():
        if name == account:
            return standards.source("accounts", "variances", key)
    for pool in standards.pools.values():
        if account in (pool.incurred, pool.allocated):
            return {"filename": standards.path, "lineno": pool.line}
    for txn in book.generated:
        if any(p.account == account for p in txn.postings):
            meta = txn.meta
            if meta.get(contract.META_SOURCE):
                break
            return {"filename": meta["filename"], "lineno": meta["lineno"]}
    return standards.source("accounts")

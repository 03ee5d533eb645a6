"""``close``: dispose of conversion under/over-allocation and the listed variances.

    2026-01-31 custom "backflush" "close" 1234.56 USD

For each conversion pool the close moves incurred + allocated since the previous close (the
under-allocated amount when positive) out of the pool's accounts, and likewise the balances
of the variance accounts listed in ``close.variances``:

- ``disposition: cogs``: all to cost of goods sold, the textbook's write-off of immaterial
  variances (Horngren, Datar & Rajan, *Cost Accounting*, "write-off to COGS approach").
- ``disposition: prorate``: into ``<inventory>:Adjustment`` accounts and COGS in proportion
  to the standard cost of the element each variance belongs to, because standard cost is
  acceptable only when it approximates actual (ASC 330-10-30-12; IAS 2.21):

  * a conversion pool's amount by that pool's standard conversion held in RIP and FG at the
    close and relieved to COGS in the period;
  * the purchase price variance by the standard cost of the materials it was paid on:
    materials in RIP, FG and COGS, plus the period's material usage variance as a base of
    its own — the share of the price variance that falls on materials used beyond (or
    saved against) the BOM adjusts the usage variance;
  * the usage variance, so adjusted, over FG and COGS only: materials not yet used carry no
    usage (Blocher, Stout, Juras & Smith, *Cost Management*, the "Butrico" proration
    problem; reproduced to the cent in tests/test_proration.py);
  * scrap, shrinkage, revaluation and rounding are period costs (IAS 2.16): COGS.

  Weighted-average re-split: what earlier closes capitalised is released at every close and
  split again, with the period's new amount, over what is held now and what was relieved to
  COGS in the period — so nothing stays capitalised against goods already sold. A new
  amount below ``materiality`` x the period's COGS goes to COGS; what was capitalised before
  is still re-split (it belongs to goods that may still be on hand).

Under ``[completion, sale]`` the clearing account holds invoices at actual and is relieved
at standard: its balance is the unused materials at standard plus the price variance on
everything bought. The close moves the price variance on the materials used since the last
close (weighted average: in proportion of standard cost used to standard cost used and
unused) to the purchase price variance account, where it is disposed of like any PPV; the
unused materials stay in clearing at their average actual cost.

The optional total on a ``close`` directive asserts the net amount the close debits to COGS
and the adjustment accounts; a back-dated change to a closed period then fails bean-check.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from . import contract, conversion
from .book import CLEARING, Book, Group, Rejected
from .errors import BackflushError, BackflushWarning
from .events import Event

ZERO = Decimal(0)
MATERIAL_VARIANCES = ("purchase_price", "usage")
PPV: Group = ("variance", "purchase_price")
USAGE: Group = ("variance", "usage")
LAST_MONTH_END = datetime.date(9999, 12, 31)


def month_end(date: datetime.date) -> datetime.date:
    if date.year == 9999 and date.month == 12:
        return LAST_MONTH_END
    first_of_next = (date.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    return first_of_next - datetime.timedelta(days=1)


# -- schedule ----------------------------------------------------------------------------------


def start(book: Book, first_event: datetime.date) -> None:
    book.since = first_event
    if book.standards.close.schedule == "monthly":
        book.next_month_end = month_end(first_event)


def scheduled(book: Book, date: datetime.date) -> None:
    """The scheduled month-end close of ``date`` (unless an explicit close made it)."""
    book.next_month_end = (
        None if date >= LAST_MONTH_END else month_end(date + datetime.timedelta(days=1))
    )
    if book.last_close == date:
        return
    meta = book.standards_meta(book.standards.close.schedule_line or 1, contract.CLOSE)
    close(book, date, meta, None)


def close_event(book: Book, event: Event) -> None:
    """The ``close`` directive's handler."""
    if book.since is not None and event.date < book.since:
        raise Rejected(
            f"the period up to {event.date} is already closed (closed on {book.last_close}); "
            "a second close on the same day has nothing to close"
        )
    if event.total is not None and event.total.currency != book.currency:
        raise Rejected(
            f'"close" total is in {event.total.currency}, but the standards are in {book.currency}'
        )
    close(book, event.date, event.entry.meta, event)


# -- the close ---------------------------------------------------------------------------------


def close(book: Book, date: datetime.date, source: dict[str, Any], event: Event | None) -> None:
    conversion.split(book, date, source, event)
    txn = book.txn()
    reclassed = ZERO
    if book.variant.purchases_to_clearing:
        reclassed = _reclass_clearing_price_variance(book, date, txn)
    by_group: dict[Group, Decimal] = {}
    period = book.period_money()
    for posting in txn.postings:  # the reclassified price variance is closed too
        if book.group_of(posting.account) is not None:
            number = posting.units.number  # type: ignore[union-attr]
            period[posting.account] = period.get(posting.account, ZERO) + number  # type: ignore[operator]
    closing_postings: list[tuple[str, Decimal]] = []
    for account, amount in sorted(period.items()):
        if amount:
            group = book.group_of(account)
            assert group is not None
            by_group[group] = by_group.get(group, ZERO) + amount
            closing_postings.append((account, -amount))
    net = sum(by_group.values(), ZERO)
    if event is not None and event.total is not None:
        if book.quantize(event.total.number) != book.quantize(net):
            book.errors.append(
                BackflushError(
                    event.entry.meta,
                    f"close asserts {event.total} but this close disposes "
                    f"{book.quantize(net)} {book.currency}: an entry in the closed period "
                    "changed since the close was agreed",
                    event.entry,
                )
            )
    backlog = book.open_backlog()
    if backlog:
        book.errors.append(
            BackflushError(
                source
                if event is not None
                else {
                    "filename": book.standards.path,
                    "lineno": book.standards.close.schedule_line or 1,
                },
                f"close on {date} with open backlog: {', '.join(backlog)} used but not yet "
                f"received (in {book.backlog}); record the receipts before closing",
                event.entry if event is not None else None,
            )
        )
    disposal = dispose(book, by_group, date)
    for account, amount in closing_postings:
        txn.exact(account, amount)
    for account, amount in sorted(disposal.items()):
        txn.exact(account, amount)
    meta = dict(source)
    meta.update(
        {
            contract.META_EVENT: contract.CLOSE,
            contract.META_SINCE: book.since or date,
            contract.META_COGS: book.quantize(book.period_cogs),
            contract.META_DISPOSED: book.quantize(net),
        }
    )
    left_out = uninventoried(book, date)
    if left_out is not None and book.variant.purchases_to_clearing:
        left_out = book.clearing_balance - reclassed  # what stays in clearing, at actual
    if left_out is not None:
        meta[contract.META_UNINVENTORIED] = book.quantize(left_out)
        _warn_uninventoried(book, source, event, left_out)
    link = contract.link_for(source) if event is not None and book.links else None
    book.commit(
        txn, meta, date, f"Backflush close {book.since or date} to {date}", "close", link, False
    )
    book.relieved = {}
    book.period_cogs = ZERO
    book.end_usage_period()
    book.period_clearing_used = ZERO
    book.since = date + datetime.timedelta(days=1) if date < LAST_MONTH_END else date
    book.last_close = date


def dispose(book: Book, by_group: dict[Group, Decimal], date: datetime.date) -> dict[str, Decimal]:
    """Where each group's amount (and what earlier closes capitalised) goes: account ->
    amount, adjustments as the change in what each adjustment account holds."""
    disposal: dict[str, Decimal] = {}
    groups = sorted(by_group.keys() | {g for g, _ in book.capitalised})
    usage_closed = USAGE[1] in book.standards.close.variances
    # The price variance goes first: its share on the period's usage adjusts that variance.
    if PPV in groups:
        groups.remove(PPV)
        groups.insert(0, PPV)
    if usage_closed and USAGE not in groups and PPV in groups:
        groups.append(USAGE)
    extra_usage = ZERO
    for group in groups:
        amount = by_group.get(group, ZERO)
        if group == USAGE:
            amount += extra_usage
        extra_usage += _dispose_group(book, group, amount, date, disposal, usage_closed)
    return disposal


def _dispose_group(
    book: Book,
    group: Group,
    amount: Decimal,
    date: datetime.date,
    disposal: dict[str, Decimal],
    usage_closed: bool,
) -> Decimal:
    """Dispose of one group; returns the share that adjusts the usage variance."""
    kind, name = group
    element = name if kind == "pool" else ("material" if name in MATERIAL_VARIANCES else None)
    targets = adjustment_accounts(book)
    if group == USAGE:
        targets = [(adj, inv) for adj, inv in targets if inv != book.rip]
    prior = {adj: book.capitalised.get((group, adj), ZERO) for adj, _ in targets}
    to_split = sum(prior.values(), ZERO)
    to_cogs = ZERO
    material = abs(amount) >= book.standards.close.materiality * abs(book.period_cogs)
    prorate = book.standards.close.disposition == "prorate" and element is not None
    if prorate and material:
        to_split += amount
    else:
        to_cogs += amount
    shares = {adj: ZERO for adj, _ in targets}
    usage_share = ZERO
    if prorate and to_split:
        held = held_by_element(book, element or "", date)
        bases = {adj: held.get(inventory, ZERO) for adj, inventory in targets}
        usage_base = book.period_usage if group == PPV else ZERO
        base = sum(bases.values(), ZERO) + book.relieved.get(element or "", ZERO) + usage_base
        if base > 0:
            for adj in shares:
                shares[adj] = book.quantize(to_split * bases[adj] / base)
            if usage_base:
                usage_share = book.quantize(to_split * usage_base / base)
    for adj, _ in targets:
        change = shares[adj] - prior[adj]
        if change:
            disposal[adj] = disposal.get(adj, ZERO) + change
        if shares[adj] or (group, adj) in book.capitalised:
            book.capitalised[(group, adj)] = shares[adj]
    to_cogs += to_split - sum(shares.values(), ZERO) - usage_share
    if usage_share and not usage_closed:
        to_cogs += usage_share  # the usage variance itself stays where it is: a period cost
        usage_share = ZERO
    if to_cogs:
        disposal[book.cogs] = disposal.get(book.cogs, ZERO) + to_cogs
    return usage_share


def adjustment_accounts(book: Book) -> list[tuple[str, str]]:
    """(adjustment account, inventory account) pairs the variant holds inventory in."""
    pairs = []
    if book.variant.materials_in_stock:
        pairs.append((book.rip + ":Adjustment", book.rip))
    if book.variant.products_in_stock:
        pairs.append((book.fg + ":Adjustment", book.fg))
    return pairs


def held_by_element(book: Book, element: str, date: datetime.date) -> dict[str, Decimal]:
    """Standard cost of one element held in each inventory account at the close."""
    held: dict[str, Decimal] = {}
    standards = book.standards
    for item, accounts in book.stock.items():
        rollup = None
        for account, qty in accounts.items():
            if not qty:
                continue
            if rollup is None:
                rollup = standards.rollup(item, date)
                if rollup is None:
                    break
            per_unit = (
                rollup.material if element == "material" else rollup.conversion.get(element, ZERO)
            )
            held[account] = held.get(account, ZERO) + qty * per_unit
    return held


def _reclass_clearing_price_variance(book: Book, date: datetime.date, txn: Any) -> Decimal:
    """[completion, sale]: the price variance on materials used moves out of clearing."""
    unused = unused_materials(book, date)
    price_variance = book.clearing_balance - unused
    used = book.period_clearing_used
    if not price_variance or used <= 0:
        return ZERO
    on_used = book.quantize(price_variance * used / (used + max(unused, ZERO)))
    if on_used:
        txn.exact(book.clearing, -on_used)
        txn.exact(book.variances["purchase_price"], on_used)
    return on_used


def unused_materials(book: Book, date: datetime.date) -> Decimal:
    """[completion, sale]: materials bought and not yet used, at standard."""
    total = ZERO
    for item, qty in book.counters[CLEARING].items():
        if qty:
            rollup = book.standards.rollup(item, date)
            if rollup is not None:
                total += qty * rollup.total
    return total


# -- GAAP drift under the two-trigger variants ---------------------------------------------------


def uninventoried(book: Book, date: datetime.date) -> Decimal | None:
    """What the trigger variant leaves out of inventory that GAAP would hold in it."""
    if book.variant.sale_explodes_bom:
        # Conversion in units completed and not yet sold is expensed, not inventoried.
        amount = ZERO
        for product, qty in book.counters["unsold"].items():
            rollup = book.standards.rollup(product, date)
            if qty > 0 and rollup is not None:
                amount += qty * sum(rollup.conversion.values(), ZERO)
        return amount
    if book.variant.purchases_to_clearing:
        return unused_materials(book, date)
    return None


def _warn_uninventoried(
    book: Book, source: dict[str, Any], event: Event | None, amount: Decimal
) -> None:
    share_limit = book.standards.warn_uninventoried
    cogs = abs(book.period_cogs)
    if cogs and abs(amount) > share_limit * cogs:
        if event is None:
            source = {
                "filename": book.standards.path,
                "lineno": book.standards.close.schedule_line or 1,
            }
        book.errors.append(
            BackflushWarning(
                source,
                f"warning: {book.quantize(amount)} {book.currency} is left uninventoried by the "
                f"{book.variant.label} triggers ({abs(amount) / cogs:.1%} of the period's COGS, "
                f"above warn_uninventoried {share_limit:%}); "
                "GAAP (ASC 330 / IAS 2) may require it in inventory",
                event.entry if event else None,
            )
        )

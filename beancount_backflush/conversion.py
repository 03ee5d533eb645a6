"""Conversion variances the textbook way: spending, efficiency and production volume.

    conversion:
      labor:    {incurred: ..., allocated: ..., driver: hours, rate: 20.00}
      overhead: {incurred: ..., allocated: ..., driver: machine-hours, rate: 57.50,
                 budget: 276000.00}
    products:
      JACKET: {bom: ..., conversion: {labor: 0.80, overhead: 0.40}}   # driver units per unit

    2026-04-30 custom "backflush" "activity" "labor" 9000

A pool with a driver allocates driver units allowed x standard rate. At each close its
under/over-allocated amount is split (Horngren, Datar & Rajan, *Cost Accounting*, the
chapters on flexible budgets and on overhead cost variances):

- a variable pool, given the period's actual driver units (``activity``):
  spending (price, rate) = incurred - actual units x rate;
  efficiency = (actual units - standard units allowed for the output) x rate;
- a fixed pool (``budget``: its fixed cost per month; the budget of a close is the budget
  times the calendar months it covers): spending = incurred - budget;
  production volume = budget - allocated. A fixed pool has no efficiency variance.

The parts always add up to the pool's amount to the cent (the last part takes the rounding).
They are posted, in a transaction of their own just before the close, to sub-accounts
named after the pool — ``Expenses:Variances:Spending:Labor``, ``...:Efficiency:Labor``,
``...:Volume:Overhead`` — and the close disposes of them as it disposes of the pool: to COGS,
or under ``prorate`` spending and efficiency split like their pool, while production volume
always goes to COGS: unallocated fixed overhead from low production is a period cost
(IAS 2.13; ASC 330-10-30-7). A variable driver pool with no ``activity`` in the period is
disposed of unsplit, with a warning.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from beancount.core import account as account_lib

from . import contract
from .book import ALLOCATED, Book, Rejected
from .errors import BackflushWarning, did_you_mean
from .events import Event
from .standards import Pool

ZERO = Decimal(0)


def variance_accounts(book: Book, pool: Pool) -> dict[str, str]:
    """kind -> the pool's sub-account of that variance (spending, efficiency, volume)."""
    kinds = ("spending", "volume") if pool.budget is not None else ("spending", "efficiency")
    return {kind: account_lib.join(book.variances[kind], pool.title) for kind in kinds}


def activity(book: Book, event: Event) -> None:
    """``activity``: actual driver units of a pool (recorded; used by the next close)."""
    pools = book.standards.pools
    pool = pools.get(event.item)
    if pool is None:
        raise Rejected(
            f'unknown conversion pool "{event.item}"'
            + did_you_mean(event.item, pools, "; expected one of " + ", ".join(pools))
        )
    if pool.driver is None:
        raise Rejected(
            f'conversion pool "{pool.name}" has no driver: give it one in the standards '
            "file (e.g. {driver: hours, rate: 24.00}) to record its activity"
        )
    meta = dict(event.entry.meta)
    meta[contract.META_EVENT] = contract.ACTIVITY
    meta[contract.META_POOL] = pool.name
    meta[contract.META_QUANTITY] = event.quantity
    book.commit(
        book.txn(),
        meta,
        event.date,
        f"Backflush activity {event.quantity} {pool.driver} of {pool.name}",
        contract.ACTIVITY,
        contract.link_for(event.entry.meta) if book.links else None,
    )
    book.period_activity[pool.name] = book.period_activity.get(pool.name, ZERO) + event.quantity


def split(book: Book, date: datetime.date, source: dict[str, Any], event: Event | None) -> None:
    """Post the split of every driver pool's amount, before the close disposes of it."""
    txn = book.txn()
    described: list[str] = []
    for pool in book.standards.pools.values():
        if pool.driver is None:
            continue
        group = ("pool", pool.name)
        held = {a: v for a, v in book.period_money().items() if book.group_of(a) == group}
        accounts = variance_accounts(book, pool)
        held = {a: v for a, v in held.items() if a not in accounts.values()}
        amount = sum(held.values(), ZERO)
        allowed = book.counter(ALLOCATED, pool.name) - book.allocated_at_close.get(pool.name, ZERO)
        parts = _parts(book, pool, amount, allowed, date, source, event)
        if not parts or not amount:
            continue
        for account, value in sorted(held.items()):
            txn.exact(account, -value)
        for kind, value in parts.items():
            txn.exact(accounts[kind], value)
        described.append(
            f"{pool.name}: " + ", ".join(f"{kind} {value}" for kind, value in parts.items())
        )
    for pool in book.standards.pools.values():
        book.allocated_at_close[pool.name] = book.counter(ALLOCATED, pool.name)
    book.period_activity = {}
    if not txn.postings:
        return
    meta = dict(source)
    meta[contract.META_EVENT] = contract.SPLIT
    book.commit(
        txn,
        meta,
        date,
        "Backflush conversion variances: " + "; ".join(described),
        contract.SPLIT,
        check=False,
    )


def _parts(
    book: Book,
    pool: Pool,
    amount: Decimal,
    allowed: Decimal,
    date: datetime.date,
    source: dict[str, Any],
    event: Event | None,
) -> dict[str, Decimal] | None:
    """The pool's amount split by kind, summing to ``amount`` exactly; None: unsplit."""
    assert pool.rate is not None
    incurred = amount + allowed  # the amount is incurred less what was allocated
    if pool.budget is not None:
        budget = pool.budget * _months(book.since or date, date)
        spending = book.quantize(incurred - budget)
        return {"spending": spending, "volume": amount - spending}
    actual_units = book.period_activity.get(pool.name)
    if actual_units is None:
        if amount:
            book.errors.append(
                BackflushWarning(
                    source
                    if event is not None
                    else {"filename": book.standards.path, "lineno": pool.line},
                    f"warning: conversion pool {pool.name!r} has a driver but no activity "
                    f"from {book.since or date} to {date}: its {book.quantize(amount)} "
                    f"{book.currency} is disposed of unsplit (record "
                    f'custom "backflush" "activity" "{pool.name}" QTY)',
                    event.entry if event is not None else None,
                )
            )
        return None
    efficiency = book.quantize(actual_units * pool.rate - allowed)
    return {"spending": amount - efficiency, "efficiency": efficiency}


def _months(since: datetime.date, until: datetime.date) -> int:
    """Calendar months a close covers (a fixed pool's budget is per month)."""
    return max(1, (until.year - since.year) * 12 + until.month - since.month + 1)

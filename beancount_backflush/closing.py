"""Period close: dispose of conversion under/over-allocation and the listed variances.

For each conversion pool the close moves incurred + allocated since the previous close (the
under-allocated amount when positive) out of the pool's accounts, and likewise the balances
of the variance accounts listed in ``close.variances``:

- ``disposition: cogs``: all to cost of goods sold (the textbook's write-off).
- ``disposition: prorate``: across raw-and-in-process, finished goods and COGS in proportion
  to the standard cost of the element the variance belongs to (ASC 330 / IAS 2: standard
  cost is acceptable only when it approximates actual, so a material variance is carried
  into inventory). The inventory share goes to ``<inventory>:Adjustment``; at the next close
  it is released and split again with that period's variance, so nothing stays capitalised
  against goods already sold. Variances below ``materiality`` x period COGS go to COGS.

The optional total on a ``close`` directive asserts the net amount the close debits to COGS
and the adjustment accounts; a back-dated change to a closed period then fails bean-check.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from beancount.core import data

from .errors import BackflushError, BackflushWarning

if TYPE_CHECKING:
    from .engine import Engine
    from .events import Event
    from .standards import Rollup

ZERO = Decimal(0)
# Which cost element a closable variance belongs to under proration. Scrap, shrinkage,
# revaluation and rounding are period costs (IAS 2.16: abnormal waste is expensed).
MATERIAL_VARIANCES = ("purchase_price", "usage")

Group = tuple[str, str]  # ("pool", name) or ("variance", kind)


def month_end(date: datetime.date) -> datetime.date:
    first_of_next = (date.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    return first_of_next - datetime.timedelta(days=1)


class Closer:
    def __init__(self, engine: Engine):
        self.engine = engine
        std = engine.standards
        self.config = std.close
        self.currency = std.currency
        self._group_of: dict[str, Group | None] = {}
        self.period: dict[str, Decimal] = {}  # account -> amount since the last close
        self.relieved_by_element: dict[str, Decimal] = {}  # standard cost relieved to COGS
        self.period_cogs = ZERO
        self.capitalised: dict[tuple[Group, str], Decimal] = {}
        self.clearing_balance = ZERO
        self.since: datetime.date | None = None
        self.last_close: datetime.date | None = None
        self.next_month_end: datetime.date | None = None

    # -- observation -----------------------------------------------------------------------

    def group_of(self, account: str) -> Group | None:
        try:
            return self._group_of[account]
        except KeyError:
            pass
        group: Group | None = None
        std = self.engine.standards

        def under(parent: str) -> bool:
            return account == parent or account.startswith(parent + ":")

        for pool in std.pools.values():
            if under(pool.allocated) or under(pool.incurred):
                group = ("pool", pool.name)
                break
        if group is None:
            for kind in self.config.variances:
                if under(std.variance_accounts[kind]):
                    group = ("variance", kind)
                    break
        self._group_of[account] = group
        return group

    def observe(self, txn: data.Transaction) -> None:
        clearing = self.engine.clearing
        for posting in txn.postings:
            units = posting.units
            if units is None or posting.cost is not None or units.currency != self.currency:
                continue
            number = units.number
            assert number is not None
            self.note(posting.account, number, clearing)

    def note(self, account: str, number: Decimal, clearing: str) -> None:
        """One money posting (the plugin's own are noted as they are made)."""
        if self.group_of(account) is not None:
            self.period[account] = self.period.get(account, ZERO) + number
        if account == clearing:
            self.clearing_balance += number

    def relieved(self, rollup: Rollup, qty: Decimal) -> None:
        """Standard cost relieved to COGS (negative for a return), by element."""
        self.period_cogs += qty * rollup.total
        elements = self.relieved_by_element
        elements["material"] = elements.get("material", ZERO) + qty * rollup.material
        for pool, rate in rollup.conversion.items():
            elements[pool] = elements.get(pool, ZERO) + qty * rate

    # -- schedule --------------------------------------------------------------------------

    def start(self, first_event: datetime.date) -> None:
        self.since = first_event
        if self.config.schedule == "monthly":
            self.next_month_end = month_end(first_event)

    def scheduled_through(self, date: datetime.date) -> None:
        while self.next_month_end is not None and self.next_month_end <= date:
            self.scheduled(self.next_month_end)

    def scheduled(self, date: datetime.date) -> None:
        self.next_month_end = month_end(date + datetime.timedelta(days=1))
        if self.last_close == date:
            return  # an explicit close already closed this month end
        std = self.engine.standards
        meta = {"filename": std.path, "lineno": std.close.schedule_line or 1}
        self.close(date, meta, None)

    # -- the close -------------------------------------------------------------------------

    def close(self, date: datetime.date, source: dict[str, Any], event: Event | None) -> None:
        engine = self.engine
        by_group: dict[Group, Decimal] = {}
        closing_postings: list[tuple[str, Decimal]] = []
        for account, amount in sorted(self.period.items()):
            if amount:
                group = self.group_of(account)
                assert group is not None
                by_group[group] = by_group.get(group, ZERO) + amount
                closing_postings.append((account, -amount))
        net = sum(by_group.values(), ZERO)
        if event is not None and event.total is not None:
            asserted = event.total.number
            if event.total.currency != self.currency or engine.quantize(
                asserted
            ) != engine.quantize(net):
                engine.errors.append(
                    BackflushError(
                        event.entry.meta,
                        f"close asserts {event.total} but this close disposes "
                        f"{engine.quantize(net)} {self.currency}: an entry in the closed period "
                        "changed since the close was agreed",
                        event.entry,
                    )
                )

        disposal: dict[str, Decimal] = {}
        for group in sorted(by_group.keys() | {g for g, _ in self.capitalised}):
            self.dispose(group, by_group.get(group, ZERO), date, disposal)

        from .engine import Txn  # local: engine imports this module

        txn = Txn(engine)
        for account, amount in closing_postings:
            txn.exact(account, amount)
        for account, amount in sorted(disposal.items()):
            txn.exact(account, amount)
        meta = dict(source)
        meta.update(
            {
                "backflush": "close",
                "backflush_since": self.since or date,
                "backflush_cogs": engine.quantize(self.period_cogs),
                "backflush_disposed": engine.quantize(net),
            }
        )
        uninventoried = self.uninventoried(date)
        if uninventoried is not None:
            meta["backflush_uninventoried"] = engine.quantize(uninventoried)
            self.warn_uninventoried(source, event, uninventoried)
        link = engine.link_for(source) if event is not None else f"bf-close-{date.isoformat()}"
        engine.emit(
            meta, date, f"Backflush close {self.since or date} to {date}", txn.finish(), link
        )
        self.period = {a: v for a, v in self.period.items() if v}
        self.relieved_by_element = {}
        self.period_cogs = ZERO
        self.since = date + datetime.timedelta(days=1)
        self.last_close = date

    def dispose(
        self, group: Group, amount: Decimal, date: datetime.date, disposal: dict[str, Decimal]
    ) -> None:
        engine = self.engine
        cogs = engine.cogs
        kind, name = group
        element = name if kind == "pool" else ("material" if name in MATERIAL_VARIANCES else None)
        targets = self.adjustment_accounts()
        prior = {acc: self.capitalised.get((group, acc), ZERO) for acc, _ in targets}
        total = amount + sum(prior.values(), ZERO)
        shares = {acc: ZERO for acc, _ in targets}
        materiality = self.config.materiality * abs(self.period_cogs)
        if (
            self.config.disposition == "prorate"
            and element is not None
            and abs(amount) >= materiality
        ):
            held = self.held_by_element(element, date)
            base = sum(held.values(), ZERO) + self.relieved_by_element.get(element, ZERO)
            if base > 0:
                for acc, inventory in targets:
                    shares[acc] = engine.quantize(total * held.get(inventory, ZERO) / base)
        for acc, _ in targets:
            change = shares[acc] - prior[acc]
            if change:
                disposal[acc] = disposal.get(acc, ZERO) + change
            self.capitalised[(group, acc)] = shares[acc]
        to_cogs = total - sum(shares.values(), ZERO)
        if to_cogs:
            disposal[cogs] = disposal.get(cogs, ZERO) + to_cogs

    def adjustment_accounts(self) -> list[tuple[str, str]]:
        """(adjustment account, inventory account) pairs the variant holds inventory in."""
        engine = self.engine
        pairs = []
        if engine.variant != "completion-sale":
            pairs.append((engine.rip + ":Adjustment", engine.rip))
        if engine.variant != "purchase-sale":
            pairs.append((engine.fg + ":Adjustment", engine.fg))
        return pairs

    def held_by_element(self, element: str, date: datetime.date) -> dict[str, Decimal]:
        """Standard cost of one element held in each inventory account at the close."""
        held: dict[str, Decimal] = {}
        std = self.engine.standards
        for (account, item), qty in self.engine.stock.items():
            if not qty:
                continue
            rollup = std.rollup(item, date)
            if rollup is None:
                continue
            per_unit = (
                rollup.material if element == "material" else rollup.conversion.get(element, ZERO)
            )
            held[account] = held.get(account, ZERO) + qty * per_unit
        return held

    # -- GAAP drift under the two-trigger variants -------------------------------------------

    def uninventoried(self, date: datetime.date) -> Decimal | None:
        engine = self.engine
        if engine.variant == "purchase-sale":
            # Conversion cost in units completed but unsold is expensed, not inventoried.
            amount = ZERO
            for product, qty in engine.unposted_finished.items():
                rollup = engine.standards.rollup(product, date)
                if qty and rollup is not None:
                    amount += qty * sum(rollup.conversion.values(), ZERO)
            return amount
        if engine.variant == "completion-sale":
            return self.clearing_balance  # materials bought and not yet used
        return None

    def warn_uninventoried(
        self, source: dict[str, Any], event: Event | None, amount: Decimal
    ) -> None:
        threshold = self.engine.standards.warn_uninventoried * abs(self.period_cogs)
        if self.period_cogs and abs(amount) > threshold:
            share = abs(amount) / abs(self.period_cogs)
            self.engine.errors.append(
                BackflushWarning(
                    source,
                    f"warning: {self.engine.quantize(amount)} {self.currency} is left "
                    f"uninventoried by the {self.engine.variant} triggers "
                    f"({share:.1%} of the period's COGS, "
                    f"above warn_uninventoried {self.engine.standards.warn_uninventoried:%}); "
                    "GAAP (ASC 330 / IAS 2) may require it in inventory",
                    event.entry if event else None,
                )
            )

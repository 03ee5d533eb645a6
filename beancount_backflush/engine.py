"""The backflush engine: stock at standard, and the postings of each event.

One pass over the date-sorted entries. On each date: standard revisions first (revaluing
what is on hand), then the day's events in file order, then counts and closes. Stock is
tracked here, per (inventory account, item), because Beancount does not check lots in a
plugin's output.

Amounts are quantity x standard. Inventory postings carry the exact cost (a lot); every
other amount is rounded to the currency's precision *cumulatively per account* (what has been
posted to an account always equals its exact running total, rounded), so rounding never
drifts with the number of events. The transaction's residue, always below a cent or so, is
posted to the rounding variance: no transaction is ever unbalanced.
"""

from __future__ import annotations

import datetime
import functools
import os
import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from beancount.core import data
from beancount.core.amount import Amount
from beancount.core.position import Cost

from . import closing
from .errors import BackflushError, BackflushWarning, describe_fault, did_you_mean
from .events import SIGNATURES, Event, bind
from .standards import Rollup, Standards, tidy

ZERO = Decimal(0)
TAGS = frozenset({"backflush"})
FLAG = "*"


def units_of(posting: data.Posting) -> Decimal:
    units = posting.units
    assert units is not None and units.number is not None, posting
    return units.number


@functools.lru_cache(maxsize=64)
def _link_stem(filename: str) -> str:
    """A file's name as Beancount allows it in a link."""
    stem = os.path.splitext(os.path.basename(filename))[0]
    return re.sub(r"[^A-Za-z0-9_.-]", "-", stem) or "ledger"


class Rejected(Exception):
    """An event that cannot be posted: reported at its directive, nothing posted."""


class Txn:
    """A generated transaction being built: lots at exact cost, cash amounts rounded.

    The weight of what has been added is kept as it goes: ``finish`` posts the residue.
    """

    __slots__ = ("engine", "money", "postings", "residue")

    def __init__(self, engine: Engine):
        self.engine = engine
        self.postings: list[data.Posting] = []
        self.money: list[tuple[str, Decimal]] = []
        self.residue = ZERO

    def lot(self, account: str, item: str, qty: Decimal, rollup: Rollup) -> None:
        if qty:
            self.postings.append(
                data.Posting(
                    account, Amount(qty, item), self.engine.cost_of(rollup), None, None, None
                )
            )
            self.residue += qty * rollup.total

    def cash(self, account: str, exact: Decimal) -> None:
        self.exact(account, self.engine.round_cumulative(account, exact))

    def exact(self, account: str, number: Decimal) -> None:
        """An amount that is already money (an invoice total, a balance being closed)."""
        if number:
            self.postings.append(
                data.Posting(account, Amount(number, self.engine.currency), None, None, None, None)
            )
            self.residue += number
            self.money.append((account, number))

    def finish(self) -> list[data.Posting]:
        """The postings, balanced; their money amounts are noted for the close only now,
        so that a transaction abandoned half-built leaves no trace."""
        engine = self.engine
        if self.residue:
            self.exact(engine.standards.variance_accounts["rounding"], -self.residue)
        note, clearing = engine.closer.note, engine.clearing
        for account, number in self.money:
            note(account, number, clearing)
        return self.postings


class Engine:
    def __init__(self, standards: Standards, options_map: dict[str, Any]):
        self.standards = standards
        self.currency = standards.currency
        self.variant = standards.variant
        self.quantum = Decimal(1).scaleb(-standards.precision)
        self._context = Context(prec=34, rounding=ROUND_HALF_UP)
        acc = standards.accounts
        self.rip = acc["raw_in_process"]
        self.fg = acc["finished_goods"]
        self.cogs = acc["cogs"]
        self.clearing = acc["materials_clearing"]
        self.variances = standards.variance_accounts
        self.errors: list[Any] = []
        self.generated: list[data.Transaction] = []
        self.repriced: list[data.Transaction] = []
        # (account, item) -> quantity on hand, always at the item's standard in force.
        self.stock: dict[tuple[str, str], Decimal] = {}
        # Under [purchase, sale]: units completed and not yet sold (not inventoried).
        self.unposted_finished: dict[str, Decimal] = {}
        self._costs: dict[int, Cost] = {}
        self._plans: dict[int, list[tuple[str, str, Decimal, Rollup]]] = {}
        self._cum_exact: dict[str, Decimal] = {}
        self._cum_posted: dict[str, Decimal] = {}
        self.closer = closing.Closer(self)
        self._handlers = {kind: getattr(self, f"on_{kind}") for kind in SIGNATURES}
        self.opened: set[str] = set()

    # -- money and lots --------------------------------------------------------------------

    def cost_of(self, rollup: Rollup) -> Cost:
        key = id(rollup)
        cost = self._costs.get(key)
        if cost is None:
            cost = self._costs[key] = Cost(rollup.total, self.currency, rollup.since, None)
        return cost

    def quantize(self, number: Decimal) -> Decimal:
        return self._context.quantize(number, self.quantum)

    def round_cumulative(self, account: str, exact: Decimal) -> Decimal:
        total = self._cum_exact.get(account, ZERO) + exact
        self._cum_exact[account] = total
        target = self.quantize(total)
        number = target - self._cum_posted.get(account, ZERO)
        self._cum_posted[account] = target
        return number

    def rollup(self, item: str, date: datetime.date) -> Rollup:
        rollup = self.standards.rollup(item, date)
        if rollup is None:
            raise Rejected(
                f"no standard for {item} is in force on {date} (see "
                f"{os.path.basename(self.standards.path)}:"
                f"{self._item_line(item)})"
            )
        return rollup

    def _item_line(self, item: str) -> int:
        kind = "materials" if item in self.standards.materials else "products"
        return self.standards.line_of(kind, item)

    def holding_account(self, item: str) -> str:
        return self.rip if item in self.standards.materials else self.fg

    # -- transactions ----------------------------------------------------------------------

    def emit(
        self,
        meta: dict[str, Any],
        date: datetime.date,
        narration: str,
        postings: list[data.Posting],
        link: str,
    ) -> data.Transaction:
        txn = data.Transaction(meta, date, FLAG, None, narration, TAGS, frozenset({link}), postings)
        self.generated.append(txn)  # its money postings were noted by Txn as they were made
        return txn

    def observe(self, txn: data.Transaction) -> None:
        """Feed every transaction (user's and generated) to what the close needs."""
        self.closer.observe(txn)

    def event_meta(self, event: Event, **extra: Any) -> dict[str, Any]:
        meta = dict(event.entry.meta)
        meta["backflush"] = event.kind
        if event.item:
            meta["backflush_item"] = event.item
            meta["backflush_quantity"] = event.quantity
        meta.update(extra)
        return meta

    @staticmethod
    def link_for(meta: dict[str, Any]) -> str:
        return f"bf-{_link_stem(str(meta.get('filename', 'ledger')))}-{meta.get('lineno', 0)}"

    # -- stock -----------------------------------------------------------------------------

    def require_stock(self, needs: Iterable[tuple[str, str, Decimal]], event: str) -> None:
        """Check that every (account, item, qty) can be taken, before anything is posted."""
        if self.standards.negative_stock == "allow":
            return
        totals: dict[tuple[str, str], Decimal] = {}
        for account, item, qty in needs:
            totals[(account, item)] = totals.get((account, item), ZERO) + qty
        short = []
        for (account, item), qty in totals.items():
            on_hand = self.stock.get((account, item), ZERO)
            if qty > on_hand:
                short.append(f"{qty} {item} needed, {on_hand} on hand in {account}")
        if short:
            raise Rejected(
                f"{event}: not enough stock: "
                + "; ".join(short)
                + " (set negative_stock: allow in the standards file to permit)"
            )

    def move(self, account: str, item: str, qty: Decimal) -> None:
        key = (account, item)
        self.stock[key] = self.stock.get(key, ZERO) + qty

    # -- the pass --------------------------------------------------------------------------

    def run(self, entries: list[data.Directive]) -> list[data.Directive]:
        kept: list[data.Directive] = []
        change_dates = list(self.standards.change_dates)
        next_change = 0
        deferred: list[Event] = []
        current: datetime.date | None = None
        first_event: datetime.date | None = None
        for entry in entries:
            if entry.date != current:
                if current is not None:
                    self.end_of_day(current, deferred)
                    deferred = []
                current = entry.date
                next_change = self.catch_up(current, change_dates, next_change)
            if isinstance(entry, data.Custom) and entry.type == "backflush":
                event, error = bind(entry)
                if error is not None:
                    self.errors.append(error)
                    continue
                assert event is not None
                if first_event is None:
                    first_event = event.date
                    self.closer.start(first_event)
                if event.kind in ("count", "close"):
                    deferred.append(event)
                else:
                    self.apply(event)
            elif isinstance(entry, data.Transaction):
                kept.append(self.observe_user(entry))
            else:
                if isinstance(entry, data.Open):
                    self.opened.add(entry.account)
                kept.append(entry)
        if current is not None:
            self.end_of_day(current, deferred)
            self.closer.scheduled_through(current)
        kept.extend(self.generated)
        kept.extend(self.open_missing_accounts(kept))
        return kept

    def catch_up(self, today: datetime.date, change_dates: list[datetime.date], index: int) -> int:
        """Run, in date order, the revisions (at the start of their date) and scheduled
        month-end closes (at the end of theirs) that fall before ``today``'s events."""
        while True:
            change = change_dates[index] if index < len(change_dates) else None
            if change is not None and change > today:
                change = None
            month_end = self.closer.next_month_end
            if month_end is not None and month_end >= today:
                month_end = None
            if change is None and month_end is None:
                return index
            if month_end is None or (change is not None and change <= month_end):
                assert change is not None
                self.revalue(change)
                index += 1
            else:
                self.closer.scheduled(month_end)

    def end_of_day(self, date: datetime.date, deferred: list[Event]) -> None:
        # `count` and `close` run after all other events of their date, counts first.
        for event in sorted(deferred, key=lambda e: e.kind != "count"):
            self.apply(event)

    def apply(self, event: Event) -> None:
        handler = self._handlers[event.kind]
        try:
            if event.kind != "close":
                self.check_item(event)
            handler(event)
        except Rejected as rejected:
            self.errors.append(BackflushError(event.entry.meta, str(rejected), event.entry))
        except Exception as exc:  # noqa: BLE001 - one bad event must not stop the load
            self.errors.append(
                BackflushError(
                    event.entry.meta,
                    f'internal error while posting "{event.kind}": '
                    f"{describe_fault(exc)} (please report this; nothing was posted)",
                    event.entry,
                )
            )

    def check_item(self, event: Event) -> None:
        std = self.standards
        item = event.item
        if not std.is_item(item):
            raise Rejected(
                f"unknown item {item}"
                + did_you_mean(
                    item,
                    [*std.materials, *std.products],
                    f" (not in {os.path.basename(std.path)} materials or products)",
                )
            )
        if item in std.products and std.products[item].phantom:
            raise Rejected(
                f"{item} is a phantom subassembly: it is never stocked, so it cannot "
                f'be used in "{event.kind}" (it is exploded into its parents\' BOMs)'
            )
        if event.total is not None and event.total.currency != self.currency:
            raise Rejected(
                f'"{event.kind}" total is in {event.total.currency}, but the '
                f"standards are in {self.currency}"
            )
        is_material = item in std.materials
        if (
            self.variant == "completion-sale"
            and is_material
            and event.kind in ("count", "scrap", "sell")
        ):
            raise Rejected(
                f'"{event.kind}" of material {item} is not possible with triggers '
                "[completion, sale]: materials are not held in inventory"
            )
        if self.variant == "purchase-sale" and not is_material and event.kind in ("count", "scrap"):
            raise Rejected(
                f'"{event.kind}" of product {item} is not possible with triggers '
                "[purchase, sale]: finished goods are not held in inventory"
            )
        if event.kind in ("purchase",) and not is_material:
            raise Rejected(f'"purchase" expects a material; {item} is a product')
        if event.kind in ("produce", "unbuild") and is_material:
            raise Rejected(f'"{event.kind}" expects a product; {item} is a material')
        if (
            event.kind in ("sell", "return")
            and is_material
            and self.variant != "purchase-sale"
            and self.variant != "purchase-completion-sale"
        ):
            raise Rejected(f'"{event.kind}" of material {item} is not possible here')

    # -- events ----------------------------------------------------------------------------

    def on_purchase(self, event: Event) -> None:
        assert event.total is not None
        r = self.rollup(event.item, event.date)
        payable = event.account or self.standards.accounts["payable"]
        txn = Txn(self)
        actual = event.total.number
        if self.variant == "completion-sale":
            # No materials inventory: the invoice waits in the clearing account at actual.
            txn.exact(self.clearing, actual)
        else:
            txn.lot(self.rip, event.item, event.quantity, r)
            txn.cash(self.variances["purchase_price"], actual - event.quantity * r.total)
            self.move(self.rip, event.item, event.quantity)
        txn.exact(payable, -actual)
        self.emit_event(event, txn, f"Backflush purchase {event.quantity} {event.item}")

    def components(
        self, product: str, qty: Decimal, date: datetime.date
    ) -> list[tuple[str, str, Decimal, Rollup]]:
        """(account, item, quantity, rollup) consumed by producing ``qty`` of ``product``."""
        r = self.rollup(product, date)
        plan = self._plans.get(id(r))
        if plan is None:
            # Once per standard version: rollups are cached, so their identity is the version.
            plan = self._plans[id(r)] = [
                (self.holding_account(item), item, per, self.rollup(item, date))
                for item, per in r.direct.items()
            ]
        return [(account, item, tidy(qty * per), sub) for account, item, per, sub in plan]

    def on_produce(self, event: Event) -> None:
        self._produce(event, sign=Decimal(1))

    def on_unbuild(self, event: Event) -> None:
        self._produce(event, sign=Decimal(-1))

    def _produce(self, event: Event, sign: Decimal) -> None:
        product, qty = event.item, event.quantity
        r = self.rollup(product, event.date)
        if self.variant == "purchase-sale":
            # Completion is no trigger: nothing is posted; the memo keeps the record.
            if sign < 0:
                self.require_unposted(product, qty)
            self.unposted_finished[product] = self.unposted_finished.get(product, ZERO) + sign * qty
            self.emit_event(
                event,
                Txn(self),
                f"Backflush {event.kind} {qty} {product} (no posting: completion is not a trigger)",
            )
            return
        parts = self.components(product, qty, event.date)
        if sign > 0:
            needs = [
                (acc, item, q)
                for acc, item, q, _ in parts
                if not (self.variant == "completion-sale" and acc == self.rip)
            ]
        else:
            needs = [(self.fg, product, qty)]
        self.require_stock(needs, event.kind)
        txn = Txn(self)
        txn.lot(self.fg, product, sign * qty, r)
        self.move(self.fg, product, sign * qty)
        clearing = ZERO
        for account, item, q, sub in parts:
            if self.variant == "completion-sale" and account == self.rip:
                clearing += q * sub.total
            else:
                txn.lot(account, item, -sign * q, sub)
                self.move(account, item, -sign * q)
        if clearing:
            txn.cash(self.clearing, -sign * clearing)
        for pool, rate in r.own_conversion.items():
            txn.cash(self.standards.pools[pool].allocated, -sign * qty * rate)
        self.emit_event(event, txn, f"Backflush {event.kind} {qty} {product}")

    def require_unposted(self, product: str, qty: Decimal) -> None:
        if self.standards.negative_stock == "error" and qty > self.unposted_finished.get(
            product, ZERO
        ):
            raise Rejected(
                f"unbuild: {qty} {product} needed, "
                f"{self.unposted_finished.get(product, ZERO)} completed and unsold"
            )

    def on_sell(self, event: Event) -> None:
        self._sell(event, sign=Decimal(1))

    def on_return(self, event: Event) -> None:
        self._sell(event, sign=Decimal(-1))

    def _sell(self, event: Event, sign: Decimal) -> None:
        item, qty = event.item, event.quantity
        r = self.rollup(item, event.date)
        txn = Txn(self)
        if self.variant == "purchase-sale" and r.is_product:
            # Sale is the trigger: relieve RIP by the BOM exploded down to materials and
            # allocate conversion through all levels (Horngren's second variant).
            parts = [(m, tidy(q * qty), self.rollup(m, event.date)) for m, q in r.materials.items()]
            if sign > 0:
                self.require_stock([(self.rip, m, q) for m, q, _ in parts], event.kind)
            for m, q, sub in parts:
                txn.lot(self.rip, m, -sign * q, sub)
                self.move(self.rip, m, -sign * q)
            for pool, rate in r.conversion.items():
                txn.cash(self.standards.pools[pool].allocated, -sign * qty * rate)
            self.unposted_finished[item] = self.unposted_finished.get(item, ZERO) - sign * qty
        else:
            account = self.holding_account(item)
            if sign > 0:
                self.require_stock([(account, item, qty)], event.kind)
            txn.lot(account, item, -sign * qty, r)
            self.move(account, item, -sign * qty)
        txn.cash(self.cogs, sign * qty * r.total)
        self.closer.relieved(r, sign * qty)
        if event.total is not None:
            receivable = event.account or self.standards.accounts["receivable"]
            txn.exact(receivable, sign * event.total.number)
            txn.exact(self.standards.accounts["revenue"], -sign * event.total.number)
        self.emit_event(event, txn, f"Backflush {event.kind} {qty} {item}")

    def on_scrap(self, event: Event) -> None:
        item, qty = event.item, event.quantity
        r = self.rollup(item, event.date)
        account = self.holding_account(item)
        self.require_stock([(account, item, qty)], "scrap")
        txn = Txn(self)
        txn.lot(account, item, -qty, r)
        txn.cash(self.variances["scrap"], qty * r.total)
        self.move(account, item, -qty)
        self.emit_event(event, txn, f"Backflush scrap {qty} {item}")

    def on_count(self, event: Event) -> None:
        item = event.item
        r = self.rollup(item, event.date)
        account = self.holding_account(item)
        book = self.stock.get((account, item), ZERO)
        difference = event.quantity - book
        variance = self.variances["usage" if item in self.standards.materials else "shrinkage"]
        txn = Txn(self)
        txn.lot(account, item, difference, r)
        txn.cash(variance, -difference * r.total)
        self.move(account, item, difference)
        self.emit_event(
            event,
            txn,
            f"Backflush count {event.quantity} {item} (book {book}, difference {difference})",
            backflush_book=book,
        )

    def on_close(self, event: Event) -> None:
        self.closer.close(event.date, event.entry.meta, event)

    def emit_event(self, event: Event, txn: Txn, narration: str, **extra: Any) -> None:
        meta = self.event_meta(event, **extra)
        self.emit(meta, event.date, narration, txn.finish(), self.link_for(event.entry.meta))

    # -- standard revisions ----------------------------------------------------------------

    def revalue(self, date: datetime.date) -> None:
        """Bring every lot on hand to the standard that takes effect on ``date``."""
        txn = Txn(self)
        previous = date - datetime.timedelta(days=1)
        changed: list[str] = []
        for (account, item), qty in sorted(self.stock.items()):
            if not qty:
                continue
            old = self.standards.rollup(item, previous)
            new = self.standards.rollup(item, date)
            if old is None or new is None or old.since == new.since:
                continue
            txn.lot(account, item, -qty, old)
            txn.lot(account, item, qty, new)
            txn.cash(self.variances["revaluation"], qty * (old.total - new.total))
            changed.append(f"{item} {old.total} -> {new.total}")
        if not txn.postings:
            return
        meta = {
            "filename": self.standards.path,
            "lineno": self._revision_line(date),
            "backflush": "revalue",
        }
        self.emit(
            meta,
            date,
            "Backflush revaluation to new standards: " + ", ".join(changed),
            txn.finish(),
            f"bf-revalue-{date.isoformat()}",
        )

    def _revision_line(self, date: datetime.date) -> int:
        lines = []
        for item in (*self.standards.materials.values(), *self.standards.products.values()):
            for dated in (
                getattr(item, "cost", None),
                getattr(item, "bom", None),
                getattr(item, "conversion", None),
            ):
                if dated is not None and date in dated.dates:
                    lines.append(dated.lines[dated.dates.index(date)])
        return min(lines) if lines else 1

    # -- hand-written transactions ---------------------------------------------------------

    def observe_user(self, txn: data.Transaction) -> data.Transaction:
        """Track stock in user transactions; re-price receipts at non-standard cost."""
        std = self.standards
        new_postings: list[data.Posting] | None = None
        builder: Txn | None = None
        delta = ZERO
        for index, posting in enumerate(txn.postings):
            if posting.units is None:
                continue
            item = posting.units.currency
            if (
                posting.account not in (self.rip, self.fg)
                or not std.is_item(item)
                or self.variant == "completion-sale"
                and posting.account == self.rip
            ):
                continue
            try:
                if posting.account != self.holding_account(item):
                    raise Rejected(
                        f"{item} belongs in {self.holding_account(item)}, not {posting.account}"
                    )
                r = self.rollup(item, txn.date)
                qty = units_of(posting)
                if not isinstance(posting.cost, Cost):
                    raise Rejected(
                        f"{item} in {posting.account} must be held at cost "
                        f"(e.g. {qty} {item} {{{r.total} {self.currency}}})"
                    )
            except Rejected as rejected:
                self.errors.append(BackflushError(txn.meta, str(rejected), txn))
                continue
            if qty < 0:
                try:
                    self.require_stock([(posting.account, item, -qty)], "withdrawal")
                except Rejected as rejected:
                    self.errors.append(BackflushError(txn.meta, str(rejected), txn))
            self.move(posting.account, item, qty)
            standard = self.cost_of(r)
            actual = posting.cost
            if actual == standard or not isinstance(actual, Cost):
                continue
            # Received at another cost: re-price at standard, the difference is a price
            # variance (a product's, a revaluation) in the same transaction.
            if new_postings is None:
                new_postings = list(txn.postings)
                builder = Txn(self)
            assert builder is not None
            new_postings[index] = posting._replace(cost=standard)
            kind = "purchase_price" if item in std.materials else "revaluation"
            delta += qty * (r.total - actual.number)
            builder.cash(self.variances[kind], qty * (actual.number - r.total))
        if new_postings is None:
            self.observe(txn)
            return txn
        assert builder is not None
        # What re-pricing changed in the transaction's weight, less the variances posted, is
        # a rounding residue that finish() posts (the user's own tolerance residue stays).
        builder.residue += delta
        new_postings.extend(builder.finish())
        meta = dict(txn.meta)
        meta["backflush"] = "reprice"
        repriced = txn._replace(
            meta=meta, postings=new_postings, tags=(txn.tags or frozenset()) | TAGS
        )
        self.observe(txn)  # the user's money postings; ours were noted by finish()
        self.repriced.append(repriced)
        return repriced

    # -- accounts --------------------------------------------------------------------------

    def open_missing_accounts(self, entries: list[data.Directive]) -> list[data.Open]:
        ours = (*self.generated, *self.repriced)
        unopened = {p.account for t in ours for p in t.postings} - self.opened
        if not unopened:
            return []
        missing: dict[str, datetime.date] = {}  # account -> first use, the user's included
        for txn in (*ours, *(e for e in entries if isinstance(e, data.Transaction))):
            for posting in txn.postings:
                if posting.account in unopened and txn.date < missing.get(
                    posting.account, datetime.date.max
                ):
                    missing[posting.account] = txn.date
        if self.standards.auto_open:
            return [
                data.Open(
                    {
                        "filename": self.standards.path,
                        "lineno": self.standards.line_of("auto_open"),
                    },
                    date,
                    account,
                    [],
                    None,
                )
                for account, date in sorted(missing.items())
            ]
        for account, date in sorted(missing.items()):
            self.errors.append(
                BackflushError(
                    self._account_source(account),
                    f"account {account} is used by backflush postings but not opened: add "
                    f'"{date} open {account}" to the ledger, or set auto_open: true in the '
                    "standards file",
                    None,
                )
            )
        return []

    def _account_source(self, account: str) -> dict[str, Any]:
        """The standards file's line naming the account, else the first directive using it."""
        std = self.standards
        named = {*std.accounts.values(), *std.variance_accounts.values()}
        named.update(a for pool in std.pools.values() for a in (pool.incurred, pool.allocated))
        if account not in named:
            for txn in self.generated:
                if any(p.account == account for p in txn.postings):
                    return {"filename": txn.meta["filename"], "lineno": txn.meta["lineno"]}
        return {"filename": std.path, "lineno": self._account_line(account)}

    def _account_line(self, account: str) -> int:
        std = self.standards
        for key, name in std.accounts.items():
            if name == account:
                return std.line_of("accounts", key)
        for key, name in std.variance_accounts.items():
            if name == account:
                return std.line_of("accounts", "variances", key)
        for pool in std.pools.values():
            if account in (pool.incurred, pool.allocated):
                return pool.line
        return std.line_of("accounts")


def warning(meta: dict[str, Any], message: str) -> BackflushWarning:
    return BackflushWarning(meta, message, None)

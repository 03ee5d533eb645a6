"""The stock book: the one place that knows what is on hand and what may move.

Every event asks the book; nothing else keeps stock. It holds

- units per item and inventory account, always at the standard in force (one lot each);
- what may legally move back: units completed (and not unbuilt) per product, units sold
  and not yet returned per item, and under ``[purchase, sale]`` units completed and not
  yet sold (their conversion is the amount the books leave uninventoried);
- the rounding state (money is rounded cumulatively per account, so rounding never drifts);
- the period's figures the close needs (closable balances, standard cost relieved to COGS
  by element, what earlier closes capitalised);
- the generated entries and the errors.

An event is built in a :class:`Txn` and applied by :meth:`Book.commit` all at once: a check
that fails (stock, returns, unbuilds) raises :class:`Rejected` before anything changes, and
an event that raises half-way never reaches ``commit``, so it leaves no trace in the book.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import TYPE_CHECKING, Any

from beancount.core import account as account_lib
from beancount.core import data, prices
from beancount.core.amount import Amount
from beancount.core.position import Cost

from . import contract
from .standards import Rollup, Standards
from .variant import Variant, variant_of

if TYPE_CHECKING:
    from .events import Event

ZERO = Decimal(0)
_NOTHING = (ZERO, ZERO)
_UNSEEN: Any = object()
_EMPTY: dict[str, Decimal] = {}
_NO_LINKS = data.EMPTY_SET
_META_EVENT = contract.META_EVENT
_META_ITEM = contract.META_ITEM
_META_QUANTITY = contract.META_QUANTITY

# Generated postings are built with tuple.__new__: Amount's constructor asserts the types of
# its fields and a namedtuple's __new__ is a Python call, together a quarter of the pass. The
# fields here are a Decimal number (arithmetic on Decimals) and a str currency, so the
# asserts could not fail; the benchmark's smoke run checks the output with Beancount's
# validate_data_types.
_new = tuple.__new__
_Posting = data.Posting
_Transaction = data.Transaction

# Counters of what may move back (see the module docstring).
COMPLETED = "completed"
RETURNABLE = "returnable"
UNSOLD = "unsold"
CLEARING = "clearing"  # [completion, sale]: units bought into clearing and not yet used
ALLOCATED = "allocated"  # per pool: conversion allocated at standard, exact, cumulative
TALLIES = frozenset({CLEARING, ALLOCATED})  # running figures, not limits on what may move

# What money posted to an account counts in for the close (Book.watches).
WATCH_GROUP = 1  # a closable amount (a pool, a variance the close disposes of)
WATCH_CLEARING = 2  # the materials clearing account's balance
WATCH_USAGE = 4  # the period's material usage variance

Group = tuple[str, str]  # ("pool", name) or ("variance", kind): what a closable amount is


class Rejected(Exception):
    """An event that cannot be posted: reported at its directive, nothing posted."""


class Txn:
    """A transaction being built. Nothing reaches the book until :meth:`Book.commit`.

    Lots carry their exact standard cost; money amounts are rounded cumulatively per
    account; the residue of the two is posted to the rounding variance at commit.
    """

    __slots__ = (
        "book",
        "postings",
        "moves",
        "counts",
        "cum",
        "residue",
        "relieved",
        "cleared",
        "notes",
        "net",
        "limited",
    )

    def __init__(self, book: Book):
        self.book = book
        self.postings: list[data.Posting] = []
        self.moves: list[tuple[str, str, Decimal]] = []
        self.counts: list[tuple[str, str, Decimal, bool]] = []
        self.cum: dict[str, tuple[Decimal, Decimal]] = {}
        self.residue = ZERO
        self.relieved: list[tuple[Rollup, Decimal]] = []
        self.cleared = ZERO  # standard cost of materials relieved from clearing
        # Money postings (standards currency) on accounts the close watches, other than
        # cash() (whose running total is in the cumulative rounding state).
        self.notes: list[tuple[str, Decimal, int]] = []  # (account, number, WATCH_* flags)
        # A template's net stock change, valid while ``moves`` is as the template left it.
        self.net: tuple[Net, int] | None = None
        self.limited = False  # a count takes from a counter that may not go below zero

    def lot(self, account: str, item: str, qty: Decimal, rollup: Rollup) -> None:
        """``qty`` units of ``item`` into (or out of, when negative) ``account``."""
        if qty:
            book = self.book
            cost = book._costs.get(id(rollup)) or book.cost_of(rollup)
            self.postings.append(
                _new(_Posting, (account, _new(Amount, (qty, item)), cost, None, None, None))
            )
            self.moves.append((account, item, qty))
            self.residue += qty * rollup.total

    def cash(self, account: str, exact: Decimal) -> None:
        """A money amount computed at standard: rounded cumulatively per account."""
        book = self.book
        cum = self.cum
        state = cum.get(account) or book._cum.get(account, _NOTHING)
        total = state[0] + exact
        target = book._round(total, book.quantum)
        cum[account] = (total, target)
        number = target - state[1]
        if number:  # as exact(), inlined: a cash posting per event is the common case
            self.postings.append(
                _new(
                    _Posting,
                    (account, _new(Amount, (number, book.currency)), None, None, None, None),
                )
            )
            self.residue += number
            # What the close needs of it is in the cumulative state (Book.posted).

    def exact(self, account: str, number: Decimal) -> None:
        """An amount that is already money (an invoice total, a balance being closed)."""
        if number:
            book = self.book
            book._exact_accounts.add(account)
            self.postings.append(
                _new(
                    _Posting,
                    (account, _new(Amount, (number, book.currency)), None, None, None, None),
                )
            )
            self.residue += number
            watch = book._watched.get(account)
            if watch is None:
                watch = book.watches(account)
            if watch:
                self.notes.append((account, number, watch))

    def cash_for(self, account: str, exact: Decimal, item: str) -> None:
        """``cash`` for one item's share of a transaction that concerns several items (a
        revaluation, a re-priced receipt): the posting names the item in its metadata, so
        reports attribute it without guessing."""
        before = len(self.postings)
        self.cash(account, exact)
        if len(self.postings) > before:
            posting = self.postings[-1]
            self.postings[-1] = posting._replace(meta={contract.META_ITEM: item})

    def count(self, counter: str, item: str, delta: Decimal, strict: bool = True) -> None:
        """Change what may move back; a strict counter may never go below zero, a loose
        one only under ``negative_stock: error``."""
        if delta:
            self.counts.append((counter, item, delta, strict))
            if delta < ZERO and counter not in TALLIES:
                self.limited = True

    def relieve(self, rollup: Rollup, qty: Decimal) -> None:
        """Standard cost of ``qty`` units relieved to COGS (negative for a return)."""
        self.relieved.append((rollup, qty))

    def priced(self, account: str, number: Decimal, currency: str, rate: Decimal) -> None:
        """Money in another currency at a price in the standards currency (``@``)."""
        self.book._exact_accounts.add(account)
        self.postings.append(
            data.Posting(
                account,
                Amount(number, currency),
                None,
                Amount(rate, self.book.currency),
                None,
                None,
            )
        )
        self.residue += number * rate

    def allocate(self, pool: str, exact: Decimal) -> None:
        """Conversion allocated at standard (negative to reverse): a credit to the pool's
        ``allocated`` account, and the standard the period's output allowed."""
        self.cash(self.book.standards.pools[pool].allocated, -exact)
        self.count(ALLOCATED, pool, exact)

    def replay(self, template: Template) -> None:
        """Add a recorded template: its lots as they are, its money rounded now."""
        fresh = not self.moves
        self.postings.extend(template.postings)
        self.moves.extend(template.moves)
        self.counts.extend(template.counts)
        self.relieved.extend(template.relieved)
        self.residue += template.residue
        self.cleared += template.cleared
        self.limited = self.limited or template.limited
        if fresh:
            self.net = (template.net, len(self.moves))
        for account, exact in template.money:
            self.cash(account, exact)


Net = tuple[tuple[str, str, Decimal], ...]  # (account, item, net change) per pair moved


class Template:
    """The part of an event that is the same each time it recurs (a batch of one size of a
    product at one standard version): lots, stock moves, counts and standard cost relieved
    as they are, and the money postings as exact amounts, rounded when the template is used
    (rounding is cumulative per account, so it depends on what was posted before)."""

    __slots__ = (
        "postings",
        "moves",
        "counts",
        "relieved",
        "residue",
        "cleared",
        "money",
        "net",
        "limited",
    )

    def __init__(self, recorder: Recorder):
        self.postings = tuple(recorder.postings)
        self.moves = tuple(recorder.moves)
        self.counts = tuple(recorder.counts)
        self.relieved = tuple(recorder.relieved)
        self.residue = recorder.residue
        self.cleared = recorder.cleared
        self.money = tuple(recorder.money)
        self.limited = recorder.limited
        net: dict[tuple[str, str], Decimal] = {}
        for account, item, qty in self.moves:
            net[(account, item)] = net.get((account, item), ZERO) + qty
        self.net: Net = tuple((account, item, qty) for (account, item), qty in net.items())


class Recorder(Txn):
    """A Txn that records a template instead of posting: money is kept exact, in order.

    Only lots, money at standard, counts and relief can be recorded, and the lots must all
    come before the money (so that replaying gives the postings in the same order)."""

    __slots__ = ("money",)

    def __init__(self, book: Book):
        super().__init__(book)
        self.money: list[tuple[str, Decimal]] = []

    def lot(self, account: str, item: str, qty: Decimal, rollup: Rollup) -> None:
        if self.money:
            raise TypeError("a template records its lots before its money")
        super().lot(account, item, qty, rollup)

    def cash(self, account: str, exact: Decimal) -> None:
        self.money.append((account, exact))

    def exact(self, account: str, number: Decimal) -> None:
        raise TypeError("a template records money at standard only")

    def priced(self, account: str, number: Decimal, currency: str, rate: Decimal) -> None:
        raise TypeError("a template records money at standard only")

    def cash_for(self, account: str, exact: Decimal, item: str) -> None:
        raise TypeError("a template records money at standard only")


class Book:
    def __init__(self, standards: Standards):
        self.standards = standards
        self.variant: Variant = variant_of(standards.variant)
        self.currency = standards.currency
        self.quantum = Decimal(1).scaleb(-standards.precision)
        self._context = Context(prec=34, rounding=ROUND_HALF_UP)
        self._round = self._context.quantize
        accounts = standards.accounts
        self.rip = accounts["raw_in_process"]
        self.fg = accounts["finished_goods"]
        self.cogs = accounts["cogs"]
        self.clearing = accounts["materials_clearing"]
        self.variances = standards.variance_accounts
        self.negative_stock = standards.negative_stock
        self._stock_checked = self.negative_stock == "error"
        self._backlogged = self.negative_stock == "backlog"
        self.backlog = accounts["backlog"]
        self.links = standards.links

        self.stock: dict[str, dict[str, Decimal]] = {}  # item -> account -> units
        self.counters: dict[str, dict[str, Decimal]] = {
            COMPLETED: {},
            RETURNABLE: {},
            UNSOLD: {},
            CLEARING: {},
            ALLOCATED: {},
        }
        self._cum: dict[str, tuple[Decimal, Decimal]] = {}  # account -> (exact, posted)
        self._costs: dict[int, Cost] = {}
        self._exact_accounts: set[str] = set()  # accounts given to Txn.exact and Txn.priced
        self.plans: dict[int, list[tuple[str, str, Decimal, Rollup]]] = {}
        # (event, standard version, quantity, ...) -> the event's recurring part
        self.templates: dict[tuple[Any, ...], Template] = {}
        self.generated: list[data.Transaction] = []
        self.errors: list[Any] = []
        self.opened: set[str] = set()
        self.entries: list[Any] = []  # the ledger's entries, for prices (set by the engine)
        self._price_map: Any = None

        # The period since the last close (see closing.py).
        self._groups: dict[str, Group | None] = {}
        self._watched: dict[str, int] = {}  # account -> WATCH_* flags
        # (event, item, total's currency) -> why it is refused, or None (engine.apply)
        self.item_checks: dict[tuple[str, str, str | None], str | None] = {}
        # Money on watched accounts from postings other than Txn.cash (whose total is kept
        # by the rounding state, _cum): see period_money(), period_usage, clearing_balance.
        self._noted: dict[str, Decimal] = {}
        self._usage_noted = ZERO
        self._usage_base = ZERO  # cash posted to the usage variance before this period
        self._clearing_noted = ZERO
        self.period_cogs = ZERO
        self.relieved: dict[str, Decimal] = {}  # element -> standard cost relieved to COGS
        self.capitalised: dict[tuple[Group, str], Decimal] = {}
        self.period_clearing_used = ZERO
        self.period_activity: dict[str, Decimal] = {}  # pool -> actual driver units
        self.allocated_at_close: dict[str, Decimal] = {}  # pool -> ALLOCATED at last close
        self.since: datetime.date | None = None
        self.last_close: datetime.date | None = None
        self.next_month_end: datetime.date | None = None

    # -- lookups ---------------------------------------------------------------------------

    def on_hand(self, account: str, item: str) -> Decimal:
        return self.stock.get(item, {}).get(account, ZERO)

    def counter(self, counter: str, item: str) -> Decimal:
        return self.counters[counter].get(item, ZERO)

    def holding_account(self, item: str) -> str:
        return self.rip if item in self.standards.materials else self.fg

    def is_material(self, item: str) -> bool:
        return item in self.standards.materials

    def rollup(self, item: str, date: datetime.date) -> Rollup:
        rollup = self.standards.rollup(item, date)
        if rollup is None:
            raise Rejected(
                f"no standard for {item} is in force on {date} (see "
                f"{os.path.basename(self.standards.path)}:{self.item_line(item)})"
            )
        return rollup

    def item_line(self, item: str) -> int:
        kind = "materials" if item in self.standards.materials else "products"
        return self.standards.line_of(kind, item)

    def price(self, currency: str, date: datetime.date) -> Decimal:
        """The ledger's price of ``currency`` in the standards currency on or before
        ``date`` (Beancount's price map, built once, on first use)."""
        if self._price_map is None:
            self._price_map = prices.build_price_map(self.entries)
        _, rate = prices.get_price(self._price_map, (currency, self.currency), date)
        if rate is None:
            raise Rejected(
                f"total in {currency}, but the standards are in {self.currency} and the ledger "
                f"has no price of {currency} in {self.currency} on or before {date}: add "
                f'"{date} price {currency} <rate> {self.currency}" to the ledger'
            )
        return rate

    def cost_of(self, rollup: Rollup) -> Cost:
        key = id(rollup)  # rollups are cached per standard version: identity is the version
        cost = self._costs.get(key)
        if cost is None:
            cost = self._costs[key] = Cost(rollup.total, self.currency, rollup.since, None)
        return cost

    def quantize(self, number: Decimal) -> Decimal:
        return self._context.quantize(number, self.quantum)

    def cumulative(self, account: str) -> tuple[Decimal, Decimal]:
        return self._cum.get(account, (ZERO, ZERO))

    # -- commit ----------------------------------------------------------------------------

    def txn(self) -> Txn:
        """A transaction to build (the book holds no reference to it: no cycle, so the
        ledger is freed by reference counting once frozen; see plugin.py)."""
        return Txn(self)

    def template(self, key: tuple[Any, ...], record: Callable[..., None], *args: Any) -> Template:
        """The recurring part of an event, recorded on first use by ``record(book,
        recorder, *args)`` (a handler's own code, run on a :class:`Recorder`), then replayed:
        ``key`` must hold everything ``record`` reads (the standard version is the rollup's
        identity)."""
        template = self.templates.get(key)
        if template is None:
            recorder = Recorder(self)
            record(self, recorder, *args)
            template = Template(recorder)
            if len(self.templates) < 100_000:
                self.templates[key] = template
        return template

    def commit(
        self,
        txn: Txn,
        meta: dict[str, Any],
        date: datetime.date,
        narration: str,
        event: str,
        link: str | None = None,
        check: bool = True,
    ) -> data.Transaction:
        """Check, then apply ``txn`` to the book and emit it; or raise Rejected."""
        if not check:
            self._move(txn, None)
        else:
            if self._backlogged:
                self._use_backlog(txn)
            self._move(txn, event if self._stock_checked else None)
            if txn.limited:
                try:
                    self._check_counts(txn, event)
                except Rejected:
                    self._unmove(txn)
                    raise
        residue = txn.residue
        if residue:
            txn.exact(self.variances["rounding"], -residue)
        self._apply(txn)
        links = frozenset({link}) if link and self.links else _NO_LINKS
        entry = _new(
            _Transaction,
            (meta, date, contract.FLAG, None, narration, contract.TAGS, links, txn.postings),
        )
        self.generated.append(entry)
        return entry

    # -- negative_stock: backlog (after SAP's backlog of goods movements) -------------------

    def book_quantity(self, account: str, item: str) -> Decimal:
        """What the book says is on hand: stock less open backlog (backlog is negative)."""
        return self.on_hand(account, item) + self.on_hand(self.backlog, item)

    def _use_backlog(self, txn: Txn) -> None:
        """A shortage posts in full: the missing part goes to the backlog account as a
        quantity of the item at standard, never below zero in inventory; a receipt of an
        item with open backlog clears the backlog first."""
        backlog = self.backlog
        net: dict[tuple[str, str], Decimal] = {}
        for account, item, qty in txn.moves:
            if account != backlog:
                net[(account, item)] = net.get((account, item), ZERO) + qty
        for (account, item), change in net.items():
            if change < 0:
                short = -change - max(self.on_hand(account, item), ZERO)
                if short > 0:
                    self._shift(txn, account, item, short)
            elif change > 0:
                still_open = -self.on_hand(backlog, item)
                if still_open > 0:
                    self._shift(txn, account, item, -min(change, still_open))

    def _shift(self, txn: Txn, account: str, item: str, qty: Decimal) -> None:
        """Move ``qty`` of the txn's movement of ``item`` from ``account`` to the backlog:
        positive: a shortage (less taken out, backlog credited); negative: backlog cleared
        (less received, backlog debited)."""
        left = qty
        for index in range(len(txn.postings) - 1, -1, -1):
            posting = txn.postings[index]
            units = posting.units
            if (
                not left
                or posting.account != account
                or posting.cost is None
                or units.currency != item  # type: ignore[union-attr]
                or (units.number < 0) != (qty > 0)  # type: ignore[union-attr,operator]
            ):
                continue
            number: Decimal = units.number  # type: ignore[union-attr,assignment]
            part = min(abs(left), abs(number)) * (1 if qty > 0 else -1)
            remaining = number + part
            txn.postings[index + 1 : index + 1] = [
                data.Posting(self.backlog, Amount(-part, item), posting.cost, None, None, None)
            ]
            if remaining:
                txn.postings[index] = posting._replace(units=Amount(remaining, item))
            else:
                del txn.postings[index]
            txn.moves.append((account, item, part))
            txn.moves.append((self.backlog, item, -part))
            left -= part

    def open_backlog(self) -> list[str]:
        return [
            f"{-accounts[self.backlog]} {item}"
            for item, accounts in sorted(self.stock.items())
            if accounts.get(self.backlog, ZERO) < 0
        ]

    def _net(self, txn: Txn) -> Iterable[tuple[str, str, Decimal]]:
        """The txn's net stock change per (account, item)."""
        if txn.net is not None and txn.net[1] == len(txn.moves):
            return txn.net[0]
        net: dict[tuple[str, str], Decimal] = {}
        for account, item, qty in txn.moves:
            net[(account, item)] = net.get((account, item), ZERO) + qty
        return [(account, item, qty) for (account, item), qty in net.items()]

    def _moved(self, txn: Txn) -> Iterable[tuple[str, str, Decimal]]:
        return txn.moves if len(txn.moves) < 2 else self._net(txn)

    def _move(self, txn: Txn, event: str | None) -> None:
        """Apply the txn's stock moves; with ``event``, refuse one that takes more out of an
        account than it holds (and leave the stock as it was)."""
        stock = self.stock
        short: list[str] | None = None
        moves = txn.moves
        for account, item, change in moves if len(moves) < 2 else self._net(txn):
            held = stock.get(item)
            if held is None:
                held = stock[item] = {}
            before = held.get(account, ZERO)
            after = held[account] = before + change
            if after < ZERO and change < ZERO and event is not None:
                short = short or []
                short.append(f"{-change} {item} needed, {before} on hand in {account}")
        if short:
            self._unmove(txn)
            raise Rejected(
                f"{event}: not enough stock: "
                + "; ".join(short)
                + " (set negative_stock: allow in the standards file to permit)"
            )

    def _unmove(self, txn: Txn) -> None:
        for account, item, change in self._moved(txn):
            held = self.stock[item]
            held[account] = held[account] - change

    def _check_counts(self, txn: Txn, event: str) -> None:
        problems: list[str] = []
        for counter, item, delta, strict in txn.counts:
            if delta >= ZERO or counter in TALLIES or not (strict or self._stock_checked):
                continue
            available = self.counter(counter, item)
            if available + delta >= ZERO:
                continue
            if counter == RETURNABLE:
                problems.append(
                    f"{-delta} {item} returned, but only {available} sold and not yet "
                    "returned: a return cannot put back more than was sold"
                )
            elif counter == COMPLETED:
                problems.append(
                    f"{-delta} {item} to unbuild, but only {available} completed and not "
                    "unbuilt: an unbuild cannot take apart more than was made"
                )
            elif strict:
                problems.append(
                    f"{-delta} {item} needed, {available} completed and not yet sold: "
                    "an unbuild cannot take apart more than was made and not sold"
                )
            else:
                problems.append(
                    f"{-delta} {item} needed, {available} completed and not yet sold "
                    "(set negative_stock: allow in the standards file to permit)"
                )
        if problems:
            raise Rejected(f"{event}: " + "; ".join(problems))

    def _apply(self, txn: Txn) -> None:
        """Everything but the stock moves (applied first, by _move)."""
        if txn.counts:
            counters = self.counters
            for counter, item, delta, _ in txn.counts:
                values = counters[counter]
                values[item] = values.get(item, ZERO) + delta
        if txn.cum:
            self._cum.update(txn.cum)
        if txn.cleared:
            self.period_clearing_used += txn.cleared
        for account, number, watch in txn.notes:
            self.note(account, number, watch)
        if txn.relieved:
            relieved = self.relieved
            for rollup, qty in txn.relieved:
                self.period_cogs += qty * rollup.total
                relieved["material"] = relieved.get("material", ZERO) + qty * rollup.material
                for pool, rate in rollup.conversion.items():
                    relieved[pool] = relieved.get(pool, ZERO) + qty * rate

    def move_unchecked(self, account: str, item: str, qty: Decimal) -> None:
        """Units moved by a user's own transaction (it is posted whatever the book says)."""
        held = self.stock.setdefault(item, {})
        held[account] = held.get(account, ZERO) + qty

    # -- the period's figures, for the close --------------------------------------------------

    def group_of(self, account: str) -> Group | None:
        """The closable amount an account holds: a pool, or a variance listed in
        ``close.variances`` (sub-accounts included), else None."""
        try:
            return self._groups[account]
        except KeyError:
            pass
        group: Group | None = self._split_groups().get(account)
        std = self.standards

        def under(parent: str) -> bool:
            # As account.parent_matcher(parent)(account), without compiling a pattern per
            # account on every load.
            return account == parent or account.startswith(parent + account_lib.sep)

        for pool in std.pools.values():
            if group is not None:
                break
            if under(pool.allocated) or under(pool.incurred):
                group = ("pool", pool.name)
                break
        if group is None:
            for kind in std.close.variances:
                if under(std.variance_accounts[kind]):
                    group = ("variance", kind)
                    break
        self._groups[account] = group
        return group

    def _split_groups(self) -> dict[str, Group]:
        """A driver pool's variance sub-accounts: spending and efficiency belong to the
        pool; production volume is a group of its own (always a period cost)."""
        groups: dict[str, Group] = {}
        for pool in self.standards.pools.values():
            if pool.driver is None:
                continue
            for kind in ("spending", "efficiency", "volume"):
                name = account_lib.join(self.variances[kind], pool.title)
                groups[name] = ("volume", pool.name) if kind == "volume" else ("pool", pool.name)
        return groups

    def watches(self, account: str) -> int:
        """What money posted to ``account`` counts in for the close, as WATCH_* flags (0:
        nothing); asked once per account."""
        watch = self._watched.get(account)
        if watch is None:
            watch = (
                (WATCH_GROUP if self.group_of(account) is not None else 0)
                | (WATCH_CLEARING if account == self.clearing else 0)
                | (WATCH_USAGE if account == self.variances["usage"] else 0)
            )
            self._watched[account] = watch
        return watch

    def note(self, account: str, number: Decimal, watch: int | None = None) -> None:
        """One money posting in the standards currency (the user's or the plugin's)."""
        if watch is None:
            watch = self.watches(account)
        if watch & WATCH_GROUP:
            self._noted[account] = self._noted.get(account, ZERO) + number
        if watch & WATCH_CLEARING:
            self._clearing_noted += number
        if watch & WATCH_USAGE:
            self._usage_noted += number

    def accounts_posted(self, others: Iterable[data.Transaction] = ()) -> set[str]:
        """Every account the book may have posted to (a superset: accounts of stock moves,
        of money at standard and of exact money, refused events' included), with the
        accounts of ``others``."""
        accounts = set(self._cum)
        accounts.update(self._exact_accounts)
        for held in self.stock.values():
            accounts.update(held)
        for txn in others:
            accounts.update(p.account for p in txn.postings)
        return accounts

    def posted(self, account: str) -> Decimal:
        """Money posted to ``account`` by Txn.cash so far (its cumulative rounding state)."""
        return self._cum.get(account, _NOTHING)[1]

    def period_money(self) -> dict[str, Decimal]:
        """The balance of each closable account (a pool, a variance the close disposes of):
        what the periods so far left there, every close having emptied them, so the period's
        amount. Zero balances are left out."""
        balances = dict(self._noted)
        for account, (_, posted) in self._cum.items():
            if posted and self.watches(account) & WATCH_GROUP:
                balances[account] = balances.get(account, ZERO) + posted
        return {account: amount for account, amount in balances.items() if amount}

    @property
    def clearing_balance(self) -> Decimal:
        """The materials clearing account's balance (standards currency)."""
        return self._clearing_noted + self.posted(self.clearing) if self.clearing else ZERO

    @property
    def period_usage(self) -> Decimal:
        """The material usage variance posted since the last close."""
        return self._usage_noted + self.posted(self.variances["usage"]) - self._usage_base

    def end_usage_period(self) -> None:
        self._usage_noted = ZERO
        self._usage_base = self.posted(self.variances["usage"])

    def observe(self, postings: Iterable[data.Posting]) -> None:
        currency = self.currency
        for posting in postings:
            units = posting.units
            if units is None or posting.cost is not None or units.currency != currency:
                continue
            if units.number is not None:
                self.note(posting.account, units.number)

    # -- generated metadata ------------------------------------------------------------------

    def emit_event(
        self, txn: Txn, event: Event, narration: str | None = None, **extra: Any
    ) -> None:
        """Commit an item event's transaction, with the directive's metadata and place;
        the narration says the event, e.g. "Backflush purchase 100 STEEL", unless given."""
        if narration is None:
            narration = f"Backflush {event.kind} {event.quantity!s} {event.item}"
        meta = event.entry.meta.copy()  # copy, then set: twice as fast as {**meta, ...}
        meta[_META_EVENT] = event.kind
        if event.item:
            meta[_META_ITEM] = event.item
            meta[_META_QUANTITY] = event.quantity
        if extra:
            meta.update(extra)
        link = contract.link_for(event.entry.meta) if self.links else None
        self.commit(txn, meta, event.date, narration, event.kind, link)

    def standards_meta(self, line: int, event: str) -> dict[str, Any]:
        """Metadata for an entry caused by the standards file rather than a directive.

        Its filename is ``<backflush>``, which Fava does not offer to edit or delete: a
        generated entry must never let Fava's editor rewrite lines of the standards file.
        ``backflush_source`` names the line (``standards.yaml:12``) for the audit trail.
        """
        return data.new_metadata(
            contract.GENERATED_FILENAME,
            0,
            {contract.META_EVENT: event, contract.META_SOURCE: f"{self.standards.path}:{line}"},
        )

"""Event types and the binding of `custom "backflush"` directive values to them.

An :class:`EventType` declares one event: its values and how they bind, which items it
takes, when in the day it runs, and its handler. The table of all events is
``eventtable.EVENT_TYPES``; adding an event is one entry there and one handler.

A directive that does not fit its event gets one error saying what the event expects, with
an example, located at the directive:

    2026-01-05 custom "backflush" "purchase" 500 STEEL 1290.00 USD
    2026-01-07 custom "backflush" "produce" 20 BIKE
    2026-01-09 custom "backflush" "sell" 15 BIKE 7500.00 USD Assets:AccountsReceivable
    2026-01-31 custom "backflush" "close" 1234.56 USD
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Context, Decimal
from typing import Any, NamedTuple

from beancount.core import account as account_lib
from beancount.core import data
from beancount.core.amount import Amount

from .errors import BackflushError, did_you_mean

# What a value slot takes.
QTY_ITEM = "QTY ITEM"
MONEY = "TOTAL CCY"
ACCOUNT = "ACCOUNT"
NAME = "NAME"  # a quoted name, e.g. a conversion pool: "labor"
NUMBER = "QTY"  # a plain number
ACTUALS = "[ACTUAL COMPONENT]..."  # trailing amounts: actual quantities of components

# When in the day an event runs: in file order, or after the day's other events.
IN_ORDER = 0
END_OF_DAY_COUNT = 1
END_OF_DAY_CLOSE = 2

# Items an event takes.
MATERIAL = "material"
PRODUCT = "product"
ANY_ITEM = "any"

# Numbers on a directive: beyond these, Decimal products at 34 digits could lose cents.
MAX_MAGNITUDE = Decimal("1e15")
MAX_DECIMALS = 12
_PLACES = Decimal(1).scaleb(-MAX_DECIMALS)
_EXACT = Context(prec=34)
_new = tuple.__new__
_DIGITS = frozenset("0123456789")


class Money(NamedTuple):
    """A total of money on a directive (an Amount whose number is known)."""

    number: Decimal
    currency: str

    def __str__(self) -> str:
        return f"{self.number} {self.currency}"


@dataclass(frozen=True)
class EventType:
    """One event: the SPEC's row, its binding, its items, its phase and its handler."""

    name: str
    slots: tuple[tuple[str, bool], ...]  # (what, required); optional ones nest
    example: str
    items: str | None  # MATERIAL, PRODUCT, ANY_ITEM, or None (no item)
    phase: int
    handler: Callable[[Any, Event], None]  # (book.Book, Event): book.py imports this module
    zero_quantity: bool = False  # a count of nothing on hand is a real count
    foreign_total: bool = False  # the total may be in another currency (converted)
    # The value counts that bind() may take on its fast path: "QTY ITEM" alone, or
    # "QTY ITEM" then "TOTAL CCY", with nothing else required (derived from ``slots``).
    fast_counts: frozenset[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        counts: set[int] = set()
        slots = self.slots
        if slots and slots[0] == (QTY_ITEM, True):
            if not any(required for _, required in slots[1:]):
                counts.add(2)
            if len(slots) > 1 and slots[1][0] == MONEY:
                if not any(required for _, required in slots[2:]):
                    counts.add(3)
        object.__setattr__(self, "fast_counts", frozenset(counts))

    @property
    def signature(self) -> str:
        text = ""
        for what, required in reversed(self.slots):
            if what == ACTUALS:
                text = ACTUALS
            elif required:
                text = f"{what} {text}".strip()
            else:
                text = f"[{what}{' ' + text if text else ''}]"
        return text


NO_ACTUALS: dict[str, Decimal] = {}
ZERO = Decimal(0)


class Event:
    """A bound directive."""

    __slots__ = (
        "type",
        "kind",
        "entry",
        "date",
        "quantity",
        "item",
        "total",
        "account",
        "actuals",
    )

    def __init__(
        self,
        type_: EventType,
        entry: data.Custom,
        quantity: Decimal,
        item: str,
        total: Money | None,
        account: str | None,
    ):
        self.type = type_
        self.kind = type_.name
        self.entry = entry
        self.date: datetime.date = entry.date
        self.quantity = quantity
        self.item = item
        self.total = total
        self.account = account
        self.actuals: dict[str, Decimal] = NO_ACTUALS  # replaced, never mutated


def bind(
    entry: data.Custom, types: Mapping[str, EventType]
) -> tuple[Event | None, BackflushError | None]:
    """Bind a `custom "backflush"` entry's values to an Event, or explain what it expects."""
    values = entry.values or ()
    kind = values[0].value if values else None
    if not isinstance(kind, str):
        return None, _error(
            entry,
            "a backflush directive starts with the event name, one of "
            + ", ".join(f'"{k}"' for k in types),
        )
    spec = types.get(kind)
    if spec is None:
        return None, _error(
            entry,
            f'unknown backflush event "{kind}"'
            + did_you_mean(kind, types, "; expected one of " + ", ".join(types)),
        )
    count = len(values)
    if count in spec.fast_counts:
        event = _bind_plain(spec, entry, values, count)
        if event is not None:
            return event, None
    return bind_slots(spec, entry, values)


def bind_slots(
    spec: EventType, entry: data.Custom, values: Sequence[Any]
) -> tuple[Event | None, BackflushError | None]:
    """The general binding: one walk over the event's slots, every check, every error."""
    kind = spec.name
    count = len(values)
    quantity, item, shown = ZERO, "", None
    money: Amount | None = None
    account: str | None = None
    actual_args: Sequence[Any] = ()
    position = 1
    for what, required in spec.slots:
        if what is ACTUALS:
            actual_args = values[position:]
            position = count
            break
        if position >= count:
            if required:
                return None, _expects(entry, spec)
            break
        value = values[position].value
        if what is QTY_ITEM:
            if type(value) is not Amount or value.number is None:
                return None, _expects(entry, spec)
            quantity, item, shown = value.number, value.currency, value
        elif what is MONEY:
            if type(value) is not Amount or value.number is None:
                return None, _expects(entry, spec)
            money = value
        elif not _fits(what, value):
            return None, _expects(entry, spec)
        elif what is ACCOUNT:
            account = value
        elif what is NAME:
            item = value
        else:  # NUMBER
            quantity = shown = value
        position += 1
    if position < count:
        return None, _expects(entry, spec)
    if shown is not None and (not _plain(quantity) or quantity <= ZERO):
        problem = _bad_quantity(spec, quantity)
        if problem:
            return None, _error(entry, f'"{kind}" {problem}, got {shown}')
    total = None
    if money is not None:
        total = _new(Money, (money.number, money.currency))
        negative = total.number.is_finite() and total.number < ZERO
        if negative and spec.items is not None:  # a close may credit COGS
            return None, _error(entry, f'"{kind}" expects a zero or positive total, got {money}')
        problem = _too_big(total.number)
        if problem:
            return None, _error(entry, f'"{kind}" total {money}: {problem}')
    event = Event(spec, entry, quantity, item, total, account)
    if actual_args:
        event.actuals = {}
    for wrapped in actual_args:
        value = wrapped.value
        if not _fits(QTY_ITEM, value):
            return None, _expects(entry, spec)
        if value.currency == item:
            return None, _expects(entry, spec)
        if value.currency in event.actuals:
            return None, _error(entry, f'"{kind}" names {value.currency} twice')
        problem = _too_big(value.number) or (
            "expects zero or a positive quantity" if value.number < ZERO else None
        )
        if problem:
            return None, _error(entry, f'"{kind}" actual {value}: {problem}')
        event.actuals[value.currency] = value.number
    return event, None


def _bind_plain(
    spec: EventType, entry: data.Custom, values: Sequence[Any], count: int
) -> Event | None:
    """The common directive ("purchase" 100 STEEL 260.00 USD, "produce" 10 FRAME) bound
    without the general walk over the slots: None for anything else (a missing or odd
    value, a quantity or total to check further), which bind() then explains."""
    shown = values[1].value
    if type(shown) is not Amount:
        return None
    quantity = shown.number  # plain before compared: that rules out NaN
    if quantity is None or not _plain(quantity) or not quantity > ZERO:
        return None
    if count == 2:
        return Event(spec, entry, quantity, shown.currency, None, None)
    money = values[2].value
    if type(money) is not Amount:
        return None
    number = money.number
    if number is None or not _plain(number) or number < ZERO:
        return None
    total = _new(Money, (number, money.currency))
    return Event(spec, entry, quantity, shown.currency, total, None)


def _bad_quantity(spec: EventType, quantity: Decimal) -> str | None:
    if not quantity.is_finite():
        return f"quantity: {_too_big(quantity)}"
    if quantity < ZERO or (not quantity and not spec.zero_quantity):
        return f"expects {'zero or a positive' if spec.zero_quantity else 'a positive'} quantity"
    problem = _too_big(quantity)
    return f"quantity: {problem}" if problem else None


def _fits(what: str, value: object) -> bool:
    if what is QTY_ITEM or what is MONEY:
        return type(value) is Amount and value.number is not None
    if what is ACCOUNT:
        return isinstance(value, str) and account_lib.is_valid(value)
    if what is NAME:
        return isinstance(value, str) and not account_lib.is_valid(value)
    return isinstance(value, Decimal)  # NUMBER


def _plain(number: Decimal) -> bool:
    """Plain notation in at most 14 characters: below 1e14, at most 12 decimals ("0."
    takes two), so within the limits; the common case, told without Decimal arithmetic."""
    text = str(number)
    return len(text) < 15 and text[-1] in _DIGITS and "E" not in text


def _too_big(number: Decimal) -> str | None:
    if _plain(number):
        return None
    if not (number.is_finite() and -MAX_MAGNITUDE < number < MAX_MAGNITUDE):
        return f"numbers on a directive must be below {MAX_MAGNITUDE:,.0f}"
    # Decimals beyond the limit, trailing zeros aside (as in the standards file); below
    # MAX_MAGNITUDE the quantized number has at most 27 digits, so quantize is exact.
    if _EXACT.quantize(number, _PLACES) != number:
        return f"at most {MAX_DECIMALS} decimal places"
    return None


def _expects(entry: data.Custom, spec: EventType) -> BackflushError:
    got = " ".join(_show(v.value) for v in entry.values[1:]) or "nothing"
    return _error(
        entry,
        f'"{spec.name}" expects {spec.signature} '
        f'(e.g. custom "backflush" {spec.example}), got {got}',
    )


def _show(value: object) -> str:
    if isinstance(value, str):
        return value if account_lib.is_valid(value) else f'"{value}"'
    return str(value)


def _error(entry: data.Custom, message: str) -> BackflushError:
    return BackflushError(entry.meta, message, entry)

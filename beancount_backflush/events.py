"""Binding `custom "backflush"` directive values to typed events.

Each event has a fixed signature; a directive that does not fit gets one error saying what
the event expects, with an example, located at the directive.

    2026-01-05 custom "backflush" "purchase" 500 STEEL 1290.00 USD
    2026-01-07 custom "backflush" "produce" 20 BIKE
    2026-01-09 custom "backflush" "sell" 15 BIKE 7500.00 USD Assets:AccountsReceivable
    2026-01-31 custom "backflush" "close" 1234.56 USD
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from beancount.core import account as account_lib
from beancount.core import data
from beancount.core.amount import Amount

from .errors import BackflushError, did_you_mean

# event -> (signature for messages, example, minimum values, maximum values)
SIGNATURES: dict[str, tuple[str, str]] = {
    "purchase": ("QTY ITEM TOTAL CCY [ACCOUNT]", '"purchase" 500 STEEL 1290.00 USD'),
    "produce": ("QTY ITEM", '"produce" 20 BIKE'),
    "sell": ("QTY ITEM [TOTAL CCY [ACCOUNT]]", '"sell" 15 BIKE 7500.00 USD'),
    "scrap": ("QTY ITEM", '"scrap" 2 FRAME'),
    "count": ("QTY ITEM", '"count" 480 STEEL'),
    "unbuild": ("QTY ITEM", '"unbuild" 1 BIKE'),
    "return": ("QTY ITEM [TOTAL CCY [ACCOUNT]]", '"return" 1 BIKE 500.00 USD'),
    "close": ("[TOTAL CCY]", '"close" 1234.56 USD'),
}
# Events whose quantity may be zero (a count of nothing on hand).
ZERO_QUANTITY_OK = frozenset({"count"})


class Money(NamedTuple):
    """A total of money on a directive (an Amount whose number is known)."""

    number: Decimal
    currency: str

    def __str__(self) -> str:
        return f"{self.number} {self.currency}"


def _money(value: Amount | None) -> Money | None:
    if value is None or value.number is None:
        return None
    return Money(value.number, value.currency)


@dataclass(frozen=True)
class Event:
    kind: str
    entry: data.Custom
    date: datetime.date
    quantity: Decimal
    item: str
    total: Money | None
    account: str | None


def bind(entry: data.Custom) -> tuple[Event | None, BackflushError | None]:
    """Bind a `custom "backflush"` entry's values to an Event, or explain what it expects."""
    values = [v.value for v in entry.values or ()]
    if not values or not isinstance(values[0], str):
        return None, _error(
            entry,
            "a backflush directive starts with the event name, one of "
            + ", ".join(f'"{k}"' for k in SIGNATURES),
        )
    kind, args = values[0], values[1:]
    if kind not in SIGNATURES:
        return None, _error(
            entry,
            f'unknown backflush event "{kind}"'
            + did_you_mean(kind, SIGNATURES, "; expected one of " + ", ".join(SIGNATURES)),
        )
    if kind == "close":
        if len(args) > 1 or (args and not isinstance(args[0], Amount)):
            return None, _expects(entry, kind)
        return Event(
            kind, entry, entry.date, Decimal(0), "", _money(args[0] if args else None), None
        ), None

    if not args or not isinstance(args[0], Amount):
        return None, _expects(entry, kind)
    quantity, item = args[0].number, args[0].currency
    rest = args[1:]
    total_value: Amount | None = None
    account: str | None = None
    if kind == "purchase":
        if not rest or not isinstance(rest[0], Amount) or len(rest) > 2:
            return None, _expects(entry, kind)
        total_value, rest = rest[0], rest[1:]
    elif kind in ("sell", "return"):
        if rest:
            if not isinstance(rest[0], Amount) or len(rest) > 2:
                return None, _expects(entry, kind)
            total_value, rest = rest[0], rest[1:]
    if rest:
        if (
            kind not in ("purchase", "sell", "return")
            or not isinstance(rest[0], str)
            or not account_lib.is_valid(rest[0])
        ):
            return None, _expects(entry, kind)
        account = rest[0]
    if quantity is None or quantity < 0 or (quantity == 0 and kind not in ZERO_QUANTITY_OK):
        return None, _error(entry, f'"{kind}" expects a positive quantity, got {quantity} {item}')
    total = _money(total_value)
    if total_value is not None and (total is None or total.number < 0):
        return None, _error(entry, f'"{kind}" expects a zero or positive total, got {total_value}')
    return Event(kind, entry, entry.date, quantity, item, total, account), None


def _expects(entry: data.Custom, kind: str) -> BackflushError:
    signature, example = SIGNATURES[kind]
    got = " ".join(_show(v.value) for v in entry.values[1:]) or "nothing"
    return _error(
        entry, f'"{kind}" expects {signature} (e.g. custom "backflush" {example}), got {got}'
    )


def _show(value: object) -> str:
    if isinstance(value, str):
        return value if account_lib.is_valid(value) else f'"{value}"'
    return str(value)


def _error(entry: data.Custom, message: str) -> BackflushError:
    return BackflushError(entry.meta, message, entry)

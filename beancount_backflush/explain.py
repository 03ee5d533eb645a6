"""``bean-backflush explain LEDGER ACCOUNT-OR-ITEM [--date D]``: the audit trail of a balance.

Every posting that built the balance of an account (with its sub-accounts, as a Beancount
``balance`` assertion counts them) or of an item across the accounts that hold it, in date
order, with the file and line of the directive (or hand-written entry) it came from, the
event, the quantity, the amount at cost and the running balance. The last running balance is
the ledger's own balance on that date: every figure is read from the loaded postings.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from beancount.core import account as account_lib
from beancount.core import data
from beancount.core.position import Cost

from . import contract
from .errors import did_you_mean
from .standards import Standards
from .toolbox import ToolError, money, posting_value, qty, table, under, where, write_csv

ZERO = Decimal(0)


@dataclass(frozen=True)
class Line:
    date: datetime.date
    source: str
    event: str
    description: str
    account: str
    units: Decimal
    commodity: str
    cost: Decimal | None
    amount: Decimal
    currency: str
    balance_units: Decimal  # item mode: units on hand; account mode: units of this commodity
    balance: dict[str, Decimal]  # value at cost, by currency


@dataclass
class Explanation:
    target: str
    kind: str  # "account" or "item"
    end_date: datetime.date | None
    lines: list[Line]
    balance: dict[str, Decimal]
    units: dict[str, Decimal]  # commodity -> units held at the end


def explain(
    entries: Sequence[data.Directive],
    target: str,
    end_date: datetime.date | None = None,
    standards: Standards | None = None,
    base: str | None = None,
) -> Explanation:
    accounts = _accounts(entries)
    parents = {a for account in accounts for a in account_lib.parents(account)}
    if target in parents or ":" in target:
        if not account_lib.is_valid(target) and target not in parents:
            raise ToolError(f"{target!r} is not a valid account name")
        if target not in parents:
            hint = did_you_mean(target, sorted(parents), "")
            raise ToolError(f"no account {target} in this ledger{hint}")
        kind = "account"

        def wanted(posting: data.Posting) -> bool:
            return under(posting.account, target)
    else:
        held = _held_commodities(entries)
        known = set(held)
        if standards is not None:
            known |= set(standards.materials) | set(standards.products)
        if target not in known:
            hint = did_you_mean(target, sorted(known), "")
            raise ToolError(f"{target} is neither an account nor an item of this ledger{hint}")
        kind = "item"

        def wanted(posting: data.Posting) -> bool:
            units = posting.units
            return units is not None and units.currency == target

    lines: list[Line] = []
    balance: dict[str, Decimal] = {}
    units_held: dict[str, Decimal] = {}
    for entry in entries:
        if end_date is not None and entry.date > end_date:
            break
        if not isinstance(entry, data.Transaction):
            continue
        for posting in entry.postings:
            if not wanted(posting):
                continue
            value = posting_value(posting)
            if value is None:
                continue
            amount, currency = value
            units = posting.units
            assert units is not None and units.number is not None
            balance[currency] = balance.get(currency, ZERO) + amount
            units_held[units.currency] = units_held.get(units.currency, ZERO) + units.number
            cost = posting.cost.number if isinstance(posting.cost, Cost) else None
            lines.append(
                Line(
                    entry.date,
                    where(entry.meta, base),
                    _event(entry),
                    entry.narration or entry.payee or "",
                    posting.account,
                    units.number,
                    units.currency,
                    cost,
                    amount,
                    currency,
                    units_held[units.currency],
                    dict(balance),
                )
            )
    return Explanation(
        target,
        kind,
        end_date,
        lines,
        {c: v for c, v in balance.items() if v},
        {c: u for c, u in units_held.items() if u},
    )


def _event(entry: data.Transaction) -> str:
    """The event, with the directive's quantity and item: ``produce 10 FRAME``."""
    event = contract.event_of(entry.meta)
    if event:
        item = contract.item_of(entry.meta)
        quantity = contract.decimal_meta(entry.meta, contract.META_QUANTITY)
        if item and quantity is not None:
            return f"{event} {qty(quantity)} {item}"
        return event
    if entry.flag == "P":
        return "pad"
    return "entry"


def _accounts(entries: Sequence[data.Directive]) -> set[str]:
    found: set[str] = set()
    for entry in entries:
        if isinstance(entry, data.Open):
            found.add(entry.account)
        elif isinstance(entry, data.Transaction):
            found.update(p.account for p in entry.postings)
    return found


def _held_commodities(entries: Sequence[data.Directive]) -> set[str]:
    """Commodities held at cost somewhere (items, and any other lots)."""
    found: set[str] = set()
    for entry in entries:
        if isinstance(entry, data.Transaction):
            for posting in entry.postings:
                if posting.cost is not None and posting.units is not None:
                    found.add(posting.units.currency)
    return found


# -- rendering ---------------------------------------------------------------------------------


def _balance_text(balance: dict[str, Decimal]) -> str:
    shown = [f"{money(v)} {c}" for c, v in sorted(balance.items()) if v]
    return ", ".join(shown) or "0"


def _short_account(account: str, target: str, kind: str) -> str:
    if kind == "account":
        return "." if account == target else account[len(target) :]
    return account


def render_text(report: Explanation) -> str:
    through = f" through {report.end_date}" if report.end_date else ""
    if report.kind == "account":
        title = f"{report.target} (with sub-accounts){through}: {len(report.lines)} postings"
    else:
        title = (
            f"{report.target} across the accounts that hold it{through}: "
            f"{len(report.lines)} postings"
        )
    multi_account = len({line.account for line in report.lines}) > 1
    headers = ["date", "source", "event"]
    if multi_account:
        headers.append("account")
    if report.kind == "item":
        headers += ["units", "cost", "value", "units held", "value held"]
    else:
        headers += ["quantity", "amount", "balance"]
    rows = []
    for line in report.lines:
        event = line.event if line.event != "entry" else _quote(line.description)
        row = [str(line.date), line.source, event]
        if multi_account:
            row.append(_short_account(line.account, report.target, report.kind))
        if report.kind == "item":
            row += [
                qty(line.units),
                money(line.cost) if line.cost is not None else "",
                money(line.amount),
                qty(line.balance_units),
                _balance_text(line.balance),
            ]
        else:
            quantity = f"{qty(line.units)} {line.commodity}" if line.cost is not None else ""
            row += [quantity, f"{money(line.amount)} {line.currency}", _balance_text(line.balance)]
        rows.append(row)
    align = "lll" + ("l" if multi_account else "") + "r" * (len(headers) - 3 - multi_account)
    out = [title, ""]
    if rows:
        out.append(table(headers, rows, align))
    end = f"on {report.end_date}" if report.end_date else "at the end of the ledger"
    if report.kind == "item":
        out.append(
            f"Balance {end}: {qty(report.units.get(report.target, ZERO))} {report.target}, "
            f"{_balance_text(report.balance)}"
        )
    else:
        out.append(f"Balance {end}: {_balance_text(report.balance)}")
        lots = {c: u for c, u in report.units.items() if c not in report.balance}
        if lots:
            out.append(f"Units held: {', '.join(f'{qty(u)} {c}' for c, u in sorted(lots.items()))}")
    return "\n".join(out) + "\n"


def _quote(text: str, width: int = 30) -> str:
    text = " ".join(text.split())
    if len(text) > width:
        text = text[: width - 1] + "…"
    return f'"{text}"'


HEADERS = [
    "date",
    "source",
    "event",
    "description",
    "account",
    "units",
    "commodity",
    "cost",
    "amount",
    "currency",
    "units_held",
    "balance",
]


def _row(line: Line) -> list[Any]:
    return [
        line.date.isoformat(),
        line.source,
        line.event,
        line.description,
        line.account,
        f"{line.units:f}",
        line.commodity,
        None if line.cost is None else f"{line.cost:f}",
        f"{line.amount:f}",
        line.currency,
        f"{line.balance_units:f}",
        f"{line.balance.get(line.currency, ZERO):f}",
    ]


def render_csv(report: Explanation) -> str:
    return write_csv(HEADERS, (_row(line) for line in report.lines))


def as_json(report: Explanation) -> dict[str, Any]:
    return {
        "target": report.target,
        "kind": report.kind,
        "date": report.end_date,
        "balance": report.balance,
        "units": report.units,
        "postings": [dict(zip(HEADERS, _row(line), strict=True)) for line in report.lines],
    }


def ledger_base(path: str) -> str:
    return os.path.dirname(os.path.abspath(path))

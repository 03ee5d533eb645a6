"""``bean-backflush check LEDGER [--max-uninventoried X] [--max-days-since-count N]``:
bean-check plus health thresholds, for CI and git pre-commit hooks.

The ledger is loaded exactly as ``bean-check`` loads it (same loader, same extra
validations, same cache; ``--no-cache`` as ``bean-check -C``) and every error is printed as
bean-check prints it. Then, optionally:

- ``--max-uninventoried X`` (a share of COGS, ``0.05`` or ``5%``): each close's uninventoried
  amount (``backflush_uninventoried``, under the two-trigger variants) over the period's
  standard COGS (``backflush_cogs``) must not exceed X;
- ``--max-days-since-count N``: every item on hand at the ledger's last date must have been
  counted (a ``count`` directive) within N days of that date; an item never counted fails
  once it has been in stock for more than N days.

A failed threshold prints as ``file:line: message`` (the close, the item's last count or its
first receipt). The exit status is 1 when there is any error or failure, else 0 (2 when the
command itself cannot run).
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from beancount import loader
from beancount.core import data
from beancount.ops import validation

from . import contract
from .standards import Standards
from .toolbox import (
    ToolError,
    format_errors,
    inventory_parents,
    last_date,
    money,
    qty,
    source_of,
    standards_of,
    under,
    where,
    write_json,
)

ZERO = Decimal(0)


@dataclass(frozen=True)
class Failure:
    check: str  # "uninventoried" or "count"
    source: dict[str, Any]
    message: str


@dataclass
class CheckResult:
    path: str
    errors: list[Any]
    failures: list[Failure] = field(default_factory=list)
    closes_checked: int = 0
    items_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors and not self.failures


def parse_share(text: str) -> Decimal:
    """``0.05`` or ``5%``."""
    raw = text.strip()
    try:
        share = Decimal(raw[:-1]) / 100 if raw.endswith("%") else Decimal(raw)
    except InvalidOperation:
        raise ToolError(
            f"--max-uninventoried expects a share like 0.05 or 5%, got {text!r}"
        ) from None
    if not share.is_finite() or share < 0:
        raise ToolError(f"--max-uninventoried expects a share of zero or more, got {text!r}")
    return share


def load_as_bean_check(
    path: str, use_cache: bool = True
) -> tuple[list[Any], list[Any], dict[str, Any]]:
    if not os.path.isfile(path):
        raise ToolError(f"{path}: no such ledger file")
    if not use_cache:
        loader.initialize(False)  # as bean-check -C
    try:
        return loader.load_file(path, extra_validations=validation.HARDCORE_VALIDATIONS)
    finally:
        if not use_cache:
            loader.initialize(os.getenv("BEANCOUNT_DISABLE_LOAD_CACHE") is None)


def check(
    path: str,
    max_uninventoried: Decimal | None = None,
    max_days_since_count: int | None = None,
    use_cache: bool = True,
) -> CheckResult:
    entries, errors, options_map = load_as_bean_check(path, use_cache)
    result = CheckResult(path, list(errors))
    _check_plugin_ran(entries, result)
    if max_uninventoried is None and max_days_since_count is None:
        return result
    if max_uninventoried is not None:
        _check_uninventoried(entries, max_uninventoried, result)
    if max_days_since_count is not None:
        standards = standards_of(options_map, path)
        _check_counts(entries, standards, max_days_since_count, result)
    return result


def _check_plugin_ran(entries: Sequence[Any], result: CheckResult) -> None:
    """The plugin consumes every backflush directive; one left means it never ran — most
    often because its ``plugin`` line is in an included file, which Beancount ignores
    without a word (bean-check then posts nothing and reports nothing)."""
    left = next((e for e in entries if isinstance(e, data.Custom) and e.type == "backflush"), None)
    if left is not None:
        result.failures.append(
            Failure(
                "plugin",
                source_of(left.meta),
                "backflush directives were not expanded: the beancount_backflush plugin did "
                "not run. Put its plugin line in the top-level ledger file (Beancount ignores "
                "a plugin line in an included file).",
            )
        )


def _check_uninventoried(entries: Sequence[Any], limit: Decimal, result: CheckResult) -> None:
    for entry in entries:
        if not isinstance(entry, data.Transaction):
            continue
        if contract.event_of(entry.meta) != contract.CLOSE:
            continue
        amount = contract.decimal_meta(entry.meta, contract.META_UNINVENTORIED)
        if amount is None:
            continue
        result.closes_checked += 1
        cogs = abs(contract.decimal_meta(entry.meta, contract.META_COGS) or ZERO)
        if cogs:
            share = amount / cogs
            over = share > limit
            shown = f"{share:.1%} of the period's COGS ({money(cogs)})"
        else:
            over = amount > 0
            shown = "with no COGS in the period"
        if over:
            result.failures.append(
                Failure(
                    "uninventoried",
                    _source(entry.meta),
                    f"{money(amount)} left uninventoried at the close of {entry.date}, "
                    f"{shown}: above --max-uninventoried {_percent(limit)}",
                )
            )


def _percent(share: Decimal) -> str:
    text = f"{(share * 100).normalize():f}"
    return f"{text}%"


def _check_counts(
    entries: Sequence[Any], standards: Standards, max_days: int, result: CheckResult
) -> None:
    parents = inventory_parents(standards)
    end = last_date(entries)
    if end is None:
        return
    on_hand: dict[str, Decimal] = {}
    first_in: dict[str, tuple[datetime.date, dict[str, Any]]] = {}
    last_count: dict[str, tuple[datetime.date, dict[str, Any]]] = {}
    for entry in entries:
        if not isinstance(entry, data.Transaction):
            continue
        if contract.event_of(entry.meta) == contract.COUNT:
            item = contract.item_of(entry.meta)
            if item is not None:
                last_count[item] = (entry.date, entry.meta)
        for posting in entry.postings:
            units = posting.units
            if posting.cost is None or units is None or units.number is None:
                continue
            if not any(under(posting.account, parent) for parent in parents):
                continue
            on_hand[units.currency] = on_hand.get(units.currency, ZERO) + units.number
            if units.number > 0 and units.currency not in first_in:
                first_in[units.currency] = (entry.date, entry.meta)
    for item in sorted(on_hand):
        if not on_hand[item]:
            continue
        result.items_checked += 1
        known = standards.materials.get(item) or standards.products.get(item)
        held = f"{qty(on_hand[item])} {(known.unit if known else None) or item} on hand"
        counted = last_count.get(item)
        if counted is not None:
            days = (end - counted[0]).days
            if days > max_days:
                result.failures.append(
                    Failure(
                        "count",
                        _source(counted[1]),
                        f"{item} last counted on {counted[0]}, {days} days before the ledger's "
                        f"last date {end} (--max-days-since-count {max_days}); {held}",
                    )
                )
            continue
        since, meta = first_in.get(item, (end, {}))
        days = (end - since).days
        if days > max_days:
            result.failures.append(
                Failure(
                    "count",
                    _source(meta),
                    f"{item} never counted, in stock since {since} ({days} days before the "
                    f"ledger's last date {end}; --max-days-since-count {max_days}); {held}",
                )
            )


def _source(meta: dict[str, Any] | None) -> dict[str, Any]:
    return source_of(meta)


# -- rendering ---------------------------------------------------------------------------------


def render_failures(result: CheckResult) -> str:
    """Threshold failures in bean-check's ``file:line: message`` form."""
    return "".join(f"{where(f.source)}: {f.message}\n" for f in result.failures)


def summary(result: CheckResult) -> str:
    parts = [
        f"{len(result.errors)} Beancount error(s)",
        f"{len(result.failures)} threshold failure(s)",
    ]
    return f"{os.path.basename(result.path)}: " + ", ".join(parts)


def as_json(result: CheckResult) -> str:
    def error_dict(error: Any) -> dict[str, Any]:
        source = getattr(error, "source", None) or {}
        return {
            "message": getattr(error, "message", str(error)),
            "filename": source.get("filename"),
            "lineno": source.get("lineno"),
        }

    return write_json(
        {
            "ok": result.ok,
            "errors": [error_dict(e) for e in result.errors],
            "failures": [
                {
                    "check": f.check,
                    "message": f.message,
                    "filename": f.source.get("filename"),
                    "lineno": f.source.get("lineno"),
                }
                for f in result.failures
            ],
            "closes_checked": result.closes_checked,
            "items_checked": result.items_checked,
        }
    )


def text_errors(result: CheckResult) -> str:
    return format_errors(result.errors)

"""Shared machinery of the plain-text tools (explain, compare-policies, diff-standards,
check, init): loading a ledger with its standards swapped, reading balances back, and
printing tables as text, CSV or JSON.

:func:`parse` reads and books a ledger once, exactly as Beancount's loader does before it
runs plugins (includes, options, booking); :func:`run` then finishes the load — every
plugin of the ledger in its order, then Beancount's validation — with the backflush plugin
replaced by a hook that expands the directives under a *transformed* Standards object
(another trigger variant, another disposition). So a rerun is the ledger as bean-check
would load it had its standards file said something else, nothing more.
"""

from __future__ import annotations

import contextvars
import csv
import datetime
import io
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from beancount import loader
from beancount.core import data
from beancount.core.position import Cost
from beancount.ops import validation
from beancount.parser import booking, printer

from . import contract, plugin
from .errors import BackflushError, describe_fault
from .standards import Standards, load_standards

ZERO = Decimal(0)
PLUGIN_NAMES = ("beancount_backflush", "beancount_backflush.plugin")
HOOK_MODULE = "beancount_backflush.toolbox"

Transform = Callable[[Standards], Standards]
EntryFilter = Callable[[list[data.Directive]], list[data.Directive]]


class ToolError(Exception):
    """A problem that stops a tool: printed as one line on stderr, exit status 2."""


# -- loading -----------------------------------------------------------------------------------


@dataclass
class Parsed:
    """A ledger parsed and booked: what the loader hands to plugins."""

    path: str
    entries: list[data.Directive]
    errors: list[Any]
    options_map: dict[str, Any]


@dataclass
class Loaded:
    path: str
    entries: list[data.Directive]
    errors: list[Any]
    options_map: dict[str, Any]
    standards: Standards | None


@dataclass
class _Run:
    transform: Transform | None
    prepare: EntryFilter | None
    standards: Standards | None = None
    ran: bool = False
    extra_errors: list[Any] = field(default_factory=list)


_CURRENT: contextvars.ContextVar[_Run | None] = contextvars.ContextVar(
    "beancount_backflush_rerun", default=None
)


def parse(path: str) -> Parsed:
    """Parse (with includes) and book the ledger, as the loader does before plugins run."""
    if not os.path.isfile(path):
        raise ToolError(f"{path}: no such ledger file")
    absolute = os.path.normpath(os.path.abspath(os.path.expanduser(path)))
    # beancount.loader's own parse stage (private, but the one place includes, options and
    # the top-level file name are resolved exactly as bean-check resolves them).
    entries, errors, options_map = loader._parse_recursive([(absolute, True)], None)
    entries.sort(key=data.entry_sortkey)
    entries, booking_errors = booking.book(entries, options_map)
    return Parsed(absolute, entries, list(errors) + list(booking_errors), options_map)


def run(
    parsed: Parsed,
    transform: Transform | None = None,
    prepare: EntryFilter | None = None,
) -> Loaded:
    """Finish the load of ``parsed``: plugins in the ledger's order (the backflush plugin
    with ``transform`` applied to its standards, and ``prepare`` applied to the entries it
    receives), then validation. ``parsed`` is left as it was."""
    options_map = dict(parsed.options_map)
    for key in ("include", "plugin"):
        if isinstance(options_map.get(key), list):
            options_map[key] = list(options_map[key])
    original_plugins = options_map.get("plugin", [])
    options_map["plugin"] = [
        (HOOK_MODULE, config) if name in PLUGIN_NAMES else (name, config)
        for name, config in original_plugins
    ]
    state = _Run(transform, prepare)
    token = _CURRENT.set(state)
    saved_path = list(sys.path)
    try:
        if "pythonpath" in options_map:
            sys.path[0:0] = options_map["pythonpath"]
        entries, errors = loader.run_transformations(
            list(parsed.entries), parsed.errors, options_map, None
        )
    finally:
        sys.path[:] = saved_path
        _CURRENT.reset(token)
        options_map["plugin"] = original_plugins
    errors = list(errors) + validation.validate(entries, options_map, None, None)
    return Loaded(parsed.path, entries, errors, options_map, state.standards)


def load(path: str, transform: Transform | None = None) -> Loaded:
    return run(parse(path), transform)


def hook(
    entries: list[data.Directive], options_map: dict[str, Any], config: str | None = None
) -> tuple[list[data.Directive], list[Any]]:
    """Stands in for the backflush plugin during :func:`run`."""
    state = _CURRENT.get()
    if state is None or state.ran:
        # Outside a rerun (or a second plugin line): behave as the plugin itself.
        return plugin.backflush(entries, options_map, config)
    state.ran = True
    path = plugin.standards_path(options_map, config)
    standards, errors = load_standards(path)
    if standards is None:
        return plugin.backflush(entries, options_map, config)
    try:
        if state.transform is not None:
            standards = state.transform(standards)
        if state.prepare is not None:
            entries = state.prepare(entries)
        state.standards = standards
        new_entries, engine_errors = plugin.apply_standards(entries, options_map, standards)
    except Exception as exc:  # noqa: BLE001 - as the plugin: never lose the ledger
        return entries, [
            *errors,
            BackflushError(
                {"filename": path, "lineno": 1},
                f"backflush rerun failed and posted nothing ({describe_fault(exc)})",
                None,
            ),
        ]
    return new_entries, list(errors) + list(engine_errors)


__plugins__ = (hook,)


def load_plain(path: str) -> tuple[list[data.Directive], list[Any], dict[str, Any]]:
    """The ledger as bean-check loads it (Beancount's own loader, cache and all)."""
    if not os.path.isfile(path):
        raise ToolError(f"{path}: no such ledger file")
    return loader.load_file(path)


def standards_of(options_map: Mapping[str, Any], path: str) -> Standards:
    standards = plugin.standards_for(options_map)
    if standards is None:
        raise ToolError(f"{path}: no usable backflush standards file (see bean-check {path})")
    return standards


# -- reading the books -------------------------------------------------------------------------


def under(account: str, parent: str) -> bool:
    return account == parent or account.startswith(parent + ":")


def posting_value(posting: data.Posting) -> tuple[Decimal, str] | None:
    """A posting's book value: units at cost for a lot, else its units."""
    units = posting.units
    if units is None or units.number is None:
        return None
    cost = posting.cost
    if isinstance(cost, Cost) and cost.number is not None:
        return units.number * cost.number, cost.currency
    return units.number, units.currency


def inventory_parents(standards: Standards) -> list[str]:
    """Where inventory can be held: RIP and FG (and their :Adjustment sub-accounts)."""
    accounts = standards.accounts
    return [accounts["raw_in_process"], accounts["finished_goods"]]


def variance_parents(standards: Standards) -> list[str]:
    """Variance and conversion-pool accounts (a pool's under/over-allocation)."""
    parents: list[str] = list(standards.variance_accounts.values())
    for pool in standards.pools.values():
        parents += [pool.incurred, pool.allocated]
    return parents


def last_date(entries: Iterable[data.Directive]) -> datetime.date | None:
    last = None
    for entry in entries:
        if last is None or entry.date > last:
            last = entry.date
    return last


def month_of(date: datetime.date) -> str:
    return f"{date.year:04d}-{date.month:02d}"


def generated(entries: Iterable[data.Directive]) -> Iterable[data.Transaction]:
    for entry in entries:
        if isinstance(entry, data.Transaction) and contract.event_of(entry.meta):
            yield entry


# -- presentation ------------------------------------------------------------------------------


def source_of(meta: Mapping[str, Any] | None) -> dict[str, Any]:
    """Where an entry comes from: its ``filename``/``lineno``; for an entry the standards
    file caused (a revaluation, a scheduled close) under a ``<...>`` filename, the
    ``backflush_source`` file:line it names."""
    meta = meta or {}
    filename = str(meta.get("filename", "?"))
    lineno = meta.get("lineno", 0)
    named = meta.get(contract.META_SOURCE)
    if filename.startswith("<") and isinstance(named, str):
        name, _, line = named.rpartition(":")
        if name and line.isdigit():
            return {"filename": name, "lineno": int(line)}
    return {"filename": filename, "lineno": lineno}


def where(meta: Mapping[str, Any] | None, base: str | None = None) -> str:
    """``file:line`` of an entry's source, relative to ``base`` when under it."""
    if not meta:
        return "?"
    source = source_of(meta)
    filename, lineno = source["filename"], source["lineno"]
    if base and not filename.startswith("<"):
        try:
            relative = os.path.relpath(filename, base)
            if not relative.startswith(".."):
                filename = relative
        except ValueError:
            pass
    return f"{filename}:{lineno}"


def money(number: Decimal | None, places: int = 2, signed: bool = False) -> str:
    if number is None:
        return "—"
    quantum = Decimal(1).scaleb(-places)
    text = f"{number.quantize(quantum):,.{places}f}"
    if text.startswith("-") and not number.quantize(quantum):
        text = text[1:]  # no "-0.00"
    if signed and not text.startswith("-"):
        text = "+" + text
    return text


def qty(number: Decimal | None) -> str:
    if number is None:
        return "—"
    normal = number.normalize()
    if normal == normal.to_integral_value():
        return f"{normal.quantize(Decimal(1)):,}"
    return f"{normal:,f}"


def decimal_text(number: Decimal | None) -> str | None:
    """A Decimal for JSON/CSV: exact text, no exponent."""
    if number is None:
        return None
    return f"{number:f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str | None = None) -> str:
    """A plain-text table; ``align`` is one letter per column, l or r (default: first l)."""
    align = align or "l" + "r" * (len(headers) - 1)
    widths = [len(h) for h in headers]
    for row in rows:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.ljust(widths[i]) if align[i] == "l" else cell.rjust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return "  ".join(parts).rstrip()

    out = [line(headers), "  ".join("-" * w for w in widths)]
    out += [line(row) for row in rows]
    return "\n".join(out) + "\n"


def write_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if cell is None else cell for cell in row])
    return buffer.getvalue()


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def write_json(document: Any) -> str:
    return json.dumps(document, indent=2, default=_json_default, ensure_ascii=False) + "\n"


def format_errors(errors: Sequence[Any]) -> str:
    """Errors exactly as bean-check prints them (``file:line: message``)."""
    buffer = io.StringIO()
    printer.print_errors(list(errors), file=buffer)
    return buffer.getvalue()


def parse_date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError as exc:
        raise ToolError(f"not a date (YYYY-MM-DD): {text!r}") from exc

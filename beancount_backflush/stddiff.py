"""``bean-backflush diff-standards OLD NEW [--ledger L] [--date D]``: what a change of
standards does, in figures.

OLD and NEW are standards files or ``REV:PATH`` git revisions (``HEAD~1:standards.yaml``,
read with ``git show`` run in PATH's directory, so PATH is relative to where you are). For
each material the old and new standard cost; for each product the old and new standard by
cost element (materials, each conversion pool, total) in force on the date. With a ledger:
the revaluation the change would post on the stock on hand at the date (quantity on hand x
(new - old) per item; the plugin posts the other side to the revaluation variance, or under
``disposition: prorate`` each element's part to the inventory's ``:Adjustment`` accounts), and
the margin change at the sales volumes of the ledger's last closed period.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from beancount.core import data

from . import contract, yamlio
from .standards import Standards, load_standards, parse_standards
from .toolbox import (
    ToolError,
    format_errors,
    generated,
    inventory_parents,
    last_date,
    money,
    qty,
    table,
    under,
    where,
    write_csv,
)

ZERO = Decimal(0)


# -- reading a standards file or a git revision of one -----------------------------------------


def read_standards(spec: str) -> Standards:
    """A standards file, or ``REV:PATH`` read from git. Raises ToolError when unusable."""
    if os.path.isfile(spec):
        standards, errors = load_standards(spec)
        return _usable(spec, standards, errors)
    if ":" not in spec:
        raise ToolError(f"{spec}: no such standards file (nor REV:PATH git revision)")
    rev, path = spec.split(":", 1)
    if not rev or not path:
        raise ToolError(f"{spec}: expected a file or REV:PATH, e.g. HEAD~1:standards.yaml")
    text = git_show(rev, path)
    try:
        tree = yamlio.load(text)
    except yamlio.YamlProblem as problem:
        raise ToolError(f"{spec}:{problem.line}: standards file: {problem.message}") from None
    standards, errors = parse_standards(tree, spec)
    return _usable(spec, standards, errors)


def _usable(spec: str, standards: Standards | None, errors: Sequence[Any]) -> Standards:
    if standards is None:
        detail = format_errors(errors).strip().splitlines()
        first = detail[0] if detail else "unusable"
        raise ToolError(f"{spec}: the standards file has errors: {first}")
    if errors:
        sys.stderr.write(format_errors(errors))
    return standards


def git_show(rev: str, path: str) -> str:
    """The text of ``path`` at revision ``rev``; ``path`` is relative to where you are."""
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        raise ToolError(f"{rev}:{path}: no directory {directory!r} to run git in")
    name = "./" + os.path.basename(path)
    try:
        result = subprocess.run(
            ["git", "show", f"{rev}:{name}"],
            cwd=directory,
            capture_output=True,
            check=False,
            env={**os.environ, "GIT_PAGER": "cat", "LC_ALL": "C"},
        )
    except FileNotFoundError:
        raise ToolError(f"{rev}:{path}: git is not installed") from None
    if result.returncode != 0:
        raise ToolError(
            f"{rev}:{path}: {_git_problem(result.stderr.decode(errors='replace'), rev, path)}"
        )
    try:
        return result.stdout.decode("utf-8")
    except UnicodeDecodeError:
        raise ToolError(f"{rev}:{path}: not UTF-8 text at that revision") from None


def _git_problem(stderr: str, rev: str, path: str) -> str:
    text = stderr.lower()
    if "not a git repository" in text:
        return f"{os.path.dirname(path) or '.'} is not inside a git repository"
    if "does not exist in" in text or "exists on disk, but not in" in text:
        return f"{path} is not in revision {rev}"
    if "invalid object name" in text or "unknown revision" in text or "bad revision" in text:
        return f"unknown git revision {rev!r}"
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return "git show failed: " + (lines[0] if lines else "no message")


# -- the comparison ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Element:
    item: str
    kind: str  # "material" or "product"
    element: str  # "cost" (a material), "materials", a pool name, "total"
    old: Decimal | None
    new: Decimal | None

    @property
    def change(self) -> Decimal | None:
        if self.old is None or self.new is None:
            return None
        return self.new - self.old


@dataclass(frozen=True)
class Revaluation:
    item: str
    on_hand: Decimal
    unit: str
    old: Decimal | None
    new: Decimal | None
    amount: Decimal  # on hand x (new - old): the change of inventory value
    # Where the plugin posts the other side (negative: a credit), per account and element:
    # under ``disposition: prorate`` each element's part goes to the ``:Adjustment`` account
    # of the inventory holding the stock; the rest to the revaluation variance.
    postings: tuple[tuple[str, str, Decimal], ...] = ()


@dataclass(frozen=True)
class Margin:
    item: str
    units_sold: Decimal
    old: Decimal | None
    new: Decimal | None
    amount: Decimal  # -units sold x (new - old)


@dataclass
class StandardsDiff:
    old_label: str
    new_label: str
    date: datetime.date
    currency: str
    elements: list[Element]
    ledger: str | None = None
    revaluation: list[Revaluation] = field(default_factory=list)
    revaluation_account: str | None = None
    disposition: str = "cogs"
    ppv_capitalised: bool = False  # purchase_price in close.variances (prorate only)
    period: tuple[datetime.date, datetime.date] | None = None
    period_source: str | None = None
    margin: list[Margin] = field(default_factory=list)
    phantoms: frozenset[str] = frozenset()

    def totals(self, item: str) -> tuple[Decimal | None, Decimal | None]:
        for element in self.elements:
            if element.item == item and element.element in ("total", "cost"):
                return element.old, element.new
        return None, None

    @property
    def changed_items(self) -> list[str]:
        seen: list[str] = []
        for element in self.elements:
            if element.change != 0 and element.item not in seen:
                seen.append(element.item)
        return seen


def compare(old: Standards, new: Standards, date: datetime.date) -> list[Element]:
    elements: list[Element] = []
    for name in _union(old.materials, new.materials):
        elements.append(
            Element(name, "material", "cost", _total(old, name, date), _total(new, name, date))
        )
    pools = _union(old.pools, new.pools)
    for name in _union(old.products, new.products):
        before = old.rollup(name, date) if name in old.products else None
        after = new.rollup(name, date) if name in new.products else None
        elements.append(
            Element(
                name,
                "product",
                "materials",
                before.material if before else None,
                after.material if after else None,
            )
        )
        for pool in pools:
            elements.append(
                Element(
                    name,
                    "product",
                    pool,
                    before.conversion.get(pool, ZERO) if before else None,
                    after.conversion.get(pool, ZERO) if after else None,
                )
            )
        elements.append(
            Element(
                name,
                "product",
                "total",
                before.total if before else None,
                after.total if after else None,
            )
        )
    return elements


def _total(standards: Standards, item: str, date: datetime.date) -> Decimal | None:
    if not standards.is_item(item):
        return None
    rollup = standards.rollup(item, date)
    return rollup.total if rollup else None


def _union(first: Any, second: Any) -> list[str]:
    names = list(first)
    names += [name for name in second if name not in first]
    return names


def diff_standards(
    old: Standards,
    new: Standards,
    date: datetime.date,
    old_label: str,
    new_label: str,
    ledger: tuple[str, list[data.Directive], Standards | None] | None = None,
) -> StandardsDiff:
    report = StandardsDiff(old_label, new_label, date, new.currency, compare(old, new, date))
    report.phantoms = frozenset(
        name
        for standards in (old, new)
        for name, product in standards.products.items()
        if product.phantom
    )
    if ledger is None:
        return report
    path, entries, ledger_standards = ledger
    report.ledger = path
    holder = ledger_standards or new
    report.revaluation_account = holder.variance_accounts["revaluation"]
    report.disposition = holder.close.disposition
    report.ppv_capitalised = "purchase_price" in holder.close.variances
    base = os.path.dirname(os.path.abspath(path))
    parents = inventory_parents(holder)
    held: dict[str, dict[str, Decimal]] = {}  # item -> account -> units
    for entry in entries:
        if entry.date > date:
            break
        if isinstance(entry, data.Transaction):
            for posting in entry.postings:
                if posting.cost is None or not any(under(posting.account, p) for p in parents):
                    continue
                units = posting.units
                if units is not None and units.number is not None:
                    accounts = held.setdefault(units.currency, {})
                    accounts[posting.account] = accounts.get(posting.account, ZERO) + units.number
    for item, accounts in held.items():
        quantity = sum(accounts.values(), ZERO)
        if not quantity:
            continue
        before, after = report.totals(item)
        if before is None and after is None:  # a co-product: its process's share
            before, after = _total(old, item, date), _total(new, item, date)
        change = (after - before) if before is not None and after is not None else ZERO
        report.revaluation.append(
            Revaluation(
                item,
                quantity,
                _unit(holder, item),
                before,
                after,
                quantity * change,
                _postings(report, old, new, item, date, accounts, change),
            )
        )
    report.revaluation.sort(key=lambda r: r.item)
    period = _last_period(entries, date)
    if period is not None:
        start, end, source = period
        report.period = (start, end)
        report.period_source = where(source, base) if source else None
        sold: dict[str, Decimal] = {}
        for txn in generated(entries):
            if not start <= txn.date <= end:
                continue
            event = contract.event_of(txn.meta)
            sold_item = contract.item_of(txn.meta)
            sold_qty = contract.decimal_meta(txn.meta, contract.META_QUANTITY)
            if sold_item is None or sold_qty is None:
                continue
            if event == contract.SELL:
                sold[sold_item] = sold.get(sold_item, ZERO) + sold_qty
            elif event == contract.RETURN:
                sold[sold_item] = sold.get(sold_item, ZERO) - sold_qty
        for item in sorted(sold):
            before, after = report.totals(item)
            change = (after - before) if before is not None and after is not None else ZERO
            report.margin.append(Margin(item, sold[item], before, after, -sold[item] * change))
    return report


def _postings(
    report: StandardsDiff,
    old: Standards,
    new: Standards,
    item: str,
    date: datetime.date,
    accounts: dict[str, Decimal],
    change: Decimal,
) -> tuple[tuple[str, str, Decimal], ...]:
    """The other side of the revaluation of ``item``, as the plugin posts it
    (revaluation.py): under ``disposition: prorate`` the material part (when the purchase
    price variance is capitalised) and each pool's part go to the holding account's
    ``:Adjustment`` sub-account, netting against what was capitalised for that element;
    whatever is left goes to the revaluation variance."""
    account = report.revaluation_account or ""
    postings: list[tuple[str, str, Decimal]] = []
    rest = ZERO
    before = old.rollup(item, date) if old.is_item(item) else None
    after = new.rollup(item, date) if new.is_item(item) else None
    for holding, units in sorted(accounts.items()):
        if not units:
            continue
        difference = units * change
        if report.disposition == "prorate" and before is not None and after is not None:
            adjustment = holding + ":Adjustment"
            if report.ppv_capitalised:
                part = units * (after.material - before.material)
                if part:
                    postings.append((adjustment, "materials", -part))
                    difference -= part
            for pool in sorted({*before.conversion, *after.conversion}):
                part = units * (
                    after.conversion.get(pool, ZERO) - before.conversion.get(pool, ZERO)
                )
                if part:
                    postings.append((adjustment, pool, -part))
                    difference -= part
        rest += difference
    if rest:
        postings.append((account, "revaluation", -rest))
    return tuple(postings)


def _unit(standards: Standards, item: str) -> str:
    """The item's unit (a co-product's own, or its process's), else blank."""
    return standards.unit_of(item) or ""


def _last_period(
    entries: list[data.Directive], date: datetime.date
) -> tuple[datetime.date, datetime.date, dict[str, Any] | None] | None:
    """The last closed period on or before ``date`` (from its close's metadata); without a
    close, the calendar month of the last sale on or before ``date``."""
    last_close = None
    last_sale = None
    for txn in generated(entries):
        if txn.date > date:
            continue
        event = contract.event_of(txn.meta)
        if event == contract.CLOSE:
            last_close = txn
        elif event in (contract.SELL, contract.RETURN):
            last_sale = txn
    if last_close is not None:
        since = contract.date_meta(last_close.meta, contract.META_SINCE) or last_close.date.replace(
            day=1
        )
        return since, last_close.date, last_close.meta
    if last_sale is not None:
        start = last_sale.date.replace(day=1)
        end = (start + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
        return start, min(end, date), None
    return None


# -- rendering ---------------------------------------------------------------------------------


def render_text(report: StandardsDiff, show_all: bool = False) -> str:
    ccy = report.currency
    out = [
        f"Standards in force on {report.date} ({ccy}): {report.old_label} -> {report.new_label}",
        "",
    ]
    changed = set(report.changed_items)
    rows: list[list[str]] = []
    previous = None
    for element in report.elements:
        if not show_all and element.item not in changed:
            continue
        if (
            element.kind == "product"
            and element.element != "total"
            and not (element.old or element.new)
        ):
            continue  # a pool this product does not use
        first = element.item != previous
        previous = element.item
        label = element.item + (" (phantom)" if element.item in report.phantoms else "")
        rows.append(
            [
                label if first else "",
                element.element,
                _cell(element.old),
                _cell(element.new),
                _change(element),
            ]
        )
    unchanged = len({e.item for e in report.elements}) - len(changed)
    if rows:
        out.append(table(["item", "element", "old", "new", "change"], rows, "llrrr"))
    else:
        out.append("No standard differs.\n")
    if unchanged and not show_all:
        out.append(f"{unchanged} item(s) unchanged (--all shows them).\n")
    if report.ledger is not None:
        out.append(_render_ledger(report))
    return "\n".join(out)


def _cell(number: Decimal | None) -> str:
    return "—" if number is None else money(number, _places(number))


def _places(number: Decimal) -> int:
    exponent = number.normalize().as_tuple().exponent
    return max(2, -exponent if isinstance(exponent, int) else 2)


def _change(element: Element) -> str:
    if element.old is None:
        return "added"
    if element.new is None:
        return "removed"
    change = element.new - element.old
    return money(change, _places(change), signed=True) if change else "0.00"


def _render_ledger(report: StandardsDiff) -> str:
    ccy = report.currency
    out = [
        f"Stock on hand on {report.date} ({os.path.basename(report.ledger or '')}), "
        "revalued at the new standard:",
        "",
    ]
    rows = []
    total = ZERO
    unchanged = 0
    for row in report.revaluation:
        total += row.amount
        if not row.amount:
            unchanged += 1
            continue
        rows.append(
            [
                row.item,
                f"{qty(row.on_hand)} {row.unit}".rstrip(),
                _cell(row.old),
                _cell(row.new),
                money(row.amount, signed=True),
            ]
        )
    if rows:
        out.append(table(["item", "on hand", "old", "new", "revaluation"], rows, "lrrrr"))
    if unchanged:
        out.append(f"{unchanged} other item(s) on hand keep their standard.\n")
    out += _render_other_side(report, total)
    out.append("")
    if report.period is None:
        out.append("No sales in the ledger up to that date: no margin change to show.")
        return "\n".join(out) + "\n"
    start, end = report.period
    source = f", closed at {report.period_source}" if report.period_source else ""
    out.append(f"Margin at the sales volumes of the last period, {start} to {end}{source}:")
    out.append("")
    rows = []
    margin = ZERO
    for sale in report.margin:
        margin += sale.amount
        change = (sale.new - sale.old) if sale.old is not None and sale.new is not None else None
        rows.append(
            [
                sale.item,
                qty(sale.units_sold),
                "—" if change is None else money(change, _places(change), signed=True),
                money(sale.amount, signed=True),
            ]
        )
    if rows:
        out.append(table(["item", "units sold", "standard change", "margin change"], rows))
    out.append(f"Margin change: {money(margin, signed=True)} {ccy} per period at these volumes")
    return "\n".join(out) + "\n"


def posting_totals(report: StandardsDiff) -> dict[tuple[str, str], Decimal]:
    """(account, element) -> the amount the plugin would post there, all items together."""
    totals: dict[tuple[str, str], Decimal] = {}
    for row in report.revaluation:
        for account, element, amount in row.postings:
            totals[(account, element)] = totals.get((account, element), ZERO) + amount
    return {key: amount for key, amount in totals.items() if amount}


def _render_other_side(report: StandardsDiff, total: Decimal) -> list[str]:
    """Where the revaluation goes, per the standards' close disposition."""
    ccy = report.currency
    head = f"Revaluation of inventory: {money(total, signed=True)} {ccy}"
    totals = posting_totals(report)
    if report.disposition != "prorate" or not any(
        element != "revaluation" for _, element in totals
    ):
        return [
            f"{head} (against {report.revaluation_account}: {money(-total, signed=True)} {ccy})"
        ]
    why = {
        "materials": "materials: nets against the capitalised purchase price variance",
        "revaluation": "the revaluation variance, a period cost"
        + ("" if report.ppv_capitalised else " (purchase price variance not capitalised)"),
    }
    rows = [
        [
            account,
            why.get(element, f"conversion: nets against the {element} pool"),
            money(amount, signed=True),
        ]
        for (account, element), amount in sorted(totals.items())
    ]
    return [
        f"{head}. Under disposition: prorate inventory is carried at actual cost, so the "
        "plugin posts the other side to the inventory's :Adjustment accounts, each element's "
        "part netting against what was capitalised for it:",
        "",
        table(["account", "element", "amount"], rows, "llr").rstrip("\n"),
    ]


ELEMENT_HEADERS = ["item", "kind", "element", "old", "new", "change"]


def _element_row(element: Element) -> list[Any]:
    return [
        element.item,
        element.kind,
        element.element,
        _dec(element.old),
        _dec(element.new),
        _dec(element.change),
    ]


def _dec(number: Decimal | None) -> str | None:
    return None if number is None else f"{number:f}"


def render_csv(report: StandardsDiff) -> str:
    """One table: standards rows, then (with a ledger) revaluation and margin rows."""
    headers = [*ELEMENT_HEADERS, "quantity", "amount"]
    rows: list[list[Any]] = [[*_element_row(e), None, None] for e in report.elements]
    for row in report.revaluation:
        rows.append(
            [
                row.item,
                "revaluation",
                "on hand",
                _dec(row.old),
                _dec(row.new),
                _dec(row.new - row.old) if row.old is not None and row.new is not None else None,
                _dec(row.on_hand),
                _dec(row.amount),
            ]
        )
    for (account, element), amount in posting_totals(report).items():
        rows.append([account, "revaluation posting", element, None, None, None, None, _dec(amount)])
    for margin in report.margin:
        rows.append(
            [
                margin.item,
                "margin",
                "units sold",
                _dec(margin.old),
                _dec(margin.new),
                _dec(margin.new - margin.old)
                if margin.old is not None and margin.new is not None
                else None,
                _dec(margin.units_sold),
                _dec(margin.amount),
            ]
        )
    return write_csv(headers, rows)


def as_json(report: StandardsDiff) -> dict[str, Any]:
    document: dict[str, Any] = {
        "old": report.old_label,
        "new": report.new_label,
        "date": report.date,
        "currency": report.currency,
        "elements": [
            dict(zip(ELEMENT_HEADERS, _element_row(e), strict=True)) for e in report.elements
        ],
    }
    if report.ledger is not None:
        document["ledger"] = report.ledger
        document["revaluation"] = {
            "account": report.revaluation_account,
            "disposition": report.disposition,
            "total": sum((r.amount for r in report.revaluation), ZERO),
            "postings": [
                {"account": account, "element": element, "amount": amount}
                for (account, element), amount in posting_totals(report).items()
            ],
            "items": [
                {
                    "item": r.item,
                    "on_hand": r.on_hand,
                    "old": r.old,
                    "new": r.new,
                    "amount": r.amount,
                }
                for r in report.revaluation
            ],
        }
        document["margin"] = {
            "period": list(report.period) if report.period else None,
            "close": report.period_source,
            "total": sum((m.amount for m in report.margin), ZERO),
            "items": [
                {
                    "item": m.item,
                    "units_sold": m.units_sold,
                    "old": m.old,
                    "new": m.new,
                    "amount": m.amount,
                }
                for m in report.margin
            ],
        }
    return document


def default_date(entries: list[data.Directive] | None) -> datetime.date:
    if entries:
        last = last_date(entries)
        if last is not None:
            return last
    return datetime.date.today()

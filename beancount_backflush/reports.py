"""Report data for Fava and the command line: inventory, variances, standards, health.

Plain functions over the loaded (plugin-expanded) entries, returning dataclasses; Fava's
templates and the CLI's text renderers only present them. Every figure is read from the
postings, so totals reconcile with the ledger's accounts by construction.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from beancount.core import data
from beancount.core.position import Cost

from .standards import VARIANCE_KINDS, Standards

ZERO = Decimal(0)
COUNT_OVERDUE_DAYS = 90
VARIANCE_TITLES = {
    "purchase_price": "Purchase price",
    "usage": "Usage",
    "shrinkage": "Shrinkage",
    "scrap": "Scrap",
    "revaluation": "Revaluation",
    "rounding": "Rounding",
}
ITEM_SPECIFIC = frozenset({"purchase_price", "usage", "shrinkage", "scrap", "revaluation"})


def _transactions(
    entries: Iterable[data.Directive], end: datetime.date | None
) -> list[data.Transaction]:
    return [
        e for e in entries if isinstance(e, data.Transaction) and (end is None or e.date <= end)
    ]


def _under(account: str, parent: str) -> bool:
    return account == parent or account.startswith(parent + ":")


# -- inventory ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class InventoryRow:
    account: str
    item: str
    unit: str
    quantity: Decimal
    unit_cost: Decimal | None
    value: Decimal
    last_count: datetime.date | None
    count_difference: Decimal | None


@dataclass(frozen=True)
class InventoryReport:
    currency: str
    end_date: datetime.date | None
    rows: list[InventoryRow]
    adjustments: list[tuple[str, Decimal]]
    by_account: dict[str, Decimal]
    total: Decimal
    cogs: Decimal
    days: int
    days_on_hand: Decimal | None


def inventory_accounts(standards: Standards) -> list[str]:
    accounts = standards.accounts
    if standards.variant == "completion-sale":
        return [accounts["finished_goods"]]
    if standards.variant == "purchase-sale":
        return [accounts["raw_in_process"]]
    return [accounts["raw_in_process"], accounts["finished_goods"]]


def _unit_of(standards: Standards, item: str) -> str:
    found = standards.materials.get(item) or standards.products.get(item)
    return (found.unit if found is not None else None) or "units"


def inventory_report(
    entries: Sequence[data.Directive],
    options_map: Mapping[str, Any],
    standards: Standards,
    end_date: datetime.date | None = None,
) -> InventoryReport:
    """Quantities and standard values held at ``end_date`` (default: the last entry)."""
    parents = inventory_accounts(standards)
    cogs_account = standards.accounts["cogs"]
    quantity: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    value: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    unit_cost: dict[tuple[str, str], Decimal] = {}
    adjustments: dict[str, Decimal] = defaultdict(Decimal)
    counts: dict[str, tuple[datetime.date, Decimal]] = {}
    cogs = ZERO
    first: datetime.date | None = None
    last: datetime.date | None = None
    for txn in _transactions(entries, end_date):
        first = first or txn.date
        last = txn.date
        if txn.meta.get("backflush") == "count":
            counted = txn.meta.get("backflush_quantity", ZERO)
            counts[txn.meta["backflush_item"]] = (
                txn.date,
                counted - txn.meta.get("backflush_book", counted),
            )
        for posting in txn.postings:
            account, units = posting.account, posting.units
            if units is None or units.number is None:
                continue
            if account == cogs_account and units.currency == standards.currency:
                cogs += units.number
            if not any(_under(account, parent) for parent in parents):
                continue
            if isinstance(posting.cost, Cost):
                key = (account, units.currency)
                quantity[key] += units.number
                value[key] += units.number * posting.cost.number
                unit_cost[key] = posting.cost.number
            elif units.currency == standards.currency:
                adjustments[account] += units.number
    rows = []
    for key in sorted(quantity):
        if not quantity[key] and not value[key]:
            continue
        account, item = key
        count = counts.get(item)
        rows.append(
            InventoryRow(
                account,
                item,
                _unit_of(standards, item),
                quantity[key],
                unit_cost.get(key),
                value[key],
                count[0] if count else None,
                count[1] if count else None,
            )
        )
    by_account: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        by_account[row.account] += row.value
    for account, amount in adjustments.items():
        by_account[account] += amount
    total = sum(by_account.values(), ZERO)
    days = (last - first).days + 1 if first and last else 0
    days_on_hand = (total / (cogs / days)).quantize(Decimal("0.1")) if cogs > 0 and days else None
    return InventoryReport(
        standards.currency,
        end_date or last,
        rows,
        sorted((a, v) for a, v in adjustments.items() if v),
        dict(by_account),
        total,
        cogs,
        days,
        days_on_hand,
    )


# -- variances ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    accounts: tuple[str, ...]
    item_specific: bool


@dataclass(frozen=True)
class ChartBar:
    x: float
    y: float
    width: float
    height: float
    column: str
    label: str


@dataclass
class VarianceReport:
    currency: str
    columns: list[Column]
    months: list[str]
    matrix: dict[str, dict[str, Decimal]]  # month -> column -> amount as it arose
    disposed: dict[str, Decimal]  # column -> amount moved out by closes
    arisen: dict[str, Decimal]  # column -> total as it arose
    balances: dict[str, Decimal]  # column -> account balance (arisen + disposed)
    by_item: dict[str, dict[str, Decimal]]  # column -> item -> amount
    cogs: Decimal
    chart: list[ChartBar] = field(default_factory=list)
    chart_months: list[tuple[float, str]] = field(default_factory=list)
    chart_zero: float = 0.0

    @property
    def total(self) -> Decimal:
        return sum(self.arisen.values(), ZERO)


def variance_columns(standards: Standards) -> list[Column]:
    columns = [
        Column(
            kind, VARIANCE_TITLES[kind], (standards.variance_accounts[kind],), kind in ITEM_SPECIFIC
        )
        for kind in VARIANCE_KINDS
    ]
    for pool in standards.pools.values():
        accounts = (
            (pool.incurred,) if pool.incurred == pool.allocated else (pool.allocated, pool.incurred)
        )
        columns.append(
            Column(f"pool:{pool.name}", f"{pool.name.capitalize()} under/(over)", accounts, False)
        )
    return columns


def _column_of(columns: list[Column]) -> Any:
    cache: dict[str, str | None] = {}

    def lookup(account: str) -> str | None:
        if account not in cache:
            cache[account] = next(
                (c.key for c in columns if any(_under(account, a) for a in c.accounts)), None
            )
        return cache[account]

    return lookup


def variance_report(
    entries: Sequence[data.Directive],
    options_map: Mapping[str, Any],
    standards: Standards,
    end_date: datetime.date | None = None,
) -> VarianceReport:
    """Month x variance matrix (positive = unfavourable), as variances arose."""
    columns = variance_columns(standards)
    column_of = _column_of(columns)
    matrix: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    disposed: dict[str, Decimal] = defaultdict(Decimal)
    by_item: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    cogs = ZERO
    for txn in _transactions(entries, end_date):
        is_close = txn.meta.get("backflush") == "close"
        month = txn.date.strftime("%Y-%m")
        item = txn.meta.get("backflush_item") or next(
            (p.units.currency for p in txn.postings if p.units and isinstance(p.cost, Cost)),
            None,
        )
        for posting in txn.postings:
            units = posting.units
            if units is None or units.number is None or units.currency != standards.currency:
                continue
            if posting.account == standards.accounts["cogs"]:
                cogs += units.number
            key = column_of(posting.account)
            if key is None:
                continue
            if is_close:
                disposed[key] += units.number
            else:
                matrix[month][key] += units.number
                if item and key in ITEM_SPECIFIC:
                    by_item[key][item] += units.number
    months = sorted(matrix)
    arisen = {c.key: sum((matrix[m][c.key] for m in months), ZERO) for c in columns}
    balances = {c.key: arisen[c.key] + disposed[c.key] for c in columns}
    report = VarianceReport(
        standards.currency,
        columns,
        months,
        {m: dict(matrix[m]) for m in months},
        dict(disposed),
        arisen,
        balances,
        {k: dict(v) for k, v in by_item.items()},
        cogs,
    )
    _layout_chart(report)
    return report


CHART_WIDTH, CHART_HEIGHT = 720.0, 240.0


def _layout_chart(report: VarianceReport) -> None:
    """Stacked bars by month: unfavourable above the zero line, favourable below."""
    if not report.months:
        return
    ups = [sum((v for v in report.matrix[m].values() if v > 0), ZERO) for m in report.months]
    downs = [sum((-v for v in report.matrix[m].values() if v < 0), ZERO) for m in report.months]
    span = float(max(ups) + max(downs)) or 1.0
    scale = (CHART_HEIGHT - 20) / span
    zero = 10 + float(max(ups)) * scale
    slot = CHART_WIDTH / len(report.months)
    width = slot * 0.6
    for index, month in enumerate(report.months):
        x = index * slot + (slot - width) / 2
        above, below = zero, zero
        for column in report.columns:
            amount = report.matrix[month].get(column.key, ZERO)
            if not amount:
                continue
            height = abs(float(amount)) * scale
            label = f"{month} {column.title}: {amount} {report.currency}"
            if amount > 0:
                above -= height
                report.chart.append(ChartBar(x, above, width, height, column.key, label))
            else:
                report.chart.append(ChartBar(x, below, width, height, column.key, label))
                below += height
        report.chart_months.append((x + width / 2, month))
    report.chart_zero = zero


# -- standards ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BomNode:
    item: str
    quantity: Decimal
    kind: str  # material, subassembly, phantom
    unit_cost: Decimal | None
    children: list[BomNode]


@dataclass(frozen=True)
class ProductStandard:
    product: str
    phantom: bool
    total: Decimal | None
    material: Decimal
    conversion: dict[str, Decimal]
    bom: list[BomNode]


@dataclass(frozen=True)
class Change:
    item: str
    field: str
    date: datetime.date | None
    value: str
    line: int


@dataclass(frozen=True)
class StandardsReport:
    currency: str
    date: datetime.date
    variant: str
    products: list[ProductStandard]
    materials: list[tuple[str, Decimal | None, str, list[str]]]  # name, cost, unit, used in
    history: list[Change]
    pools: list[str]


def _bom_tree(
    standards: Standards, product: str, date: datetime.date, depth: int = 0
) -> list[BomNode]:
    bom = standards.products[product].bom.at(date) or {}
    nodes = []
    for item, qty in bom.items():
        rollup = standards.rollup(item, date)
        if item in standards.materials:
            nodes.append(BomNode(item, qty, "material", rollup.total if rollup else None, []))
        else:
            kind = "phantom" if standards.products[item].phantom else "subassembly"
            children = _bom_tree(standards, item, date, depth + 1) if depth < 20 else []
            nodes.append(BomNode(item, qty, kind, rollup.total if rollup else None, children))
    return nodes


def standards_report(standards: Standards, date: datetime.date) -> StandardsReport:
    products = []
    for name, product in standards.products.items():
        rollup = standards.rollup(name, date)
        products.append(
            ProductStandard(
                name,
                product.phantom,
                rollup.total if rollup else None,
                rollup.material if rollup else ZERO,
                dict(rollup.conversion) if rollup else {},
                _bom_tree(standards, name, date),
            )
        )
    materials = []
    for name, material in standards.materials.items():
        materials.append(
            (name, material.cost.at(date), material.unit or "units", standards.where_used(name))
        )
    history = []
    for name, material in standards.materials.items():
        cost = material.cost
        for d, v, line in zip(cost.dates, cost.values, cost.lines, strict=True):
            history.append(Change(name, "cost", d, str(v), line))
    for name, product in standards.products.items():
        for label, dated in (("bom", product.bom), ("conversion", product.conversion)):
            if len(dated.dates) > 1 or dated.dates[0] is not None:
                for d, values, line in zip(dated.dates, dated.values, dated.lines, strict=True):
                    text = ", ".join(f"{k} {q}" for k, q in values.items())
                    history.append(Change(name, label, d, text, line))
    history.sort(key=lambda c: (c.date or datetime.date.min, c.item))
    return StandardsReport(
        standards.currency,
        date,
        standards.variant,
        products,
        materials,
        history,
        list(standards.pools),
    )


# -- health ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthHealth:
    month: str
    inventory: Decimal
    cogs: Decimal
    days_on_hand: Decimal | None
    variances: Decimal
    variance_share: Decimal | None
    uninventoried: Decimal | None


@dataclass(frozen=True)
class HealthReport:
    currency: str
    months: list[MonthHealth]
    materiality: Decimal
    overdue_counts: list[tuple[str, datetime.date | None]]
    warnings: list[str]
    trend: str


def health_report(
    entries: Sequence[data.Directive],
    options_map: Mapping[str, Any],
    standards: Standards,
    end_date: datetime.date | None = None,
) -> HealthReport:
    """Indicators of whether backflush costing still suits the business."""
    parents = inventory_accounts(standards)
    columns = variance_columns(standards)
    column_of = _column_of(columns)
    cogs_account = standards.accounts["cogs"]
    inventory = ZERO
    by_month: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    uninventoried: dict[str, Decimal] = {}
    days_in: dict[str, set[datetime.date]] = defaultdict(set)
    last_count: dict[str, datetime.date] = {}
    held: dict[str, Decimal] = defaultdict(Decimal)
    last: datetime.date | None = None
    first: datetime.date | None = None
    for txn in _transactions(entries, end_date):
        month = txn.date.strftime("%Y-%m")
        days_in[month].add(txn.date)
        first = first or txn.date
        last = txn.date
        meta = txn.meta
        if meta.get("backflush") == "count":
            last_count[meta["backflush_item"]] = txn.date
        if meta.get("backflush") == "close" and "backflush_uninventoried" in meta:
            uninventoried[month] = meta["backflush_uninventoried"]
        is_close = meta.get("backflush") == "close"
        for posting in txn.postings:
            units = posting.units
            if units is None or units.number is None:
                continue
            if any(_under(posting.account, p) for p in parents):
                if isinstance(posting.cost, Cost):
                    inventory += units.number * posting.cost.number
                    held[units.currency] += units.number
                elif units.currency == standards.currency:
                    inventory += units.number
            elif units.currency != standards.currency:
                continue
            elif posting.account == cogs_account and not is_close:
                by_month[month]["cogs"] += units.number
            elif not is_close and column_of(posting.account) is not None:
                by_month[month]["variances"] += units.number
        by_month[month]["inventory"] = inventory
    months = []
    materiality = standards.close.materiality
    for month in sorted(by_month):
        values = by_month[month]
        cogs, variances = values["cogs"], values["variances"]
        year, mon = (int(x) for x in month.split("-"))
        span = (datetime.date(year + mon // 12, mon % 12 + 1, 1) - datetime.date(year, mon, 1)).days
        doh = (values["inventory"] / (cogs / span)).quantize(Decimal("0.1")) if cogs > 0 else None
        share = (variances / cogs).quantize(Decimal("0.0001")) if cogs > 0 else None
        months.append(
            MonthHealth(
                month, values["inventory"], cogs, doh, variances, share, uninventoried.get(month)
            )
        )
    overdue = []
    if last is not None:
        for item, qty in sorted(held.items()):
            counted = last_count.get(item)
            since = counted or first  # never counted: overdue once the books are that old
            if qty and since is not None and (last - since).days > COUNT_OVERDUE_DAYS:
                overdue.append((item, counted))
    warnings = _health_warnings(standards, months, overdue)
    known = [m.days_on_hand for m in months if m.days_on_hand is not None]
    if len(known) >= 2:
        trend = (
            "rising"
            if known[-1] > known[0] * Decimal("1.2")
            else ("falling" if known[-1] < known[0] * Decimal("0.8") else "steady")
        )
    else:
        trend = "not enough months"
    return HealthReport(standards.currency, months, materiality, overdue, warnings, trend)


def _health_warnings(
    standards: Standards, months: list[MonthHealth], overdue: list[tuple[str, datetime.date | None]]
) -> list[str]:
    warnings = []
    materiality = standards.close.materiality
    for m in months:
        if m.variance_share is not None and materiality and abs(m.variance_share) > materiality:
            warnings.append(
                f"{m.month}: variances were {m.variance_share:.1%} of COGS, above the "
                f"materiality of {materiality:.1%}: check that the standards still approximate "
                "actual cost (ASC 330 / IAS 2), and revise them if the gap persists."
            )
        if m.days_on_hand is not None and m.days_on_hand > 60:
            warnings.append(
                f"{m.month}: {m.days_on_hand} days of inventory on hand. Backflush costing "
                "suits low or steady inventory; this much stock hides costs in inventory."
            )
        if (
            m.uninventoried
            and m.cogs
            and abs(m.uninventoried) > standards.warn_uninventoried * m.cogs
        ):
            warnings.append(
                f"{m.month}: {m.uninventoried} {standards.currency} left uninventoried by the "
                "two-trigger variant, above warn_uninventoried."
            )
    if overdue:
        names = ", ".join(item for item, _ in overdue[:8])
        warnings.append(
            f"{len(overdue)} item(s) on hand not counted in the last {COUNT_OVERDUE_DAYS} days "
            f"({names}): without counts, usage variances stay hidden in inventory."
        )
    return warnings


# -- text renderers for the CLI ----------------------------------------------------------------


def _money(number: Decimal | None) -> str:
    return "" if number is None else f"{number:,.2f}"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=False)]
    lines = [
        "  ".join(
            h.ljust(w) if i < 2 else h.rjust(w)
            for i, (h, w) in enumerate(zip(headers, widths, strict=True))
        )
    ]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append(
            "  ".join(
                c.ljust(w) if i < 2 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    return "\n".join(lines)


def render_inventory_text(report: InventoryReport) -> str:
    rows = [
        [
            r.account,
            r.item,
            f"{r.quantity:,}",
            r.unit,
            _money(r.unit_cost),
            _money(r.value),
            str(r.last_count or ""),
            "" if r.count_difference is None else f"{r.count_difference:,}",
        ]
        for r in report.rows
    ]
    for account, amount in report.adjustments:
        rows.append([account, "(variance adjustment)", "", "", "", _money(amount), "", ""])
    rows.append(["Total", "", "", "", "", _money(report.total), "", ""])
    out = [
        f"Inventory at standard ({report.currency}) as of {report.end_date}",
        "",
        _table(
            ["Account", "Item", "Quantity", "Unit", "Std cost", "Value", "Counted", "Count diff"],
            rows,
        ),
        "",
    ]
    if report.days_on_hand is not None:
        out.append(
            f"Days on hand: {report.days_on_hand} (COGS {_money(report.cogs)} over "
            f"{report.days} days)"
        )
    return "\n".join(out) + "\n"


def render_variances_text(report: VarianceReport) -> str:
    headers = ["Month", ""] + [c.title for c in report.columns] + ["Total"]
    rows = []
    for month in report.months:
        values = [report.matrix[month].get(c.key, ZERO) for c in report.columns]
        rows.append([month, ""] + [_money(v) for v in values] + [_money(sum(values, ZERO))])
    rows.append(
        ["Arisen", ""]
        + [_money(report.arisen[c.key]) for c in report.columns]
        + [_money(report.total)]
    )
    rows.append(
        ["Closed out", ""]
        + [_money(report.disposed.get(c.key, ZERO)) for c in report.columns]
        + [_money(sum(report.disposed.values(), ZERO))]
    )
    rows.append(
        ["Balance", ""]
        + [_money(report.balances[c.key]) for c in report.columns]
        + [_money(sum(report.balances.values(), ZERO))]
    )
    return (
        f"Variances ({report.currency}; positive = unfavourable)\n\n" + _table(headers, rows) + "\n"
    )

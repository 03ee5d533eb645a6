"""Report data for Fava and the command line: inventory, variances, standards, health.

Plain functions over the loaded (plugin-expanded) entries, returning dataclasses; Fava's
templates and the CLI's renderers only present them. Every figure is read from the
postings, so totals reconcile with the ledger's accounts by construction. The plugin's
metadata is read only through :mod:`beancount_backflush.contract`, so a hand-written entry
that carries a reserved key with an odd value never breaks a report.

What a report covers is a :class:`Scope`: a period (Fava's time filter) and, from Fava's
account and filter bars, which accounts and which entries. Stock is a balance: it is always
computed from every entry up to the end of the period; the bars pick rows and flows, as
each report's ``notes`` say.

Definitions used throughout (and printed where they matter):

- *COGS at standard*: postings to the COGS account other than those of the closes (which
  move variances there). Days on hand and variance shares use it, in every report.
- *Days on hand*: inventory at the end ÷ (COGS at standard ÷ days in the period).
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from beancount.core import data
from beancount.core.position import Cost

from . import contract
from .contract import decimal_meta, event_of, item_of
from .standards import VARIANCE_KINDS, Pool, Standards

ZERO = Decimal(0)
ONE_DAY = datetime.timedelta(days=1)
COUNT_OVERDUE_DAYS = 90
DAYS_ON_HAND_WARNING = 60
VARIANCE_TITLES = {
    "purchase_price": "Purchase price",
    "usage": "Usage",
    "shrinkage": "Shrinkage",
    "scrap": "Scrap",
    "revaluation": "Revaluation",
    "rounding": "Rounding",
    "spending": "Spending",
    "efficiency": "Efficiency",
    "volume": "Production volume",
}
# Always shown; other kinds (the conversion split of Release 2) only once they are posted to.
CORE_KINDS = frozenset({"purchase_price", "usage", "shrinkage", "scrap", "revaluation", "rounding"})
ITEM_SPECIFIC = frozenset({"purchase_price", "usage", "shrinkage", "scrap", "revaluation"})
BASE_TITLES = {
    "purchase_price": "purchases at standard",
    "usage": "materials used at standard",
    "shrinkage": "COGS at standard",
    "scrap": "production at standard",
    "revaluation": "stock revalued (new standard)",
    "pool": "conversion allocated",
    "spending": "actual driver units at standard rate (fixed pools: budget)",
    "efficiency": "standard cost allowed (conversion allocated)",
    "volume": "budget",
}
# The price / efficiency / volume analysis (Horngren's flexible budget), row by row: the
# kind of variance, its title and the standard base its share is of.
ANALYSIS_BASES = {
    "purchase_price": "purchases at standard",
    "usage": "standard quantity allowed at standard cost",
    "spending": "actual {driver} at standard rate",
    "fixed_spending": "budget",
    "efficiency": "standard cost allowed (allocated)",
    "volume": "budget",
    "total": "conversion allocated",
}
# Events that allocate conversion (credit a pool's allocated account at standard).
ALLOCATING = frozenset({contract.PRODUCE, contract.SELL, contract.UNBUILD, contract.RETURN})
# Events that relieve materials at standard (their actual quantities when given).
CONSUMING = frozenset({contract.PRODUCE, contract.SELL, contract.UNBUILD})
# Events whose receipts are the purchase price variance's base.
_PURCHASES = frozenset({contract.PURCHASE, contract.REPRICE})
# Events whose lots count in a standard base (purchases, usage, scrap, revaluation).
_LOT_BASE_EVENTS = frozenset(
    {*_PURCHASES, contract.RETURN_TO_SUPPLIER, *CONSUMING, contract.REVALUE}
)
COGS_BASIS = "the postings to {account} other than the closes' disposals of variances"
TRIGGER_TITLES = {
    "purchase-completion-sale": "purchase, completion and sale",
    "purchase-sale": "purchase and sale",
    "completion-sale": "completion and sale",
}
UNATTRIBUTED = "(not attributable)"


# -- scope and small helpers -------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The part of the ledger a report covers.

    ``begin``/``end``: the period, both days included (None: from the first / to the last
    transaction). ``selected``: the ``id()`` of the entries that Fava's filter bar keeps
    (None: all). ``account``: Fava's account filter as a predicate on account names.
    """

    begin: datetime.date | None = None
    end: datetime.date | None = None
    selected: Collection[int] | None = None
    account: Callable[[str], bool] | None = None
    account_text: str = ""
    filter_text: str = ""

    def picks(self, entry: data.Directive) -> bool:
        return self.selected is None or id(entry) in self.selected


def _scope(scope: Scope | None, end_date: datetime.date | None) -> Scope:
    if scope is None:
        return Scope(end=end_date)
    if end_date is not None and scope.end is None:
        return Scope(
            scope.begin,
            end_date,
            scope.selected,
            scope.account,
            scope.account_text,
            scope.filter_text,
        )
    return scope


def _transactions(
    entries: Iterable[data.Directive], end: datetime.date | None
) -> list[data.Transaction]:
    return [
        e for e in entries if isinstance(e, data.Transaction) and (end is None or e.date <= end)
    ]


def _under(account: str, parent: str) -> bool:
    return account == parent or account.startswith(parent + ":")


class _Under(dict[str, bool]):
    """``under[account]``: is the account one of ``parents`` or below one of them, computed
    once per account (the report loops test every posting; a ledger has few accounts)."""

    def __init__(self, parents: Iterable[str | None]) -> None:
        super().__init__()
        self.parents = tuple(p for p in parents if p)

    def __missing__(self, account: str) -> bool:
        found = self[account] = any(_under(account, p) for p in self.parents)
        return found


_HELD, _COGS, _BACKLOG, _REVENUE = 1, 2, 4, 8


class _Kinds(dict[str, int]):
    """``kinds[account]``: what an account is to a report, as bits (:data:`_HELD`: an
    inventory account or below one, :data:`_COGS`: the COGS account, :data:`_BACKLOG`: the
    backlog account or below it, :data:`_REVENUE`: the revenue account or below it), worked
    out once per account."""

    def __init__(
        self, cogs: str, held: Iterable[str], backlog: str | None, revenue: str | None = None
    ) -> None:
        super().__init__()
        self.cogs = cogs
        self.held = _Under(held)
        self.backlog = _Under((backlog,))
        self.revenue = _Under((revenue,))

    def __missing__(self, account: str) -> int:
        kind = self[account] = (
            (_HELD if self.held[account] else 0)
            | (_COGS if account == self.cogs else 0)
            | (_BACKLOG if self.backlog[account] else 0)
            | (_REVENUE if self.revenue[account] else 0)
        )
        return kind


def month_of(date: datetime.date) -> str:
    return f"{date.year:04d}-{date.month:02d}"


def month_start(month: str) -> datetime.date:
    year, mon = (int(x) for x in month.split("-"))
    return datetime.date(year, mon, 1)


def month_end(month: str) -> datetime.date:
    year, mon = (int(x) for x in month.split("-"))
    return datetime.date(year + mon // 12, mon % 12 + 1, 1) - ONE_DAY


def previous_month(month: str) -> str:
    return month_of(month_start(month) - ONE_DAY)


def months_between(first: datetime.date, last: datetime.date) -> list[str]:
    months = []
    month = month_of(first)
    while month_start(month) <= last:
        months.append(month)
        month = month_of(month_end(month) + ONE_DAY)
    return months


def words(name: str) -> str:
    """A slug in words: ``machine_time`` -> ``Machine time``."""
    text = re.sub(r"[_\-]+", " ", name).strip()
    return text[:1].upper() + text[1:]


def trigger_title(variant: str) -> str:
    return TRIGGER_TITLES.get(variant, words(variant))


def _share(amount: Decimal, base: Decimal | None) -> Decimal | None:
    return (amount / base).quantize(Decimal("0.0001")) if base else None


@dataclass(frozen=True)
class Period:
    """The days a report's flows cover, clipped to the ledger's transactions."""

    begin: datetime.date | None
    end: datetime.date | None

    @property
    def days(self) -> int:
        if self.begin is None or self.end is None or self.end < self.begin:
            return 0
        return (self.end - self.begin).days + 1

    def months(self) -> list[str]:
        if self.begin is None or self.end is None or self.end < self.begin:
            return []
        return months_between(self.begin, self.end)

    def days_in(self, month: str) -> int:
        if self.begin is None or self.end is None:
            return 0
        first = max(self.begin, month_start(month))
        last = min(self.end, month_end(month))
        return max(0, (last - first).days + 1)

    def __contains__(self, date: datetime.date) -> bool:
        return (self.begin is None or date >= self.begin) and (self.end is None or date <= self.end)


def _period(txns: Sequence[data.Transaction], scope: Scope) -> Period:
    """The scope's period, clipped to the first and last transaction of the ledger."""
    if not txns:
        return Period(scope.begin, scope.end)
    first, last = txns[0].date, txns[-1].date
    begin = max(scope.begin, first) if scope.begin else first
    end = min(scope.end, last) if scope.end else last
    return Period(begin, end)


def _is_close(txn: data.Transaction) -> bool:
    return event_of(txn.meta) == contract.CLOSE


def _money(posting: data.Posting, currency: str) -> Decimal | None:
    units = posting.units
    if units is None or units.number is None or units.currency != currency:
        return None
    if posting.cost is not None:
        return None
    return units.number  # type: ignore[no-any-return]


def _lot(posting: data.Posting) -> tuple[str, Decimal, Decimal] | None:
    """(item, quantity, value at cost) of a lot posting."""
    units = posting.units
    if units is None or units.number is None or not isinstance(posting.cost, Cost):
        return None
    if posting.cost.number is None:
        return None
    return units.currency, units.number, units.number * posting.cost.number


def _cogs_basis(standards: Standards) -> str:
    return COGS_BASIS.format(account=standards.accounts["cogs"])


def inventory_accounts(standards: Standards) -> list[str]:
    accounts = standards.accounts
    if standards.variant == "completion-sale":
        return [accounts["finished_goods"]]
    if standards.variant == "purchase-sale":
        return [accounts["raw_in_process"]]
    return [accounts["raw_in_process"], accounts["finished_goods"]]


def _unit_of(standards: Standards, item: str) -> str:
    """The item's unit (a co-product's own, or its process's), else ``units``."""
    return standards.unit_of(item) or "units"


def scope_notes(kind: str, scope: Scope) -> list[str]:
    """What Fava's account and filter bars do to a report's figures, in words."""
    notes = []
    account, text = scope.account_text, scope.filter_text
    if kind == "inventory":
        if account:
            notes.append(
                f"Account filter '{account}': only the inventory accounts it matches are "
                "listed; their balances are complete (every entry to the end of the period)."
            )
        if text:
            notes.append(
                f"Filter '{text}': stock is listed for the items and accounts the filtered "
                "entries touch, at their full balance (a balance needs every entry); units "
                "made and sold and the margins are those of the filtered entries only. Days "
                "on hand use the whole ledger's COGS."
            )
    elif kind == "variances":
        if account:
            notes.append(
                f"Account filter '{account}': only the variances whose accounts it matches "
                "are shown; each figure is the whole account's."
            )
        if text:
            notes.append(
                f"Filter '{text}': variances arisen and closed out are those of the filtered "
                "entries only; account balances are not shown (they are the whole ledger's)."
            )
    elif kind == "health":
        if account or text:
            notes.append(
                "Health indicators are for the whole business: Fava's account filter and "
                "filter bar are not applied here (the time filter is)."
            )
    elif kind == "standards" and (account or text):
        notes.append("Standards do not depend on Fava's account filter or filter bar.")
    return notes


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
class InventoryPoint:
    """Inventory value at a date (a month end, or the period's end)."""

    date: datetime.date
    by_account: dict[str, Decimal]

    @property
    def total(self) -> Decimal:
        return sum(self.by_account.values(), ZERO)


@dataclass
class ProductFlow:
    """Units made and sold and the margin at standard of one product over some time."""

    item: str
    made: Decimal = ZERO
    sold: Decimal = ZERO
    revenue: Decimal = ZERO
    cogs: Decimal = ZERO

    @property
    def margin(self) -> Decimal:
        return self.revenue - self.cogs

    @property
    def margin_share(self) -> Decimal | None:
        return _share(self.margin, self.revenue)

    def add(self, other: ProductFlow) -> None:
        self.made += other.made
        self.sold += other.sold
        self.revenue += other.revenue
        self.cogs += other.cogs


@dataclass(frozen=True)
class Comparison:
    """A figure for a month, the month before and the year to date."""

    title: str
    month: Decimal | None
    previous: Decimal | None
    year_to_date: Decimal | None
    money: bool = True
    percent: bool = False

    @property
    def change(self) -> Decimal | None:
        if self.month is None or self.previous is None:
            return None
        return self.month - self.previous


@dataclass(frozen=True)
class BacklogRow:
    """Units of an item used before they were received (``negative_stock: backlog``): owed
    to the stock, credited to the backlog account at standard until receipts clear them."""

    item: str
    unit: str
    quantity: Decimal  # units owed (positive)
    unit_cost: Decimal | None
    value: Decimal  # owed at standard (positive: the backlog account's credit balance)
    since: datetime.date | None  # when this backlog opened (from zero)


class _Backlog:
    """The backlog account's lots as they move: units and value owed by item, since when."""

    def __init__(self, account: str | None) -> None:
        self.account = account
        self.under = _Under((account,))
        self.quantity: dict[str, Decimal] = defaultdict(Decimal)
        self.value: dict[str, Decimal] = defaultdict(Decimal)
        self.cost: dict[str, Decimal] = {}
        self.since: dict[str, datetime.date] = {}

    def add(self, txn: data.Transaction) -> set[str]:
        """Apply a transaction's backlog postings; the items it touched."""
        touched: set[str] = set()
        if self.account is None:
            return touched
        under = self.under
        for posting in txn.postings:
            if under[posting.account]:
                item = self.add_posting(posting, txn.date)
                if item is not None:
                    touched.add(item)
        return touched

    def add_posting(self, posting: data.Posting, date: datetime.date) -> str | None:
        """Apply one posting to the backlog account; its item, None when not a lot."""
        lot = _lot(posting)
        if lot is None:
            return None
        item, qty, value = lot
        was_open = bool(self.quantity[item])
        self.quantity[item] -= qty
        self.value[item] -= value
        assert isinstance(posting.cost, Cost)
        self.cost[item] = posting.cost.number
        if not self.quantity[item]:
            self.since.pop(item, None)
        elif not was_open:
            self.since[item] = date
        return item

    def open(self) -> dict[str, Decimal]:
        return {item: qty for item, qty in sorted(self.quantity.items()) if qty}

    def total(self) -> Decimal:
        return sum((v for i, v in self.value.items() if self.quantity[i] or v), ZERO)

    def rows(self, standards: Standards, items: Collection[str] | None = None) -> list[BacklogRow]:
        rows = []
        for item, qty in self.open().items():
            if items is not None and item not in items:
                continue
            value = self.value[item]
            cost = self.cost.get(item)
            if cost is not None and value != qty * cost:
                cost = (value / qty).quantize(Decimal("0.0001"))  # mixed lots
            rows.append(
                BacklogRow(
                    item,
                    _unit_of(standards, item),
                    _quantity(qty),
                    cost,
                    value,
                    self.since.get(item),
                )
            )
        return rows

    def describe(self, standards: Standards, currency: str) -> str:
        """``41.5 kg STEEL (103.75 USD), 2 pcs HOPS (...)``."""
        return ", ".join(
            f"{row.quantity:,} {row.unit} {row.item} ({row.value:,.2f} {currency})"
            for row in self.rows(standards)
        )


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
    begin_date: datetime.date | None = None
    daily_cogs: Decimal | None = None
    cogs_basis: str = ""
    history: list[InventoryPoint] = field(default_factory=list)
    daily: list[tuple[datetime.date, Decimal]] = field(default_factory=list)
    products: list[ProductFlow] = field(default_factory=list)
    product_months: list[tuple[str, ProductFlow]] = field(default_factory=list)
    month: str | None = None
    comparison: list[Comparison] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)
    backlog: list[BacklogRow] = field(default_factory=list)
    backlog_account: str = ""

    @property
    def backlog_total(self) -> Decimal:
        return sum((row.value for row in self.backlog), ZERO)


#: The events that make or sell a product (units made and sold, revenue, margin).
_FLOW_EVENTS = frozenset({contract.PRODUCE, contract.UNBUILD, contract.SELL, contract.RETURN})


def _add_flow(
    flows: dict[str, ProductFlow],
    item: str,
    made: Decimal,
    sold: Decimal,
    revenue: Decimal,
    cogs: Decimal,
) -> None:
    flow = flows.get(item)
    if flow is None:
        flow = flows[item] = ProductFlow(item)
    flow.made += made
    flow.sold += sold
    flow.revenue += revenue
    flow.cogs += cogs


def inventory_report(
    entries: Sequence[data.Directive],
    options_map: Mapping[str, Any],
    standards: Standards,
    end_date: datetime.date | None = None,
    *,
    scope: Scope | None = None,
) -> InventoryReport:
    """Quantities and standard values held at the end of the scope (default: the last
    transaction), their history, units made and sold and the margin at standard."""
    scope = _scope(scope, end_date)
    end = scope.end
    parents = inventory_accounts(standards)
    cogs_account = standards.accounts["cogs"]
    currency = standards.currency
    all_txns = _transactions(entries, None)
    txns = [t for t in all_txns if end is None or t.date <= end]
    period = _period(all_txns, scope)
    quantity: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    value: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    unit_cost: dict[tuple[str, str], Decimal] = {}
    adjustments: dict[str, Decimal] = defaultdict(Decimal)
    counts: dict[str, tuple[datetime.date, Decimal | None]] = {}
    touched: set[tuple[str, str]] = set()
    by_account_running: dict[str, Decimal] = defaultdict(Decimal)
    history: list[InventoryPoint] = []
    daily: list[tuple[datetime.date, Decimal]] = []
    months = period.months()
    month_set = set(months)
    monthly: dict[str, dict[str, ProductFlow]] = defaultdict(dict)
    month_cogs: dict[str, Decimal] = defaultdict(Decimal)
    month_inventory: dict[str, Decimal] = {}
    cogs = ZERO
    backlog = _Backlog(standards.accounts.get("backlog"))
    backlog_touched: set[str] = set()
    # What each account is to this report, asked once per account (a ledger has few).
    kinds = _Kinds(cogs_account, parents, backlog.account, standards.accounts["revenue"])
    processes = {name for name in standards.products if standards.is_process(name)}
    selected = scope.selected
    begin, last = period.begin, period.end
    # The running total of the inventory accounts (their sum, kept as the postings come).
    running = ZERO
    current_month: str | None = None
    current_date: datetime.date | None = None
    month = ""
    in_period = False

    def snapshot(month: str) -> None:
        month_inventory[month] = running
        if month in month_set:
            point_date = min(month_end(month), last) if last else month_end(month)
            history.append(InventoryPoint(point_date, dict(by_account_running)))

    for txn in txns:
        date = txn.date
        if date != current_date:
            if in_period:
                daily.append((current_date, running))  # type: ignore[arg-type]
            current_date = date
            month = month_of(date)
            if month != current_month:
                if current_month is not None:
                    snapshot(current_month)
                current_month = month
            in_period = (begin is None or date >= begin) and (last is None or date <= last)
        meta = txn.meta
        event = meta.get(contract.META_EVENT) if meta else None  # event_of, inline
        if event is not None and not isinstance(event, str):
            event = None
        picked = selected is None or id(txn) in selected
        # Units made and sold, revenue and COGS of a make or sell event, read in this pass
        # over the postings. A process (a product with ``outputs``) is never made itself:
        # its co-products are, as many as the event put into (an unbuild took out of) stock.
        sale = False
        outputs: Collection[str] | None = None
        flow_item = None
        if event is not None:
            if event == contract.COUNT:
                item = item_of(meta)
                counted = decimal_meta(meta, contract.META_QUANTITY)
                if item is not None and counted is not None:
                    book = decimal_meta(meta, contract.META_BOOK)
                    counts[item] = (date, counted - book if book is not None else None)
            elif picked and event in _FLOW_EVENTS:
                flow_item = item_of(meta)
                if flow_item is not None:
                    flow_units = decimal_meta(meta, contract.META_QUANTITY) or ZERO
                    if event == contract.PRODUCE or event == contract.UNBUILD:
                        if flow_item in processes:
                            outputs = standards.products[flow_item].outputs
                            made_of: dict[str, Decimal] = {}
                        else:
                            made = flow_units if event == contract.PRODUCE else -flow_units
                            _add_flow(monthly[month], flow_item, made, ZERO, ZERO, ZERO)
                    else:
                        sale = True
                        sold = flow_units if event == contract.SELL else -flow_units
                        sale_revenue = sale_cogs = ZERO
        is_close = event == contract.CLOSE
        for posting in txn.postings:
            account = posting.account
            kind = kinds[account]
            if not kind:
                continue
            if sale and kind & (_REVENUE | _COGS):
                amount = _money(posting, currency)
                if amount is not None:
                    if kind & _REVENUE:
                        sale_revenue -= amount
                    else:
                        sale_cogs += amount
            if kind & _BACKLOG:
                owed = backlog.add_posting(posting, date)
                if owed is not None and picked and in_period and selected is not None:
                    backlog_touched.add(owed)
            if kind & _COGS and not is_close:
                amount = _money(posting, currency)
                if amount is not None:
                    month_cogs[month] += amount
                    if in_period:
                        cogs += amount
            if not kind & _HELD:
                continue
            units = posting.units
            lot_cost = posting.cost
            if lot_cost is not None:
                # A lot: (item, quantity, value at cost), as _lot reads it.
                if (
                    units is None
                    or units.number is None
                    or not isinstance(lot_cost, Cost)
                    or lot_cost.number is None
                ):
                    continue
                item = units.currency
                qty = units.number
                lot_value = qty * lot_cost.number
                key = (account, item)
                quantity[key] += qty
                value[key] += lot_value
                unit_cost[key] = lot_cost.number
                by_account_running[account] += lot_value
                running += lot_value
                if selected is not None and picked and in_period:
                    touched.add(key)
                if outputs is not None and item in outputs:
                    made_of[item] = made_of.get(item, ZERO) + qty
            elif units is not None and units.number is not None and units.currency == currency:
                amount = units.number
                adjustments[account] += amount
                by_account_running[account] += amount
                running += amount
        if sale:
            assert flow_item is not None
            _add_flow(monthly[month], flow_item, ZERO, sold, sale_revenue, sale_cogs)
        elif outputs is not None:
            flows = monthly[month]
            for output, output_units in sorted(made_of.items()):
                _add_flow(flows, output, output_units, ZERO, ZERO, ZERO)
    if in_period:
        daily.append((current_date, running))  # type: ignore[arg-type]
    if current_month is not None:
        snapshot(current_month)

    account_ok = scope.account or (lambda _account: True)
    rows = []
    for key in sorted(quantity):
        if not quantity[key] and not value[key]:
            continue
        account, item = key
        if not account_ok(account):
            continue
        if scope.selected is not None and key not in touched:
            continue
        count = counts.get(item)
        cost = unit_cost.get(key)
        if quantity[key] and cost is not None and value[key] != quantity[key] * cost:
            cost = (value[key] / quantity[key]).quantize(Decimal("0.0001"))  # mixed lots
        rows.append(
            InventoryRow(
                account,
                item,
                _unit_of(standards, item),
                _quantity(quantity[key]),
                cost,
                value[key],
                count[0] if count else None,
                _quantity(count[1]) if count and count[1] is not None else None,
            )
        )
    adjustment_rows = sorted(
        (a, v) for a, v in adjustments.items() if v and account_ok(a) and scope.selected is None
    )
    by_account: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        by_account[row.account] += row.value
    for account, amount in adjustment_rows:
        by_account[account] += amount
    total = sum(by_account.values(), ZERO)
    days = period.days
    daily_cogs = (cogs / days).quantize(Decimal("0.01")) if days and cogs else None
    days_on_hand = (total / (cogs / days)).quantize(Decimal("0.1")) if cogs > 0 and days else None

    products: dict[str, ProductFlow] = {}
    product_months: list[tuple[str, ProductFlow]] = []
    for month in months:
        for item in sorted(monthly.get(month, {})):
            flow = monthly[month][item]
            product_months.append((month, flow))
            products.setdefault(item, ProductFlow(item)).add(flow)
    last_month = months[-1] if months else None
    comparison = (
        _inventory_comparison(
            last_month,
            monthly,
            month_inventory,
            month_cogs,
            {item: _unit_of(standards, item) for flows in monthly.values() for item in flows},
        )
        if last_month
        else []
    )
    backlog_rows: list[BacklogRow] = []
    if backlog.account is not None and (scope.account is None or account_ok(backlog.account)):
        backlog_rows = backlog.rows(
            standards, backlog_touched if scope.selected is not None else None
        )
    return InventoryReport(
        currency,
        end or period.end,
        rows,
        adjustment_rows,
        dict(by_account),
        total,
        cogs,
        days,
        days_on_hand,
        begin_date=period.begin,
        daily_cogs=daily_cogs,
        cogs_basis=_cogs_basis(standards),
        history=history,
        daily=daily,
        products=[products[k] for k in sorted(products)],
        product_months=product_months,
        month=last_month,
        comparison=comparison,
        notes=scope_notes("inventory", scope),
        accounts=parents,
        backlog=backlog_rows,
        backlog_account=backlog.account or "",
    )


def _inventory_comparison(
    month: str,
    monthly: Mapping[str, Mapping[str, ProductFlow]],
    inventory: Mapping[str, Decimal],
    cogs: Mapping[str, Decimal],
    units: Mapping[str, str] | None = None,
) -> list[Comparison]:
    """Inventory, units, revenue, COGS and margin: the month, the one before, the year.

    Units are added up across products only when they all share one declared unit (kegs);
    otherwise (kegs and kilograms, or items of no declared unit) each product has its own
    rows."""
    units = units or {}
    previous = previous_month(month)
    ytd_months = [m for m in monthly.keys() | inventory.keys() if m[:4] == month[:4] and m <= month]

    def total(months: Iterable[str]) -> ProductFlow:
        flow = ProductFlow("")
        for m in months:
            for f in monthly.get(m, {}).values():
                flow.add(f)
        return flow

    this, before, ytd = total([month]), total([previous]), total(ytd_months)
    has_previous = previous in inventory or previous in monthly
    prev = before if has_previous else None

    def pick(getter: Callable[[ProductFlow], Decimal | None], flow: ProductFlow | None) -> Any:
        return None if flow is None else getter(flow)

    def item_flow(months: Iterable[str], item: str) -> ProductFlow:
        flow = ProductFlow(item)
        for m in months:
            found = monthly.get(m, {}).get(item)
            if found is not None:
                flow.add(found)
        return flow

    items = sorted({item for m in ytd_months for item in monthly.get(m, {})})
    declared = {units.get(item, "units") for item in items}
    if len(items) <= 1 or (len(declared) == 1 and declared != {"units"}):
        quantities = [
            Comparison(
                "Units made", this.made, pick(lambda f: f.made, prev), ytd.made, money=False
            ),
            Comparison(
                "Units sold", this.sold, pick(lambda f: f.sold, prev), ytd.sold, money=False
            ),
        ]
    else:
        quantities = []
        for item in items:
            unit = units.get(item, "units")
            now, ago, year = (
                item_flow([month], item),
                item_flow([previous], item) if has_previous else None,
                item_flow(ytd_months, item),
            )
            for what, getter in (("made", lambda f: f.made), ("sold", lambda f: f.sold)):
                if getter(year) or (ago is not None and getter(ago)):
                    quantities.append(
                        Comparison(
                            f"{item} {what} ({unit})",
                            getter(now),
                            pick(getter, ago),
                            getter(year),
                            money=False,
                        )
                    )
    return [
        Comparison(
            "Inventory at month end",
            inventory.get(month),
            inventory.get(previous) if has_previous else None,
            None,
        ),
        *quantities,
        Comparison("Revenue", this.revenue, pick(lambda f: f.revenue, prev), ytd.revenue),
        Comparison(
            "COGS of units sold, at standard",
            this.cogs,
            pick(lambda f: f.cogs, prev),
            ytd.cogs,
        ),
        Comparison("Margin at standard", this.margin, pick(lambda f: f.margin, prev), ytd.margin),
        Comparison(
            "Margin %",
            this.margin_share,
            pick(lambda f: f.margin_share, prev),
            ytd.margin_share,
            money=False,
            percent=True,
        ),
    ]


# -- variances ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    accounts: tuple[str, ...]
    item_specific: bool
    account: str = ""  # the account a header links to: the variance account, a pool's parent

    @property
    def base_title(self) -> str | None:
        kind = "pool" if self.key.startswith("pool:") else self.key
        return BASE_TITLES.get(kind)


@dataclass
class AnalysisRow:
    """One line of the price / efficiency / volume analysis: a variance by month.

    ``kind``: ``purchase_price``, ``usage`` (per item), ``spending``, ``efficiency``,
    ``volume``, ``unsplit`` (a pool's amount no close has split: no activity, or no close
    yet), ``total`` (a pool's under/over-allocation: the sum of the rows above it), or driver
    units, a quantity: ``actual`` (from ``activity``) or ``allowed`` (for the output)."""

    kind: str
    title: str
    months: dict[str, Decimal] = field(default_factory=dict)
    bases: dict[str, Decimal] = field(default_factory=dict)  # month -> standard base
    base_title: str = ""
    accounts: tuple[str, ...] = ()  # the accounts behind the figures (journal links)
    item: str = ""
    quantity: bool = False  # driver units, not money
    pool: str = ""

    @property
    def total(self) -> Decimal:
        return sum(self.months.values(), ZERO)

    @property
    def base(self) -> Decimal | None:
        return sum(self.bases.values(), ZERO) if self.base_title else None

    @property
    def share(self) -> Decimal | None:
        return None if self.quantity else _share(self.total, self.base)

    def month_share(self, month: str) -> Decimal | None:
        if self.quantity or not self.base_title:
            return None
        return _share(self.months.get(month, ZERO), self.bases.get(month))


@dataclass
class AnalysisSection:
    """The materials, or one conversion pool, in the analysis."""

    key: str  # "materials" or "pool:<name>"
    title: str
    description: str
    account: str  # what the section's title links to
    rows: list[AnalysisRow] = field(default_factory=list)


@dataclass
class VarianceReport:
    currency: str
    columns: list[Column]
    months: list[str]
    matrix: dict[str, dict[str, Decimal]]  # month -> column -> amount as it arose
    disposed: dict[str, Decimal]  # column -> amount moved out by closes in the period
    arisen: dict[str, Decimal]  # column -> total as it arose in the period
    balances: dict[str, Decimal]  # column -> account balance at the end of the period
    by_item: dict[str, dict[str, Decimal]]  # column -> item -> amount arisen
    cogs: Decimal
    opening: dict[str, Decimal] = field(default_factory=dict)  # balance before the period
    bases: dict[str, Decimal] = field(default_factory=dict)  # column -> standard base
    month_bases: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    all_months: dict[str, dict[str, Decimal]] = field(default_factory=dict)  # to the end
    begin_date: datetime.date | None = None
    end_date: datetime.date | None = None
    balances_shown: bool = True
    notes: list[str] = field(default_factory=list)
    analysis: list[AnalysisSection] = field(default_factory=list)

    @property
    def has_split(self) -> bool:
        """Whether some pool is split (has a driver): spending, efficiency, volume rows."""
        return any(
            row.kind in ("spending", "efficiency", "volume")
            for section in self.analysis
            for row in section.rows
        )

    @property
    def total(self) -> Decimal:
        return sum(self.arisen.values(), ZERO)

    def share(self, key: str) -> Decimal | None:
        return _share(self.arisen.get(key, ZERO), self.bases.get(key))

    @property
    def month(self) -> str | None:
        return self.months[-1] if self.months else None

    def comparison(self) -> list[tuple[Column, Comparison, Decimal | None]]:
        """Per column: the last month, the month before, year to date; and YTD share."""
        month = self.month
        if month is None:
            return []
        previous = previous_month(month)
        ytd = [m for m in self.all_months if m[:4] == month[:4] and m <= month]
        result = []
        for column in self.columns:
            key = column.key

            def amount(m: str, key: str = key) -> Decimal:
                return self.all_months.get(m, {}).get(key, ZERO)

            ytd_amount = sum((amount(m) for m in ytd), ZERO)
            ytd_base = sum((self.month_bases.get(m, {}).get(key, ZERO) for m in ytd), ZERO)
            result.append(
                (
                    column,
                    Comparison(
                        column.title,
                        amount(month),
                        amount(previous) if previous in self.all_months else None,
                        ytd_amount,
                    ),
                    _share(ytd_amount, ytd_base),
                )
            )
        return result

    def chart(self) -> list[dict[str, Any]]:
        """Fava's bar chart data: one stacked bar per month, a stack per variance account."""
        bars = []
        for month in self.months:
            values = self.matrix.get(month, {})
            by_account = {
                column.account: {self.currency: values[column.key]}
                for column in self.columns
                if values.get(column.key)
            }
            bars.append(
                {
                    "date": month_end(month),
                    "balance": {self.currency: sum(values.values(), ZERO)},
                    "account_balances": by_account,
                    "budgets": {},
                }
            )
        return [{"type": "bar", "label": "Variances arisen by month", "data": bars}]


def _common_parent(accounts: Sequence[str]) -> str:
    parts = [a.split(":") for a in accounts]
    common: list[str] = []
    for components in zip(*parts, strict=False):
        if len(set(components)) != 1:
            break
        common.append(components[0])
    return ":".join(common) if len(common) >= 2 else accounts[0]


def variance_columns(standards: Standards) -> list[Column]:
    columns = [
        Column(
            kind,
            VARIANCE_TITLES.get(kind) or words(kind),
            (standards.variance_accounts[kind],),
            kind in ITEM_SPECIFIC,
            standards.variance_accounts[kind],
        )
        for kind in VARIANCE_KINDS
        if kind in standards.variance_accounts
    ]
    for pool in standards.pools.values():
        accounts = (
            (pool.incurred,) if pool.incurred == pool.allocated else (pool.allocated, pool.incurred)
        )
        columns.append(
            Column(
                f"pool:{pool.name}",
                f"{words(pool.name)} under/(over)",
                accounts,
                False,
                _common_parent(accounts),
            )
        )
    return columns


def _column_of(columns: list[Column]) -> Callable[[str], str | None]:
    cache: dict[str, str | None] = {}
    # The most specific account wins: Labor:Allocated is its pool's even under Labor.
    ordered = sorted(
        ((a, c.key) for c in columns for a in c.accounts), key=lambda pair: -len(pair[0])
    )

    def lookup(account: str) -> str | None:
        if account not in cache:
            cache[account] = next((key for a, key in ordered if _under(account, a)), None)
        return cache[account]

    return lookup


def _match(
    postings: list[tuple[data.Posting, Decimal]],
    result: list[str | None],
    expected: dict[str, Decimal],
    either_sign: bool = False,
) -> None:
    """Give each unattributed posting the item whose expected variance it equals."""
    free = [item for item in expected if item not in result]
    for index, (_posting, amount) in enumerate(postings):
        if result[index] is not None:
            continue
        exponent = amount.as_tuple().exponent
        quantum = Decimal(1).scaleb(exponent if isinstance(exponent, int) else -2)
        match = next(
            (
                i
                for i in free
                if expected[i].quantize(quantum) == amount
                or either_sign
                and -expected[i].quantize(quantum) == amount
            ),
            None,
        )
        if match is not None:
            result[index] = match
            free.remove(match)


def _attribute(
    txn: data.Transaction,
    postings: list[tuple[data.Posting, Decimal]],
    standards: Standards | None = None,
    event: str | None = None,
) -> list[str]:
    """The item each item-specific variance posting belongs to.

    A posting's own ``backflush_item`` wins. A completion (or unbuild) with actual
    quantities has a usage variance per component: the component whose actual minus
    standard quantity, at its cost, is the posting. Any other event with an item: that
    item. Otherwise the lots of the transaction say it: a single item, or for several (a
    revaluation, a re-priced receipt of several materials) the item whose change in value
    the posting offsets, else the items in the order of their lots.
    """
    items: list[str | None] = [item_of(posting.meta) for posting, _ in postings]
    if all(items):
        return [i or UNATTRIBUTED for i in items]
    own = item_of(txn.meta)
    if event is None:
        event = event_of(txn.meta)
    if own is not None and event not in (contract.PRODUCE, contract.UNBUILD):
        return [i or own for i in items]
    lots = [lot for lot in map(_lot, txn.postings) if lot is not None]
    if own is not None:
        quantity = decimal_meta(txn.meta, contract.META_QUANTITY) or ZERO
        rollup = standards.rollup(own, txn.date) if standards is not None else None
        direct = getattr(rollup, "direct", None) or {}
        expected: dict[str, Decimal] = {}
        for item, qty, value in lots:
            if item != own and qty:
                standard = direct.get(item, ZERO) * quantity
                expected[item] = (abs(qty) - standard) * (value / qty)
        _match(postings, items, expected, either_sign=True)
        return [i or UNATTRIBUTED for i in items]
    lot_items: list[str] = []
    delta: dict[str, Decimal] = defaultdict(Decimal)
    for item, _qty, value in lots:
        if item not in lot_items:
            lot_items.append(item)
        delta[item] += value
    if not lot_items:
        return [i or UNATTRIBUTED for i in items]
    if len(lot_items) == 1:
        return [i or lot_items[0] for i in items]
    _match(postings, items, {item: -delta[item] for item in lot_items})
    unmatched = [index for index, item in enumerate(items) if item is None]
    free = [item for item in lot_items if item not in items]
    if unmatched and len(unmatched) == len(free):
        for index, item in zip(unmatched, free, strict=True):
            items[index] = item
    return [item or UNATTRIBUTED for item in items]


def variance_report(
    entries: Sequence[data.Directive],
    options_map: Mapping[str, Any],
    standards: Standards,
    end_date: datetime.date | None = None,
    *,
    scope: Scope | None = None,
) -> VarianceReport:
    """Month x variance matrix (positive = unfavourable), as variances arose; and the
    price / efficiency / volume analysis of materials and conversion pools."""
    scope = _scope(scope, end_date)
    all_columns = variance_columns(standards)
    column_of = _column_of(all_columns)
    currency = standards.currency
    all_txns = _transactions(entries, None)
    period = _period(all_txns, scope)
    end = scope.end
    txns = [t for t in all_txns if end is None or t.date <= end]
    materials = standards.materials
    # Production at standard (the scrap base): products and the co-products of processes.
    products = {**standards.products, **standards.outputs}
    relieving = _Under(
        (standards.accounts.get("raw_in_process"), standards.accounts.get("backlog"))
    )
    cogs_account = standards.accounts["cogs"]
    allocated = {p.allocated: f"pool:{p.name}" for p in standards.pools.values()}
    split_accounts = _split_accounts(standards)
    all_months: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    month_bases: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    disposed: dict[str, Decimal] = defaultdict(Decimal)
    opening: dict[str, Decimal] = defaultdict(Decimal)
    balances: dict[str, Decimal] = defaultdict(Decimal)
    by_item: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    flows = _AnalysisFlows()
    used = flows.used
    cogs = ZERO
    selected = scope.selected
    begin, last = period.begin, period.end
    # A money posting's parts, asked once per account: is it COGS, a pool's allocated
    # account (its key), the variance column it is in, the (pool, kind) of a split account.
    roles: dict[
        str, tuple[bool, str | None, str | None, tuple[str, str] | None, str | None, bool]
    ] = {}
    current_date: datetime.date | None = None
    month = ""
    in_period = before = False
    for txn in txns:
        date = txn.date
        if date != current_date:
            current_date = date
            month = month_of(date)
            in_period = (begin is None or date >= begin) and (last is None or date <= last)
            before = begin is not None and date < begin
        meta = txn.meta
        event = meta.get(contract.META_EVENT) if meta else None  # event_of, inline
        if event is not None and not isinstance(event, str):
            event = None
        is_close = event == contract.CLOSE
        is_split = event == contract.SPLIT
        picked = selected is None or id(txn) in selected
        arisen_in_month: dict[str, Decimal] | None = None  # all_months[month], once needed
        if event == contract.ACTIVITY and picked:
            pool = meta.get(contract.META_POOL)
            driver_units = decimal_meta(meta, contract.META_QUANTITY)
            if isinstance(pool, str) and driver_units is not None:
                flows.activity[pool][month] += driver_units
        item_postings: list[tuple[data.Posting, Decimal]] = []
        keys: list[str] = []
        # The standard bases of the lots of a generated transaction (what _lot_bases and
        # _material_used do, the lot read once).
        lot_bases = picked and not is_close and event is not None
        lot_events = event in _LOT_BASE_EVENTS
        consuming = event in CONSUMING
        purchase = event in _PURCHASES
        returned = event == contract.RETURN_TO_SUPPLIER
        produce = event == contract.PRODUCE
        revalue = event == contract.REVALUE
        bases: dict[str, Decimal] | None = None
        for posting in txn.postings:
            account = posting.account
            units = posting.units
            cost = posting.cost
            if (
                cost is not None
                or units is None
                or units.number is None
                or units.currency != currency
            ):
                if not lot_bases:
                    continue
                if bases is None:
                    bases = month_bases[month]
                if (
                    not lot_events
                    or cost is None
                    or units is None
                    or units.number is None
                    or not isinstance(cost, Cost)
                    or cost.number is None
                ):
                    continue
                item = units.currency
                qty = units.number
                if item in materials:
                    if purchase and qty > 0:
                        bases["purchase_price"] += qty * cost.number
                    elif returned and qty < 0:
                        # purchases net of what went back
                        bases["purchase_price"] += qty * cost.number
                    elif consuming and relieving[account]:
                        value = qty * cost.number
                        bases["usage"] -= value
                        used[item][month] -= value  # relieved at standard
                if produce and qty > 0 and item in products:
                    bases["scrap"] += qty * cost.number
                elif revalue and qty > 0:
                    bases["revaluation"] += qty * cost.number
                continue
            amount = units.number
            role = roles.get(account)
            if role is None:
                column = column_of(account)
                role = roles[account] = (
                    account == cogs_account,
                    allocated.get(account),
                    column,
                    split_accounts.get(account),
                    column[5:] if column and column.startswith("pool:") else None,
                    column in ITEM_SPECIFIC,
                )
            is_cogs, pool_key, key, split, pool_name, item_specific = role
            if is_cogs and not is_close:
                if picked:
                    month_bases[month]["shrinkage"] += amount
                if in_period and picked:
                    cogs += amount
            if pool_key and picked and event in ALLOCATING:
                month_bases[month][pool_key] -= amount
            if key is None:
                continue
            balances[key] += amount
            if before:
                opening[key] += amount
            if not picked:
                continue
            if is_close:
                if in_period:
                    disposed[key] += amount
                continue
            if arisen_in_month is None:
                arisen_in_month = all_months[month]
            arisen_in_month[key] += amount
            if split is not None:
                flows.parts[split][month] += amount
            elif pool_name is not None and not is_split:
                flows.pools[pool_name][month] += amount
            if item_specific:
                item_postings.append((posting, amount))
                keys.append(key)
        if item_postings:
            for key, (_posting, amount), item in zip(
                keys,
                item_postings,
                _attribute(txn, item_postings, standards, event),
                strict=True,
            ):
                if in_period:
                    by_item[key][item] += amount
                if key == "usage":
                    flows.usage[item][month] += amount
                    if consuming:
                        # Actual consumption relieves the actual quantity: the standard
                        # quantity allowed is what was relieved less the usage variance.
                        flows.used[item][month] -= amount
                        month_bases[month]["usage"] -= amount
    seen = set(balances)  # the columns posted to
    in_months = set(period.months())
    months = sorted(m for m in all_months if m in in_months)
    # A driver pool whose amount every close has split shows nothing of its own: its
    # spending, efficiency and volume columns (and the analysis) carry it.
    split_pools = {
        f"pool:{p.name}"
        for p in standards.pools.values()
        if p.driver is not None
        and not balances[f"pool:{p.name}"]
        and not disposed.get(f"pool:{p.name}")
        and not any(amounts.get(f"pool:{p.name}") for amounts in all_months.values())
    }
    all_columns = [
        c
        for c in all_columns
        if (c.key in CORE_KINDS or c.key.startswith("pool:") or c.key in seen)
        and c.key not in split_pools
    ]
    columns = all_columns
    notes = scope_notes("variances", scope)
    if scope.account is not None:
        matching = [
            c for c in all_columns if any(scope.account(a) for a in (*c.accounts, c.account))
        ]
        if matching:
            columns = matching
        else:
            notes = [
                f"The account filter '{scope.account_text}' matches no variance account: "
                "all variances are shown, each the whole account's."
            ] + notes[1:]
    keys_shown = {c.key for c in columns}
    _pool_bases(standards, flows, month_bases)
    analysis = _analysis(standards, flows, all_months, month_bases, months, keys_shown)
    matrix = {m: {k: v for k, v in all_months[m].items() if k in keys_shown} for m in months}
    arisen = {c.key: sum((matrix[m].get(c.key, ZERO) for m in months), ZERO) for c in columns}
    bases = {
        c.key: sum((month_bases.get(m, {}).get(c.key, ZERO) for m in months), ZERO)
        for c in columns
        if c.base_title
    }
    return VarianceReport(
        currency,
        columns,
        months,
        matrix,
        {k: v for k, v in disposed.items() if k in keys_shown},
        arisen,
        {c.key: balances[c.key] for c in columns},
        {k: dict(v) for k, v in by_item.items() if k in keys_shown},
        cogs,
        opening={c.key: opening[c.key] for c in columns},
        bases=bases,
        month_bases={m: dict(v) for m, v in month_bases.items()},
        all_months={
            m: {k: v for k, v in all_months[m].items() if k in keys_shown}
            for m in sorted(all_months)
        },
        begin_date=period.begin,
        end_date=end or period.end,
        balances_shown=scope.selected is None,
        notes=notes,
        analysis=analysis,
    )


def _lot_bases(
    posting: data.Posting,
    event: str,
    materials: Mapping[str, Any],
    products: Mapping[str, Any],
    relieving: _Under,
    bases: dict[str, Decimal],
) -> None:
    """Add a lot posting of a generated transaction to the standard bases it belongs to."""
    lot = _lot(posting)
    if lot is None:
        return
    item, qty, value = lot
    if item in materials:
        if event in (contract.PURCHASE, contract.REPRICE) and qty > 0:
            bases["purchase_price"] += value
        elif event == contract.RETURN_TO_SUPPLIER and qty < 0:
            bases["purchase_price"] += value  # purchases net of what went back
        elif event in CONSUMING and relieving[posting.account]:
            bases["usage"] -= value
    if event == contract.PRODUCE and item in products and qty > 0:
        bases["scrap"] += value
    if event == contract.REVALUE and qty > 0:
        bases["revaluation"] += value


def _material_used(
    posting: data.Posting,
    materials: Mapping[str, Any],
    relieving: _Under,
    used: Mapping[str, dict[str, Decimal]],
    month: str,
) -> None:
    """A material relieved (from RIP, or credited to the backlog) at standard cost."""
    lot = _lot(posting)
    if lot is None or lot[0] not in materials:
        return
    if relieving[posting.account]:
        used[lot[0]][month] -= lot[2]


def _nested() -> defaultdict[str, defaultdict[str, Decimal]]:
    return defaultdict(lambda: defaultdict(Decimal))


@dataclass
class _AnalysisFlows:
    """What the variance pass collects for the price / efficiency / volume analysis."""

    activity: defaultdict[str, defaultdict[str, Decimal]] = field(default_factory=_nested)
    pools: defaultdict[str, defaultdict[str, Decimal]] = field(default_factory=_nested)
    parts: defaultdict[tuple[str, str], defaultdict[str, Decimal]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(Decimal))
    )
    usage: defaultdict[str, defaultdict[str, Decimal]] = field(default_factory=_nested)
    used: defaultdict[str, defaultdict[str, Decimal]] = field(default_factory=_nested)


def _split_accounts(standards: Standards) -> dict[str, tuple[str, str]]:
    """account -> (pool, kind) of the sub-accounts a close's split posts driver pools to
    (``Expenses:Variances:Spending:Labor``: the variance account of the kind, then the pool's
    name in CamelCase)."""
    found = {}
    for pool in standards.pools.values():
        if pool.driver is None:
            continue
        kinds = ("spending", "volume") if pool.budget is not None else ("spending", "efficiency")
        for kind in kinds:
            parent = standards.variance_accounts.get(kind)
            if parent:
                found[f"{parent}:{pool.title}"] = (pool.name, kind)
    return found


def _pool_bases(
    standards: Standards,
    flows: _AnalysisFlows,
    month_bases: dict[str, dict[str, Decimal]],
) -> None:
    """The standard bases of each driver pool's spending, efficiency and volume variances,
    by month (``spending:<pool>`` ...), and of each kind over all pools (``spending`` ...):
    spending of actual driver units at the standard rate, or of a fixed pool's budget;
    efficiency of the standard cost allowed (what was allocated); volume of the budget."""
    for pool in standards.pools.values():
        if pool.driver is None or pool.rate is None:
            continue
        key = f"pool:{pool.name}"
        if pool.budget is not None:
            active = (
                set(flows.pools[pool.name])
                | {m for m, bases in month_bases.items() if bases.get(key)}
                | {m for kind in ("spending", "volume") for m in flows.parts[(pool.name, kind)]}
            )
            bases = {"spending": dict.fromkeys(active, pool.budget)}
            bases["volume"] = dict(bases["spending"])
        else:
            activity: Mapping[str, Decimal] = flows.activity.get(pool.name, {})
            bases = {
                "spending": {m: units * pool.rate for m, units in activity.items()},
                "efficiency": {m: b[key] for m, b in month_bases.items() if b.get(key)},
            }
        for kind, by_month in bases.items():
            for month, amount in by_month.items():
                bases_of_month = month_bases[month]
                for name in (f"{kind}:{pool.name}", kind):
                    bases_of_month[name] = bases_of_month.get(name, ZERO) + amount


def _quantity(number: Decimal) -> Decimal:
    """Without trailing zeros, never in exponent form (``8E+3`` -> ``8000``)."""
    number = number.normalize()
    exponent = number.as_tuple().exponent
    return number.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else number


def _analysis(
    standards: Standards,
    flows: _AnalysisFlows,
    all_months: Mapping[str, Mapping[str, Decimal]],
    month_bases: Mapping[str, Mapping[str, Decimal]],
    months: list[str],
    keys_shown: Collection[str],
) -> list[AnalysisSection]:
    """Materials (price, usage per item) and each conversion pool (spending, efficiency or
    production volume, what no close has split, and the under/over-allocation they add up
    to), month by month, each with its standard base."""

    def of(by_month: Mapping[str, Decimal]) -> dict[str, Decimal]:
        return {m: by_month[m] for m in months if by_month.get(m)}

    def base_of(key: str) -> dict[str, Decimal]:
        return {m: month_bases.get(m, {}).get(key, ZERO) for m in months}

    accounts = standards.variance_accounts
    sections = []
    rows = []
    if "purchase_price" in keys_shown and "purchase_price" in accounts:
        ppv = of({m: all_months.get(m, {}).get("purchase_price", ZERO) for m in months})
        rows.append(
            AnalysisRow(
                "purchase_price",
                "Purchase price",
                ppv,
                base_of("purchase_price"),
                ANALYSIS_BASES["purchase_price"],
                (accounts["purchase_price"],),
            )
        )
    if "usage" in keys_shown and "usage" in accounts:
        for item in sorted(flows.usage):
            amounts = of(flows.usage[item])
            if amounts:
                rows.append(
                    AnalysisRow(
                        "usage",
                        f"Usage (efficiency): {item}",
                        amounts,
                        {m: flows.used[item].get(m, ZERO) for m in months},
                        ANALYSIS_BASES["usage"],
                        (accounts["usage"],),
                        item=item,
                    )
                )
    if rows:
        sections.append(
            AnalysisSection(
                "materials",
                "Materials",
                "price on purchases; usage per item, from actual consumption and counts",
                accounts.get("purchase_price", ""),
                rows,
            )
        )
    for pool in standards.pools.values():
        key = f"pool:{pool.name}"
        split = {
            kind: (pool.name, kind) in flows.parts for kind in ("spending", "efficiency", "volume")
        }
        if key not in keys_shown and not any(split[kind] and kind in keys_shown for kind in split):
            continue
        section = _pool_section(standards, pool, flows, months, base_of)
        if section is not None:
            sections.append(section)
    return sections


def _pool_section(
    standards: Standards,
    pool: Pool,
    flows: _AnalysisFlows,
    months: list[str],
    base_of: Callable[[str], dict[str, Decimal]],
) -> AnalysisSection | None:
    allocated = base_of(f"pool:{pool.name}")
    amount = {m: v for m in months if (v := flows.pools[pool.name].get(m, ZERO))}
    parts = {
        kind: {m: v for m in months if (v := flows.parts[(pool.name, kind)].get(m, ZERO))}
        for kind in ("spending", "efficiency", "volume")
    }
    if not amount and not any(parts.values()) and not any(allocated.values()):
        return None
    accounts = standards.variance_accounts
    pool_accounts = tuple(dict.fromkeys((pool.allocated, pool.incurred)))
    title = words(pool.name)
    rows = []
    if pool.driver is None:
        description = "no cost driver: its under/over-allocation is not split"
    elif pool.budget is not None:
        denominator = _quantity(pool.budget / pool.rate) if pool.rate else None
        description = f"fixed: budget {pool.budget:,.2f} a month" + (
            f" ({denominator:,f} {pool.driver} at {pool.rate:,.2f})" if denominator else ""
        )
        rows.append(
            AnalysisRow(
                "spending",
                "Spending",
                parts["spending"],
                base_of(f"spending:{pool.name}"),
                ANALYSIS_BASES["fixed_spending"],
                (f"{accounts['spending']}:{pool.title}",),
            )
        )
        rows.append(
            AnalysisRow(
                "volume",
                "Production volume",
                parts["volume"],
                base_of(f"volume:{pool.name}"),
                ANALYSIS_BASES["volume"],
                (f"{accounts['volume']}:{pool.title}",),
            )
        )
    else:
        assert pool.rate is not None
        description = f"variable: {pool.rate:,.2f} per {singular(pool.driver)}"
        rows.append(
            AnalysisRow(
                "spending",
                "Spending",
                parts["spending"],
                base_of(f"spending:{pool.name}"),
                ANALYSIS_BASES["spending"].format(driver=pool.driver),
                (f"{accounts['spending']}:{pool.title}",),
            )
        )
        rows.append(
            AnalysisRow(
                "efficiency",
                "Efficiency",
                parts["efficiency"],
                base_of(f"efficiency:{pool.name}"),
                ANALYSIS_BASES["efficiency"],
                (f"{accounts['efficiency']}:{pool.title}",),
            )
        )
    if pool.driver is not None:
        split = {m: sum((p.get(m, ZERO) for p in parts.values()), ZERO) for m in months}
        unsplit = {m: v for m in months if (v := amount.get(m, ZERO) - split[m])}
        if unsplit:
            rows.append(
                AnalysisRow(
                    "unsplit",
                    "Not split (no activity, or no close yet)",
                    unsplit,
                    accounts=pool_accounts,
                )
            )
    rows.append(
        AnalysisRow(
            "total",
            "Under/(over)-allocated",
            amount,
            dict(allocated),
            ANALYSIS_BASES["total"],
            pool_accounts,
        )
    )
    if pool.driver is not None and pool.rate:
        recorded: Mapping[str, Decimal] = flows.activity.get(pool.name, {})
        actual = {m: v for m in months if (v := recorded.get(m, ZERO))}
        allowed = {m: _quantity(v / pool.rate) for m, v in allocated.items() if v}
        if actual:
            rows.append(
                AnalysisRow(
                    "actual", f"Actual {pool.driver}", actual, quantity=True, pool=pool.name
                )
            )
        rows.append(
            AnalysisRow(
                "allowed",
                f"Standard {pool.driver} allowed",
                allowed,
                accounts=(pool.allocated,),
                quantity=True,
                pool=pool.name,
            )
        )
    return AnalysisSection(
        f"pool:{pool.name}",
        title,
        description,
        _common_parent(pool_accounts),
        rows,
    )


def singular(unit: str) -> str:
    """``hours`` -> ``hour``, ``machine-hours`` -> ``machine-hour`` (for "per ...")."""
    return unit[:-1] if unit.endswith("s") and not unit.endswith("ss") else unit


# -- standards ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BomNode:
    """A line of a bill of materials, per good unit of its parent (planned scrap and the
    parent's yield included, as the engine's roll-up relieves it)."""

    item: str
    quantity: Decimal
    kind: str  # material, subassembly, phantom, by-product
    unit_cost: Decimal | None
    children: list[BomNode]
    path: str = ""  # the node's place in the tree: PRODUCT:FRAME:STEEL
    scrap: Decimal | None = None  # the line's planned scrap rate (0.02), when set
    unit: str = ""
    places: int = 2  # the currency's precision: extended is rounded half-up to it

    @property
    def extended(self) -> Decimal | None:
        if self.unit_cost is None:
            return None
        return round_money(self.quantity * self.unit_cost, self.places)


@dataclass(frozen=True)
class ProductStandard:
    product: str
    phantom: bool
    total: Decimal | None
    material: Decimal
    conversion: dict[str, Decimal]
    bom: list[BomNode]
    # Driver pools: driver units per unit through all levels (conversion / the pool's rate).
    drivers: dict[str, Decimal] = field(default_factory=dict)
    planned_loss: Decimal = ZERO  # the part of the standard that is planned scrap and yield loss
    note: str = ""  # a process with co-products, or a co-product of a process
    yield_: Decimal | None = None  # good units per unit started, when below 1
    unit: str = ""


@dataclass(frozen=True)
class PoolStandard:
    """A conversion pool as the standards file sets it."""

    name: str
    title: str
    incurred: str
    allocated: str
    driver: str | None
    rate: Decimal | None
    budget: Decimal | None
    line: int = 0

    @property
    def kind(self) -> str:
        if self.driver is None:
            return "money per unit"
        return "fixed" if self.budget is not None else "variable"

    @property
    def denominator(self) -> Decimal | None:
        """A fixed pool's denominator level: the driver units its budget is spread over."""
        if self.budget is None or not self.rate:
            return None
        return _quantity(self.budget / self.rate)

    def units(self, money: Decimal | None) -> Decimal | None:
        """Driver units of a conversion amount (units x rate = money)."""
        if money is None or not self.rate:
            return None
        return driver_units(money, self.rate)


def units_text(units: Decimal) -> str:
    """Driver units with at least two decimals: ``0.80``, ``1.125``."""
    exponent = units.normalize().as_tuple().exponent
    places = max(2, -exponent if isinstance(exponent, int) else 2)
    return f"{units:,.{places}f}"


def driver_text(pool: PoolStandard, units: Decimal) -> str:
    """``0.80 hours x 20.00``."""
    return f"{units_text(units)} {pool.driver} x {pool.rate:,.2f}"


def driver_units(money: Decimal, rate: Decimal) -> Decimal:
    """Driver units per unit from a conversion amount: exact when it terminates, else to
    6 decimals (a yield can make it recurring)."""
    units = money / rate
    if len(units.normalize().as_tuple().digits) > 12:
        units = units.quantize(Decimal("0.000001"))
    return _quantity(units)


class Use(str):
    """Where an item is used: a product's name, labelled when the product yields the item
    rather than consumes it (``WORT (by-product)``, ``BREW (co-product)``). Compares and
    prints as that label; ``product`` is the product's name, for links."""

    product: str
    role: str

    def __new__(cls, product: str, role: str = "") -> Use:
        use = super().__new__(cls, f"{product} ({role})" if role else product)
        use.product = product
        use.role = role
        return use


def where_used(standards: Standards, item: str) -> list[Use]:
    """The products that consume ``item`` (any BOM version), yield it as a by-product or
    make it as a co-product of their process."""
    uses = []
    for name in standards.where_used(item):
        product = standards.products[name]
        roles = [
            role
            for role, found in (
                ("co-product", item in product.outputs),
                ("by-product", item in product.byproducts),
            )
            if found
        ]
        if roles and any(item in bom for bom in product.bom.values):
            roles.insert(0, "component")
        uses.append(Use(name, ", ".join(roles)))
    return uses


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
    # Materials, then products used in others and co-products: name, cost, unit, used in.
    materials: list[tuple[str, Decimal | None, str, list[Use]]]
    history: list[Change]
    pools: list[str]
    path: str = ""
    pool_titles: dict[str, str] = field(default_factory=dict)
    pool_accounts: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    pool_standards: list[PoolStandard] = field(default_factory=list)

    @property
    def driver_pools(self) -> list[PoolStandard]:
        return [p for p in self.pool_standards if p.driver is not None]

    @property
    def triggers(self) -> str:
        return trigger_title(self.variant)


def round_money(amount: Decimal, places: int = 2) -> Decimal:
    """Money rounded as the engine rounds it: half-up at the currency's precision (8.815 is
    8.82, 12.265 is 12.27), where Python's and Fava's formatting would round half-even."""
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def rate_text(rate: Decimal | None) -> str:
    """A planned scrap rate or a yield as a tidy percentage: ``2 %``, ``92.5 %``."""
    return "" if rate is None else f"{_quantity(rate * 100):f} %"


def _bom_tree(
    standards: Standards, product: str, date: datetime.date, depth: int = 0, path: str = ""
) -> list[BomNode]:
    """The product's BOM per good unit of it, as the engine relieves it: the standard
    quantity (planned scrap in) divided by the product's yield. A component that is not
    reached through a phantom too is read from the roll-up's ``direct`` quantities."""
    spec = standards.products[product]
    index = spec.bom.index_at(date)
    bom = spec.bom.values[index] if index is not None else {}
    scrap = spec.scrap[index] if index is not None and spec.scrap else {}
    whole = standards.rollup(product, date)
    phantoms = [c for c in bom if c in standards.products and standards.products[c].phantom]
    places = standards.precision
    nodes = []
    for item, qty in bom.items():
        rollup = standards.rollup(item, date)
        node_path = f"{path or product}:{item}"
        per_good = qty / spec.yield_
        if whole is not None and item in whole.direct and not phantoms:
            per_good = whole.direct[item]
        elif per_good.as_tuple().exponent < -8:  # type: ignore[operator]
            per_good = per_good.quantize(Decimal("1e-8"))
        cost = rollup.total if rollup else None
        rate = scrap.get(item) or None
        unit = standards.unit_of(item) or ""
        if item in standards.materials:
            nodes.append(
                BomNode(
                    item,
                    _quantity(per_good),
                    "material",
                    cost,
                    [],
                    node_path,
                    rate,
                    unit,
                    places,
                )
            )
        elif item in standards.products:
            kind = "phantom" if standards.products[item].phantom else "subassembly"
            children = _bom_tree(standards, item, date, depth + 1, node_path) if depth < 20 else []
            nodes.append(
                BomNode(
                    item,
                    _quantity(per_good),
                    kind,
                    cost,
                    children,
                    node_path,
                    rate,
                    unit,
                    places,
                )
            )
    for item, qty in spec.byproducts.items():
        # A by-product is received, not consumed: a negative line, as in SAP's BOMs.
        rollup = standards.rollup(item, date)
        cost = rollup.total if rollup else None
        nodes.append(
            BomNode(
                item,
                _quantity(-qty),
                "by-product",
                cost,
                [],
                f"{path or product}:{item}",
                None,
                standards.unit_of(item) or "",
                places,
            )
        )
    return nodes


def standards_report(
    standards: Standards, date: datetime.date, *, scope: Scope | None = None
) -> StandardsReport:
    pool_standards = [
        PoolStandard(
            name,
            words(name),
            p.incurred,
            p.allocated,
            p.driver,
            p.rate,
            p.budget,
            p.line,
        )
        for name, p in standards.pools.items()
    ]
    products = []
    places = standards.precision
    for name, product in standards.products.items():
        rollup = standards.rollup(name, date)
        conversion = dict(rollup.conversion) if rollup else {}
        drivers = {
            pool.name: units
            for pool in pool_standards
            if (units := pool.units(conversion.get(pool.name))) is not None
        }
        outputs = ", ".join(
            f"{qty.normalize():f} {output} ({(share * 100).normalize():f} % of the cost)"
            for output, (qty, share) in product.outputs.items()
        )
        products.append(
            ProductStandard(
                name,
                product.phantom,
                rollup.total if rollup else None,
                rollup.material if rollup else ZERO,
                conversion,
                _bom_tree(standards, name, date),
                drivers,
                round_money(rollup.planned_loss, places) if rollup else ZERO,
                f"process, never stocked: yields {outputs}" if outputs else "",
                product.yield_ if product.yield_ != 1 else None,
                standards.unit_of(name) or "",
            )
        )
        for output, (qty, share) in product.outputs.items():
            part = standards.rollup(output, date)
            products.append(
                ProductStandard(
                    output,
                    False,
                    part.total if part else None,
                    part.material if part else ZERO,
                    dict(part.conversion) if part else {},
                    [],
                    {},
                    round_money(part.planned_loss, places) if part else ZERO,
                    f"co-product of {name}: {(share * 100).normalize():f} % of its cost over "
                    f"{qty.normalize():f} {standards.unit_of(output) or 'units'}",
                    None,
                    standards.unit_of(output) or "",
                )
            )
    materials: list[tuple[str, Decimal | None, str, list[Use]]] = []
    for name, material in standards.materials.items():
        materials.append(
            (name, material.cost.at(date), _unit_of(standards, name), where_used(standards, name))
        )
    # Products used in others, and each process's co-products: where they come from.
    for name in [*standards.products, *standards.outputs]:
        used = where_used(standards, name)
        if used:
            part = standards.rollup(name, date)
            materials.append((name, part.total if part else None, _unit_of(standards, name), used))
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
    pools = list(standards.pools)
    return StandardsReport(
        standards.currency,
        date,
        standards.variant,
        products,
        materials,
        history,
        pools,
        path=standards.path,
        pool_titles={name: words(name) for name in pools},
        pool_accounts={
            name: _common_parent(
                (p.incurred,) if p.incurred == p.allocated else (p.allocated, p.incurred)
            )
            for name, p in standards.pools.items()
        },
        notes=scope_notes("standards", scope or Scope()),
        pool_standards=pool_standards,
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
    days: int = 0
    backlog: Decimal = ZERO  # owed to stock at the month end (or the period's end), at standard
    backlog_items: str = ""  # ``41.5 kg STEEL (103.75 USD)``


@dataclass(frozen=True)
class CountStatus:
    item: str
    quantity: Decimal
    last_count: datetime.date | None
    since: datetime.date  # the last count, or the first receipt when never counted
    days: int  # days from ``since`` to the end of the period

    @property
    def overdue(self) -> bool:
        return self.days > COUNT_OVERDUE_DAYS

    @property
    def status(self) -> str:
        if self.overdue:
            return "overdue" if self.last_count else "never counted: overdue"
        due = COUNT_OVERDUE_DAYS - self.days
        if self.last_count is None:
            return f"never counted: due in {due} days"
        return f"due in {due} days"


@dataclass(frozen=True)
class HealthReport:
    currency: str
    months: list[MonthHealth]
    materiality: Decimal
    overdue_counts: list[tuple[str, datetime.date | None]]
    warnings: list[str]
    trend: str
    counts: list[CountStatus] = field(default_factory=list)
    never_counted: list[str] = field(default_factory=list)
    information: list[str] = field(default_factory=list)
    cogs_basis: str = ""
    end_date: datetime.date | None = None
    notes: list[str] = field(default_factory=list)
    # The month each warning is about ("2026-03"), or None for one about the whole period.
    warning_months: list[str | None] = field(default_factory=list)

    def dated_warnings(self) -> list[tuple[str | None, str]]:
        """(month, warning) pairs; a report built without ``warning_months`` (by hand, in a
        tool) has only period-wide warnings."""
        months = self.warning_months or [None] * len(self.warnings)
        return list(zip(months, self.warnings, strict=True))

    def warnings_for(self, months: Collection[str]) -> tuple[list[str], list[str]]:
        """The warnings about ``months`` or about the whole period, and the (sorted, distinct)
        months whose warnings are left out: a page that shows some months shows theirs."""
        shown, left_out = [], set()
        for month, warning in self.dated_warnings():
            if month is None or month in months:
                shown.append(warning)
            else:
                left_out.add(month)
        return shown, sorted(left_out)


def health_report(
    entries: Sequence[data.Directive],
    options_map: Mapping[str, Any],
    standards: Standards,
    end_date: datetime.date | None = None,
    *,
    scope: Scope | None = None,
) -> HealthReport:
    """Indicators of whether backflush costing still suits the business, for the months of
    the period (inventory at each month end from every entry before it)."""
    scope = _scope(scope, end_date)
    held_parents = inventory_accounts(standards)
    column_of = _column_of(variance_columns(standards))
    cogs_account = standards.accounts["cogs"]
    currency = standards.currency
    all_txns = _transactions(entries, None)
    period = _period(all_txns, scope)
    txns = [t for t in all_txns if period.end is None or t.date <= period.end]
    inventory = ZERO
    by_month: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    uninventoried: dict[str, Decimal] = {}
    last_count: dict[str, datetime.date] = {}
    first_receipt: dict[str, datetime.date] = {}
    held: dict[str, Decimal] = defaultdict(Decimal)
    backlog = _Backlog(standards.accounts.get("backlog"))
    owed: dict[str, tuple[Decimal, str]] = {}  # month -> backlog at its end
    current: str | None = None
    kinds = _Kinds(cogs=cogs_account, held=held_parents, backlog=backlog.account)
    variance_accounts: dict[str, bool] = {}
    begin, last = period.begin, period.end
    current_date: datetime.date | None = None
    month = ""
    in_period = False
    for txn in txns:
        date = txn.date
        if date != current_date:
            current_date = date
            month = month_of(date)
            if month != current:
                if current is not None:
                    by_month[current]["inventory"] = inventory
                    if backlog.open():
                        owed[current] = (backlog.total(), backlog.describe(standards, currency))
                current = month
            in_period = (begin is None or date >= begin) and (last is None or date <= last)
        meta = txn.meta
        event = event_of(meta)
        is_close = event == contract.CLOSE
        if event == contract.COUNT:
            item = item_of(meta)
            if item is not None:
                last_count[item] = date
        if is_close:
            amount = decimal_meta(meta, contract.META_UNINVENTORIED)
            if amount is not None:
                uninventoried[month] = uninventoried.get(month, ZERO) + amount
        for posting in txn.postings:
            account = posting.account
            kind = kinds[account]
            if kind & _BACKLOG:
                backlog.add_posting(posting, date)
            units = posting.units
            if kind & _HELD:
                cost = posting.cost
                if cost is not None:
                    # A lot (as _lot reads it), else not money either.
                    if (
                        units is None
                        or units.number is None
                        or not isinstance(cost, Cost)
                        or cost.number is None
                    ):
                        continue
                    qty = units.number
                    inventory += qty * cost.number
                    item = units.currency
                    held[item] += qty
                    if qty > 0 and item not in first_receipt:
                        first_receipt[item] = date
                    continue
                if units is not None and units.number is not None and units.currency == currency:
                    inventory += units.number
                continue
            if is_close or not in_period:
                continue  # flows: the period's part of the month only
            if (
                posting.cost is not None
                or units is None
                or units.number is None
                or units.currency != currency
            ):
                continue
            if kind & _COGS:
                by_month[month]["cogs"] += units.number
                continue
            variance = variance_accounts.get(account)
            if variance is None:
                variance = variance_accounts[account] = column_of(account) is not None
            if variance:
                by_month[month]["variances"] += units.number
    if current is not None:
        by_month[current]["inventory"] = inventory
    if current is not None and backlog.open():
        owed[current] = (backlog.total(), backlog.describe(standards, currency))
    months = []
    materiality = standards.close.materiality
    in_months = set(period.months())
    for month in sorted(by_month):
        running = by_month[month]["inventory"]
        if month not in in_months:
            continue
        values = by_month[month]
        cogs, variances = values["cogs"], values["variances"]
        span = period.days_in(month)
        doh = (running / (cogs / span)).quantize(Decimal("0.1")) if cogs > 0 and span else None
        months.append(
            MonthHealth(
                month,
                running,
                cogs,
                doh,
                variances,
                _share(variances, cogs if cogs > 0 else None),
                uninventoried.get(month),
                span,
                *owed.get(month, (ZERO, "")),
            )
        )
    counts = []
    end = period.end
    if end is not None:
        for item, qty in sorted(held.items()):
            if not qty:
                continue
            counted = last_count.get(item)
            since = counted or first_receipt.get(item) or end
            counts.append(CountStatus(item, _quantity(qty), counted, since, (end - since).days))
    overdue = [(c.item, c.last_count) for c in counts if c.overdue]
    never = [c.item for c in counts if c.last_count is None]
    warning_months, warnings = _health_warnings(standards, months, overdue, end)
    information = []
    pending = [c for c in counts if c.last_count is None and not c.overdue]
    if pending:
        names = ", ".join(c.item for c in pending[:10]) + (", …" if len(pending) > 10 else "")
        information.append(
            f"{len(pending)} item(s) on hand have never been counted ({names}); each becomes "
            f"overdue {COUNT_OVERDUE_DAYS} days after its first receipt."
        )
    if not warnings:
        facts = []
        if months and all(
            m.days_on_hand is None or m.days_on_hand <= DAYS_ON_HAND_WARNING for m in months
        ):
            facts.append(f"days on hand stay at or below {DAYS_ON_HAND_WARNING}")
        if materiality:
            facts.append("variances are within materiality")
        if counts and not never and not overdue:
            facts.append(f"every item on hand was counted in the last {COUNT_OVERDUE_DAYS} days")
        information.insert(0, "No warnings" + (": " + "; ".join(facts) + "." if facts else "."))
    known = [m.days_on_hand for m in months if m.days_on_hand is not None]
    if len(known) >= 2:
        trend = (
            "rising"
            if known[-1] > known[0] * Decimal("1.2")
            else ("falling" if known[-1] < known[0] * Decimal("0.8") else "steady")
        )
    else:
        trend = "not enough months"
    return HealthReport(
        currency,
        months,
        materiality,
        overdue,
        warnings,
        trend,
        counts=counts,
        never_counted=never,
        information=information,
        cogs_basis=_cogs_basis(standards),
        end_date=end,
        notes=scope_notes("health", scope),
        warning_months=warning_months,
    )


def _health_warnings(
    standards: Standards,
    months: list[MonthHealth],
    overdue: list[tuple[str, datetime.date | None]],
    end: datetime.date | None = None,
) -> tuple[list[str | None], list[str]]:
    """The warnings, and the month each is about (None: the whole period)."""
    months_of: list[str | None] = []
    warnings: list[str] = []

    def warn(month: str | None, text: str) -> None:
        months_of.append(month)
        warnings.append(text)

    materiality = standards.close.materiality
    for m in months:
        if m.backlog_items:
            last = month_end(m.month)
            at = (
                f"at the month end ({last})"
                if end is None or last <= end
                else f"at {end}, before the month-end close"
            )
            warn(
                m.month,
                f"{m.month}: backlog open {at}: {m.backlog_items} used but not yet received "
                f"(in {standards.accounts.get('backlog')}). Record the receipts (a purchase "
                "clears the backlog first): a close with open backlog is an error.",
            )
        if m.variance_share is not None and materiality and abs(m.variance_share) > materiality:
            warn(
                m.month,
                f"{m.month}: variances were {m.variance_share:.1%} of COGS at standard, above "
                f"the materiality of {materiality:.1%}: check that the standards still "
                "approximate actual cost (ASC 330 / IAS 2), and revise them if the gap persists.",
            )
        if m.days_on_hand is not None and m.days_on_hand > DAYS_ON_HAND_WARNING:
            warn(
                m.month,
                f"{m.month}: {m.days_on_hand} days of inventory on hand. Backflush costing "
                "suits low or steady inventory; this much stock hides costs in inventory.",
            )
        if (
            m.uninventoried
            and m.cogs
            and abs(m.uninventoried) > standards.warn_uninventoried * m.cogs
        ):
            warn(
                m.month,
                f"{m.month}: {m.uninventoried} {standards.currency} left uninventoried by the "
                "two-trigger variant, above warn_uninventoried.",
            )
    if overdue:
        names = ", ".join(item for item, _ in overdue[:8]) + (", …" if len(overdue) > 8 else "")
        warn(
            None,
            f"{len(overdue)} item(s) on hand not counted in the last {COUNT_OVERDUE_DAYS} days "
            f"({names}): without counts, usage variances stay hidden in inventory.",
        )
    return months_of, warnings


# -- tables: one shape for CSV, JSON and the terminal ------------------------------------------


@dataclass(frozen=True)
class Table:
    name: str  # used in URLs (?table=) and on the command line (--table)
    title: str
    columns: list[str]
    rows: list[list[Any]]
    numeric: frozenset[int] = frozenset()  # indexes of right-aligned columns (money unless...)
    quantities: frozenset[int] = frozenset()  # ...units, or
    shares: frozenset[int] = frozenset()  # ...fractions (0.05: printed 5.0 % in a terminal)


def _num(columns: list[str], first: int) -> frozenset[int]:
    return frozenset(range(first, len(columns)))


def inventory_tables(report: InventoryReport) -> list[Table]:
    columns = [
        "Account",
        "Item",
        "Quantity",
        "Unit",
        "Standard cost",
        "Value",
        "Last count",
        "Counted - book",
    ]
    rows: list[list[Any]] = [
        [
            r.account,
            r.item,
            r.quantity,
            r.unit,
            r.unit_cost,
            r.value,
            r.last_count,
            r.count_difference,
        ]
        for r in report.rows
    ]
    rows += [
        [a, "(variance adjustment)", None, None, None, v, None, None] for a, v in report.adjustments
    ]
    history_columns = ["Date", *report.accounts, "Total"]
    history = [
        [p.date, *(p.by_account.get(a, ZERO) for a in report.accounts), p.total]
        for p in report.history
    ]
    flow_columns = [
        "Product",
        "Made",
        "Sold",
        "Revenue",
        "COGS at standard",
        "Margin",
        "Margin share",
    ]
    products = [
        [f.item, f.made, f.sold, f.revenue, f.cogs, f.margin, f.margin_share]
        for f in report.products
    ]
    monthly = [
        [m, f.item, f.made, f.sold, f.revenue, f.cogs, f.margin, f.margin_share]
        for m, f in report.product_months
    ]
    compare_columns = [
        "Figure",
        report.month or "Month",
        "Previous month",
        "Change",
        "Year to date",
    ]
    compare = [[c.title, c.month, c.previous, c.change, c.year_to_date] for c in report.comparison]
    backlog = [[b.item, b.quantity, b.unit, b.unit_cost, b.value, b.since] for b in report.backlog]
    return [
        Table(
            "inventory",
            "Inventory at standard cost",
            columns,
            rows,
            frozenset({2, 4, 5, 7}),
            frozenset({2, 7}),
        ),
        Table(
            "history",
            "Inventory value at month end",
            history_columns,
            history,
            _num(history_columns, 1),
        ),
        Table(
            "products",
            "Units made and sold, margin at standard, by product",
            flow_columns,
            products,
            _num(flow_columns, 1),
            frozenset({1, 2}),
            frozenset({6}),
        ),
        Table(
            "product-months",
            "Units made and sold by product and month",
            ["Month", *flow_columns],
            monthly,
            _num(["Month", *flow_columns], 2),
            frozenset({2, 3}),
            frozenset({7}),
        ),
        Table(
            "comparison",
            "Month against previous month and year to date",
            compare_columns,
            compare,
            _num(compare_columns, 1),
        ),
        Table(
            "backlog",
            f"Open backlog (in {report.backlog_account or 'the backlog account'}): units used "
            "before they were received, owed at standard",
            ["Item", "Quantity owed", "Unit", "Standard cost", "Value at standard", "Open since"],
            backlog,
            frozenset({1, 3, 4}),
            frozenset({1}),
        ),
    ]


def variance_tables(report: VarianceReport) -> list[Table]:
    columns = ["Month", *(c.title for c in report.columns), "Total"]
    rows: list[list[Any]] = []
    for month in report.months:
        values = [report.matrix[month].get(c.key, ZERO) for c in report.columns]
        rows.append([month, *values, sum(values, ZERO)])
    rows.append(["Arisen", *(report.arisen[c.key] for c in report.columns), report.total])
    rows.append(
        [
            "Closed out",
            *(report.disposed.get(c.key, ZERO) for c in report.columns),
            sum(report.disposed.values(), ZERO),
        ]
    )
    if report.balances_shown:
        if report.begin_date is not None and any(report.opening.values()):
            rows.insert(
                0,
                [
                    "Opening balance",
                    *(report.opening.get(c.key, ZERO) for c in report.columns),
                    sum(report.opening.values(), ZERO),
                ],
            )
        rows.append(
            [
                "Balance",
                *(report.balances[c.key] for c in report.columns),
                sum(report.balances.values(), ZERO),
            ]
        )
    share_columns = ["Variance", "Arisen", "Base", "Base amount", "Share of base"]
    shares = [
        [c.title, report.arisen[c.key], c.base_title, report.bases.get(c.key), report.share(c.key)]
        for c in report.columns
        if c.base_title
    ]
    compare_columns = [
        "Variance",
        report.month or "Month",
        "Previous month",
        "Change",
        "Year to date",
        "Year to date, share of base",
    ]
    compare = [
        [comp.title, comp.month, comp.previous, comp.change, comp.year_to_date, share]
        for _column, comp, share in report.comparison()
    ]
    by_item = [
        [column.title, item, amount]
        for column in report.columns
        for item, amount in sorted(report.by_item.get(column.key, {}).items())
    ]
    return [
        Table("matrix", "Variances by month", columns, rows, _num(columns, 1)),
        Table(
            "shares",
            "Variances as a share of their standard base",
            share_columns,
            shares,
            frozenset({1, 3, 4}),
            shares=frozenset({4}),
        ),
        Table(
            "comparison",
            "Month against previous month and year to date",
            compare_columns,
            compare,
            _num(compare_columns, 1),
            shares=frozenset({5}),
        ),
        Table(
            "by-item", "Variances by item", ["Variance", "Item", "Amount"], by_item, frozenset({2})
        ),
        analysis_table(report),
    ]


ANALYSIS_TITLE = "Price, efficiency and volume variances by month"


def analysis_table(report: VarianceReport) -> Table:
    """The analysis as one table: a row per variance, sections one after the other."""
    months = report.months
    columns = [
        "Element",
        "Variance",
        *months,
        "Total",
        "Share of base",
        "Base amount",
        "Base",
    ]
    rows = []
    for section in report.analysis:
        for row in section.rows:
            rows.append(
                [
                    section.title,
                    row.title,
                    *(row.months.get(m, ZERO) for m in months),
                    row.total,
                    row.share,
                    row.base,
                    row.base_title,
                ]
            )
    last = len(columns) - 1
    return Table(
        "analysis",
        ANALYSIS_TITLE,
        columns,
        rows,
        frozenset(range(2, last)),
        shares=frozenset({last - 2}),
    )


def standards_tables(report: StandardsReport) -> list[Table]:
    columns = [
        "Product",
        "Phantom",
        "Standard cost",
        "Materials",
        *(report.pool_titles.get(p, p) for p in report.pools),
    ]
    rows = [
        [
            p.product,
            "yes" if p.phantom else "",
            p.total,
            p.material,
            *(p.conversion.get(pool, ZERO) for pool in report.pools),
        ]
        for p in report.products
    ]
    if any(p.planned_loss for p in report.products):
        columns.append("Of which planned loss")
        for row, p in zip(rows, report.products, strict=True):
            row.append(p.planned_loss)
    if any(p.note for p in report.products):
        columns.append("Note")
        for row, p in zip(rows, report.products, strict=True):
            row.append(p.note)
    money = frozenset(i for i in range(2, len(columns)) if columns[i] != "Note")
    bom: list[list[Any]] = []

    def walk(product: str, nodes: list[BomNode], level: int) -> None:
        for node in nodes:
            bom.append(
                [
                    product,
                    level,
                    node.path,
                    node.item,
                    node.kind,
                    node.quantity,
                    node.unit,
                    node.scrap,
                    node.unit_cost,
                    node.extended,
                ]
            )
            walk(product, node.children, level + 1)

    for p in report.products:
        walk(p.product, p.bom, 1)
    materials = [[name, cost, unit, ", ".join(used)] for name, cost, unit, used in report.materials]
    history = [
        [c.date, c.item, c.field, c.value, f"{report.path}:{c.line}"] for c in report.history
    ]
    return [
        Table("products", "Standard cost by product", columns, rows, money),
        Table(
            "bom",
            "Bills of materials, per good unit of the parent (planned scrap and yield in)",
            [
                "Product",
                "Level",
                "Path",
                "Item",
                "Kind",
                "Quantity",
                "Unit",
                "Planned scrap",
                "Unit cost",
                "Extended",
            ],
            bom,
            frozenset({1, 5, 7, 8, 9}),
            frozenset({1, 5}),
            frozenset({7}),
        ),
        Table(
            "materials",
            "Materials and where used (and where by- and co-products come from)",
            ["Item", "Standard cost", "Unit", "Used in"],
            materials,
            frozenset({1}),
        ),
        Table(
            "history",
            "History of standards",
            ["Effective", "Item", "Field", "Value", "Source"],
            history,
        ),
        Table(
            "pools",
            "Conversion pools",
            [
                "Pool",
                "Kind",
                "Driver",
                "Rate",
                "Budget a month",
                "Denominator level",
                "Incurred",
                "Allocated",
            ],
            [
                [p.name, p.kind, p.driver, p.rate, p.budget, p.denominator, p.incurred, p.allocated]
                for p in report.pool_standards
            ],
            frozenset({3, 4, 5}),
            frozenset({5}),
        ),
        Table(
            "drivers",
            "Conversion by driver: driver units per unit x rate, through all levels",
            ["Product", "Pool", "Driver units per unit", "Driver", "Rate", "Standard"],
            [
                [
                    p.product,
                    pool.name,
                    p.drivers[pool.name],
                    pool.driver,
                    pool.rate,
                    p.conversion.get(pool.name),
                ]
                for p in report.products
                for pool in report.driver_pools
                if pool.name in p.drivers
            ],
            frozenset({2, 4, 5}),
            frozenset({2}),
        ),
    ]


def health_tables(report: HealthReport) -> list[Table]:
    columns = [
        "Month",
        "Inventory at month end",
        "COGS at standard",
        "Days on hand",
        "Variances",
        "Share of COGS",
        "Uninventoried",
        "Backlog at month end",
    ]
    rows = [
        [
            m.month,
            m.inventory,
            m.cogs,
            m.days_on_hand,
            m.variances,
            m.variance_share,
            m.uninventoried,
            m.backlog,
        ]
        for m in report.months
    ]
    counts = [[c.item, c.quantity, c.last_count, c.days, c.status] for c in report.counts]
    return [
        Table(
            "months",
            "Health by month",
            columns,
            rows,
            _num(columns, 1),
            frozenset({3}),
            frozenset({5}),
        ),
        Table(
            "counts",
            "Physical counts",
            ["Item", "On hand", "Last count", "Days since count or first receipt", "Status"],
            counts,
            frozenset({1, 3}),
            frozenset({1, 3}),
        ),
        Table(
            "warnings",
            "Warnings",
            ["Month", "Warning"],
            [[month or "", text] for month, text in report.dated_warnings()],
        ),
    ]


def tables_of(report: Any) -> list[Table]:
    if isinstance(report, InventoryReport):
        return inventory_tables(report)
    if isinstance(report, VarianceReport):
        return variance_tables(report)
    if isinstance(report, StandardsReport):
        return standards_tables(report)
    if isinstance(report, HealthReport):
        return health_tables(report)
    raise TypeError(f"not a report: {type(report).__name__}")


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def render_csv(table: Table) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_plain(value) for value in row])
    return buffer.getvalue()


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def report_json(report: Any) -> dict[str, Any]:
    """The report's tables as JSON-ready data (Decimals stay exact: dump with simplejson)."""
    return {
        "currency": getattr(report, "currency", None),
        "notes": getattr(report, "notes", []),
        "tables": {
            t.name: {
                "title": t.title,
                "columns": t.columns,
                "rows": [[_json_value(v) for v in row] for row in t.rows],
            }
            for t in tables_of(report)
        },
    }


# -- text renderers for the CLI ----------------------------------------------------------------


def _fmt_money(number: Decimal | None) -> str:
    return "" if number is None or number == 0 else f"{number:,.2f}"


def _fmt(value: Any, money: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        if money:
            return _fmt_money(value)
        return "" if value == 0 else f"{value:,}"
    return str(value)


def _table(headers: list[str], rows: list[list[str]], numeric: Collection[int] = ()) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=False)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(headers), "  ".join("-" * w for w in widths), *map(line, rows)])


def render_table_text(table: Table) -> str:
    def cell(index: int, value: Any) -> str:
        if index in table.shares and isinstance(value, Decimal):
            return _percent(value)
        return _fmt(value, index in table.numeric and index not in table.quantities)

    rows = [[cell(i, v) for i, v in enumerate(row)] for row in table.rows]
    return f"{table.title}\n\n" + _table(table.columns, rows, table.numeric) + "\n"


def _percent(value: Decimal | None, places: int = 1) -> str:
    if value is None or value == 0:
        return ""
    if abs(value) < Decimal("0.001"):
        places = max(places, 2)
    return f"{value * 100:.{places}f} %"


def render_inventory_text(report: InventoryReport) -> str:
    rows = [
        [
            r.account,
            r.item,
            f"{r.quantity:,}",
            r.unit,
            _fmt_money(r.unit_cost),
            _fmt_money(r.value),
            str(r.last_count or ""),
            "" if not r.count_difference else f"{r.count_difference:,}",
        ]
        for r in report.rows
    ]
    for account, amount in report.adjustments:
        rows.append([account, "(variance adjustment)", "", "", "", _fmt_money(amount), "", ""])
    rows.append(["Total", "", "", "", "", _fmt_money(report.total), "", ""])
    since = f"{report.begin_date} to " if report.begin_date else ""
    out = [
        f"Inventory at standard ({report.currency}) as of {report.end_date}",
        "",
        _table(
            ["Account", "Item", "Quantity", "Unit", "Std cost", "Value", "Counted", "Count diff"],
            rows,
            {2, 4, 5, 7},
        ),
        "",
    ]
    if report.days_on_hand is not None:
        out.append(
            f"Days on hand: {report.days_on_hand} (inventory {_fmt_money(report.total)} ÷ "
            f"average daily COGS at standard of {_fmt_money(report.daily_cogs)}: "
            f"{_fmt_money(report.cogs)} over {report.days} days, {since}{report.end_date})"
        )
    else:
        out.append("Days on hand: no COGS at standard in the period.")
    if report.backlog:
        out += ["", render_table_text(inventory_tables(report)[5]).rstrip("\n")]
        out.append(
            f"Backlog total: {_fmt_money(report.backlog_total)} {report.currency} owed to the "
            "stock; the next receipts of these items clear it first, and a close with open "
            "backlog is an error."
        )
    if report.products:
        out += ["", render_table_text(inventory_tables(report)[2])]
    out += report.notes
    return "\n".join(out).rstrip("\n") + "\n"


def render_variances_text(report: VarianceReport) -> str:
    tables = variance_tables(report)
    matrix = tables[0]
    rows = [
        [_fmt(v, True) if isinstance(v, Decimal) else str(v) for v in row] for row in matrix.rows
    ]
    out = [
        f"Variances ({report.currency}; positive = unfavourable)",
        "",
        _table(matrix.columns, rows, matrix.numeric),
        "",
        "Share of standard base:",
    ]
    for column in report.columns:
        if not column.base_title:
            continue
        base = _fmt_money(report.bases.get(column.key)) or "none"
        share = _percent(report.share(column.key))
        if share:
            out.append(f"  {column.title}: {share} of {column.base_title} ({base})")
        elif report.arisen.get(column.key):
            out.append(f"  {column.title}: no {column.base_title} to compare with")
    if report.analysis:
        out += ["", render_analysis_text(report)]
    out += report.notes
    return "\n".join(out) + "\n"


ANALYSIS_NOTE = (
    "Each share is of the variance's standard base: purchase price of purchases at "
    "standard; usage of the standard quantity allowed at standard cost; spending of the "
    "actual driver units at the standard rate (a fixed pool: of its budget), i.e. how far "
    "the actual rate is from the standard; efficiency of the standard cost allowed for the "
    "output (what was allocated); production volume of the budget; a pool's under/(over)-"
    "allocation of what it allocated."
)


def render_analysis_text(report: VarianceReport) -> str:
    months = report.months
    rows: list[list[str]] = []
    headings: dict[int, str] = {}  # row index -> the section's heading before it
    for section in report.analysis:
        headings[len(rows)] = f"{section.title} ({section.description})"
        for row in section.rows:

            def cell(value: Decimal | None, quantity: bool = row.quantity) -> str:
                if value is None or value == 0:
                    return ""
                return f"{value:,}" if quantity else _fmt_money(value)

            base = ""
            if row.base_title:
                base = f"{_fmt_money(row.base) or '0.00'} {row.base_title}"
            rows.append(
                [
                    f"  {row.title}",
                    *(cell(row.months.get(m)) for m in months),
                    cell(row.total),
                    _percent(row.share, 2),
                    base,
                ]
            )
    headers = ["", *months, "Total", "Share", "Of base"]
    lines = _table(headers, rows, set(range(1, len(months) + 3))).split("\n")
    body = lines[:2]
    for index, line in enumerate(lines[2:]):
        if index in headings:
            body.append(headings[index])
        body.append(line)
    return "\n".join(
        [
            f"{ANALYSIS_TITLE} ({report.currency}; positive = unfavourable)",
            "",
            *body,
            "",
            ANALYSIS_NOTE,
        ]
    )


def render_standards_text(report: StandardsReport) -> str:
    products = standards_tables(report)[0]
    rows = [
        [_fmt(v, True) if isinstance(v, Decimal) else str(v) for v in row] for row in products.rows
    ]
    out = [
        f"Standard costs in force on {report.date} ({report.currency}); triggers: "
        f"{report.triggers}",
        "",
        _table(products.columns, rows, products.numeric),
        "",
        "Bills of materials:",
    ]

    def walk(nodes: list[BomNode], depth: int) -> None:
        for node in nodes:
            unit = f" {node.unit}" if node.unit else ""
            scrap = f", {rate_text(node.scrap)} planned scrap" if node.scrap else ""
            out.append(
                f"{'  ' * depth}{node.quantity:,f}{unit} x {node.item} ({node.kind}{scrap}) at "
                f"{_fmt_money(node.unit_cost)} = {_fmt_money(node.extended)}"
            )
            walk(node.children, depth + 1)

    out.append("  (per good unit of the parent: planned scrap in, divided by the yield)")
    for product in report.products:
        if not product.phantom:
            good = f"  (yield {rate_text(product.yield_)})" if product.yield_ else ""
            out.append(f"  {product.product}  {_fmt_money(product.total)}{good}")
            walk(product.bom, 2)
    if report.driver_pools:
        out += ["", "Conversion by driver, per unit through all levels:"]
        width = max(len(pool.name) for pool in report.driver_pools)
        for product in report.products:
            label = product.product
            for pool in report.driver_pools:
                if pool.name in product.drivers:
                    out.append(
                        f"  {label:<{len(product.product)}}  {pool.name:<{width}}  "
                        f"{driver_text(pool, product.drivers[pool.name])} = "
                        f"{_fmt_money(product.conversion.get(pool.name))}"
                    )
                    label = ""
        out += ["", "Driver pools:"]
        for pool in report.driver_pools:
            fixed = (
                f"fixed, budget {_fmt_money(pool.budget)} a month over "
                f"{pool.denominator:,f} {pool.driver}"
                if pool.denominator is not None
                else "variable"
            )
            out.append(
                f"  {pool.name}: {_fmt_money(pool.rate)} per {singular(pool.driver or '')}, "
                + fixed
            )
    if report.history:
        out += ["", "History of standards:"]
        for change in report.history:
            out.append(
                f"  {change.date or 'from the start'}  {change.item} {change.field}: "
                f"{change.value}  ({report.path}:{change.line})"
            )
    return "\n".join(out) + "\n"


def render_health_text(report: HealthReport) -> str:
    months = health_tables(report)[0]
    rows = [
        [
            m.month,
            _fmt_money(m.inventory),
            _fmt_money(m.cogs),
            "" if m.days_on_hand is None else str(m.days_on_hand),
            _fmt_money(m.variances),
            _percent(m.variance_share),
            _fmt_money(m.uninventoried),
            _fmt_money(m.backlog),
        ]
        for m in report.months
    ]
    columns = months.columns
    if not any(m.backlog for m in report.months):
        columns = columns[:-1]
        rows = [row[:-1] for row in rows]
    out = [f"Backflush health ({report.currency}) to {report.end_date}", ""]
    out += [f"WARNING: {w}" for w in report.warnings]
    out += report.information
    out += [
        "",
        _table(columns, rows, months.numeric),
        "",
        f"COGS is {report.cogs_basis}. Days on hand trend: {report.trend}.",
    ]
    if report.counts:
        out += ["", "Physical counts:"]
        for c in report.counts:
            counted = f" (last count {c.last_count})" if c.last_count else ""
            out.append(f"  {c.item}: {c.status}{counted}")
    out += report.notes
    return "\n".join(out) + "\n"

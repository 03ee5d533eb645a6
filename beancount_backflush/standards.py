"""The standards file: materials, products, BOMs, conversion pools, accounts, triggers.

``load_standards(path)`` returns a validated, immutable :class:`Standards` and a list of
``StandardsError`` located at the standards file's own lines. Values that may change over
time (``cost``, ``bom``, ``conversion``) are :class:`Dated` and looked up by date; product
standard costs are rolled up through stocked and phantom subassemblies once per standard
version (cached), never per event.

The loader is safe against hostile and careless files: it reads regular files only, of at
most :data:`MAX_FILE_BYTES`, never echoes the content of a file that is not a standards
file, bounds every number (:data:`MAX_COST`, :data:`MAX_QUANTITY`, :data:`MAX_ROLLED`,
:data:`MAX_DECIMALS`) and the BOM depth (:data:`MAX_BOM_DEPTH`), walks BOMs without
recursion, and caches the result of an unchanged file (a fresh :class:`Standards` each call).
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime
import gc
import os
import re
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from typing import Any, Generic, TypeVar

from beancount.core import account as account_lib

from . import yamlio
from .errors import StandardsError, did_you_mean, source

T = TypeVar("T")
ZERO = Decimal(0)

TRIGGER_VARIANTS: dict[frozenset[str], str] = {
    frozenset({"purchase", "completion", "sale"}): "purchase-completion-sale",
    frozenset({"purchase", "sale"}): "purchase-sale",
    frozenset({"completion", "sale"}): "completion-sale",
}
VARIANCE_KINDS = (
    "purchase_price",
    "usage",
    "shrinkage",
    "scrap",
    "revaluation",
    "rounding",
    "spending",
    "efficiency",
    "volume",
)
DEFAULT_ACCOUNTS = {
    "raw_in_process": "Assets:Inventory:RawInProcess",
    "finished_goods": "Assets:Inventory:FinishedGoods",
    "materials_clearing": "Expenses:Materials:Clearing",
    "cogs": "Expenses:COGS",
    "payable": "Liabilities:AccountsPayable",
    "receivable": "Assets:AccountsReceivable",
    "revenue": "Income:Sales",
    "backlog": "Liabilities:Backflush:Backlog",
}
DEFAULT_VARIANCE_ACCOUNTS = {
    "purchase_price": "Expenses:Variances:PurchasePrice",
    "usage": "Expenses:Variances:MaterialUsage",
    "shrinkage": "Expenses:Variances:Shrinkage",
    "scrap": "Expenses:Variances:Scrap",
    "revaluation": "Expenses:Variances:Revaluation",
    "rounding": "Expenses:Variances:Rounding",
    "spending": "Expenses:Variances:Spending",
    "efficiency": "Expenses:Variances:Efficiency",
    "volume": "Expenses:Variances:Volume",
}
# The inventory accounts each trigger variant posts to must be named in the file.
REQUIRED_ACCOUNTS = {
    "purchase-completion-sale": ("raw_in_process", "finished_goods", "cogs"),
    "purchase-sale": ("raw_in_process", "cogs"),
    "completion-sale": ("finished_goods", "materials_clearing", "cogs"),
}
ITEM_RE = re.compile(r"^[A-Z][A-Z0-9'._-]{0,22}[A-Z0-9]$|^[A-Z]$")
# Beancount's keywords: never commodities (its grammar reads them as a boolean or nothing).
RESERVED_NAMES = frozenset({"TRUE", "FALSE", "NULL"})

# -- limits ---------------------------------------------------------------------------------
# The engine computes in a 34-digit Decimal context. A cost or rate below 1e10 with at most
# 12 decimals has at most 22 digits, a BOM quantity below 1e6 with at most 6 decimals at most
# 12: one level's quantity x cost (34 digits) is exact. Rolled-up costs below 1e12 keep at
# least 22 decimals in that context, far below the ledger's precision (at most 8 decimals).
MAX_COST = Decimal("1e10")  # a material cost, a conversion rate, any other number
MAX_QUANTITY = Decimal("1e6")  # a BOM quantity per unit of the product
MAX_ROLLED = Decimal("1e12")  # a product's rolled-up cost, and exploded quantity, per unit
MAX_DECIMALS = 12  # decimals of a cost, a rate or another number (trailing zeros aside)
MAX_QUANTITY_DECIMALS = 6  # decimals of a BOM quantity
MAX_BOM_DEPTH = 100  # levels of products in products
MAX_FILE_BYTES = 5_000_000  # the standards file (a real one is a few kilobytes)
MAX_ERRORS = 100  # errors listed; the rest are counted in one last error
MAX_HINT_CHOICES = 2_000  # "did you mean" is skipped beyond this many names
ROLLUP_CONTEXT = Context(prec=34, rounding=ROUND_HALF_EVEN)


def tidy(number: Decimal) -> Decimal:
    """The same number without trailing zeros (2.0 x 10 is 20, not 20.0)."""
    if number == number.to_integral_value():
        return number.quantize(Decimal(1))
    return number.normalize()


DIVIDED_PLACES = Decimal("1e-8")


def _divided(number: Decimal) -> Decimal:
    """A quotient (by a yield, a co-product's quantity) cut to 8 decimals: exact products of
    such numbers stay well inside Decimal's 28 digits, so every posting balances exactly
    (the cut itself is a sub-cent residue that goes to the rounding variance)."""
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -8:
        return number.quantize(DIVIDED_PLACES).normalize()
    return number


def _short_quantity(number: Decimal) -> Decimal:
    """A quantity per unit multiplied through BOM levels, kept to 12 decimals: consumption
    (x a batch) times a standard cost must stay exact in 28 digits."""
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -12:
        return number.quantize(Decimal("1e-12")).normalize()
    return number


def _unit_cost(number: Decimal) -> Decimal:
    return tidy_money(_divided(number))


def tidy_money(number: Decimal) -> Decimal:
    """The same amount with at least two decimals and no trailing zeros beyond them."""
    number = tidy(number)
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        return number.quantize(Decimal("0.01"))
    return number


@dataclass(frozen=True)
class Dated(Generic[T]):
    """A value that may change on effective dates. ``None`` date: in force from the start."""

    dates: tuple[datetime.date | None, ...]
    values: tuple[T, ...]
    lines: tuple[int, ...]

    def index_at(self, date: datetime.date) -> int | None:
        """Index of the value in force on ``date`` (effective at the start of its date)."""
        if self.dates[0] is None:
            return 0
        index = bisect.bisect_right(self.dates, date) - 1  # type: ignore[arg-type,type-var]
        return index if index >= 0 else None

    def at(self, date: datetime.date) -> T | None:
        index = self.index_at(date)
        return None if index is None else self.values[index]

    def effective_dates(self) -> list[datetime.date]:
        return [d for d in self.dates if d is not None]


def plain(value: T, line: int) -> Dated[T]:
    return Dated((None,), (value,), (line,))


@dataclass(frozen=True)
class Pool:
    """A conversion cost pool. With a ``driver`` and a standard ``rate``, products give
    driver units per unit and allocation is units x rate; with a ``budget`` (fixed cost
    per month) it is a fixed pool (spending and production-volume variances)."""

    name: str
    incurred: str
    allocated: str
    line: int
    driver: str | None = None
    rate: Decimal | None = None
    budget: Decimal | None = None

    @property
    def title(self) -> str:
        """The pool's name as an account component (``variable_overhead`` ->
        ``VariableOverhead``), for its variance sub-accounts."""
        title = "".join(p[:1].upper() + p[1:] for p in re.split(r"[^A-Za-z0-9]+", self.name) if p)
        return title if title[:1].isalpha() else f"Pool{title}"


@dataclass(frozen=True)
class Material:
    name: str
    cost: Dated[Decimal]
    unit: str | None
    line: int


@dataclass(frozen=True)
class Product:
    name: str
    bom: Dated[Mapping[str, Decimal]]  # standard quantities: planned scrap included
    conversion: Dated[Mapping[str, Decimal]]
    phantom: bool
    unit: str | None
    line: int
    # Planned component scrap per BOM version (component -> rate), parallel to ``bom``.
    scrap: tuple[Mapping[str, Decimal], ...] = ()
    yield_: Decimal = Decimal(1)  # good units per unit started
    byproducts: Mapping[str, Decimal] = field(default_factory=dict)  # item -> per unit
    # A process with co-products: output -> (units per unit of the process, cost share).
    outputs: Mapping[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    output_units: Mapping[str, str] = field(default_factory=dict)  # default: the process's


@dataclass(frozen=True)
class Rollup:
    """An item's standard unit cost at one standard version, by element.

    ``direct`` is what one unit consumes at its own level (phantoms exploded into it,
    stocked subassemblies kept whole); ``materials`` is the full explosion down to
    materials; ``conversion`` the conversion content per pool through all levels.
    """

    item: str
    total: Decimal
    material: Decimal
    conversion: Mapping[str, Decimal]
    own_conversion: Mapping[str, Decimal]
    direct: Mapping[str, Decimal]
    materials: Mapping[str, Decimal]
    since: datetime.date
    is_product: bool
    planned_loss: Decimal = ZERO  # the part of ``total`` that is planned scrap and yield loss
    byproducts: Mapping[str, Decimal] = field(default_factory=dict)  # received per unit


@dataclass(frozen=True)
class CloseConfig:
    disposition: str = "cogs"
    materiality: Decimal = ZERO
    variances: tuple[str, ...] = ()
    schedule: str = "explicit"
    schedule_line: int = 0


@dataclass
class Standards:
    path: str
    currency: str
    triggers: frozenset[str]
    variant: str
    accounts: dict[str, str]
    variance_accounts: dict[str, str]
    pools: dict[str, Pool]
    close: CloseConfig
    negative_stock: str
    warn_uninventoried: Decimal
    auto_open: bool
    precision: int
    materials: dict[str, Material]
    products: dict[str, Product]
    lines: dict[str, int] = field(default_factory=dict)  # key path -> line, for errors
    links: bool = False  # a ^bf-... link per directive on what it generated (opt-in)
    base_date: datetime.date = datetime.date(1970, 1, 1)
    _rollups: dict[tuple[str, int], Rollup | None] = field(default_factory=dict, repr=False)
    _change_dates: list[datetime.date] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.outputs: dict[str, tuple[str, Decimal, Decimal]] = {
            output: (product.name, qty, share)
            for product in self.products.values()
            for output, (qty, share) in product.outputs.items()
        }
        dates: set[datetime.date] = set()
        for material in self.materials.values():
            dates.update(material.cost.effective_dates())
        for product in self.products.values():
            dates.update(product.bom.effective_dates())
            dates.update(product.conversion.effective_dates())
        self._change_dates = sorted(dates)

    # -- lookups ---------------------------------------------------------------------------

    @property
    def change_dates(self) -> list[datetime.date]:
        """Every date on which some standard changes, sorted."""
        return self._change_dates

    def is_item(self, name: str) -> bool:
        return name in self.materials or name in self.products or name in self.outputs

    def is_process(self, name: str) -> bool:
        """A product with co-products: it is never stocked itself, its outputs are."""
        product = self.products.get(name)
        return product is not None and bool(product.outputs)

    def line_of(self, *keys: str) -> int:
        """The standards-file line of a key path like ('materials', 'STEEL', 'cost')."""
        for n in range(len(keys), 0, -1):
            line = self.lines.get("/".join(keys[:n]))
            if line:
                return line
        return 1

    def source(self, *keys: str) -> dict[str, Any]:
        return source(self.path, self.line_of(*keys))

    def rollup(self, item: str, date: datetime.date) -> Rollup | None:
        """The item's standard in force on ``date``, or None when none is in force."""
        version = bisect.bisect_right(self._change_dates, date)
        key = (item, version)
        try:
            return self._rollups[key]
        except KeyError:
            pass
        result = self._compute_rollup(item, date)
        self._rollups[key] = result
        return result

    def _compute_rollup(self, item: str, date: datetime.date) -> Rollup | None:
        material = self.materials.get(item)
        if material is not None:
            index = material.cost.index_at(date)
            if index is None:
                return None
            cost = material.cost.values[index]
            return Rollup(
                item,
                cost,
                cost,
                {},
                {},
                {},
                {item: Decimal(1)},
                material.cost.dates[index] or self.base_date,
                False,
            )
        if item in self.outputs:
            return self._output_rollup(item, date)
        product = self.products[item]
        bom_index = product.bom.index_at(date)
        conv_index = product.conversion.index_at(date)
        if bom_index is None or conv_index is None:
            return None
        since = max(
            product.bom.dates[bom_index] or self.base_date,
            product.conversion.dates[conv_index] or self.base_date,
        )
        # Planned losses (SPEC: "Actual consumption, planned scrap and yield"): a BOM line's
        # standard quantity is qty x (1 + scrap); components and conversion per good unit
        # are divided by the yield. Both are part of the standard cost.
        good = product.yield_
        scrap = product.scrap[bom_index] if product.scrap else {}
        direct: dict[str, Decimal] = {}
        ideal_conversion = {
            # A driver pool's rate on a product is driver units per unit: money = units x rate.
            pool: qty * self.pools[pool].rate if self.pools[pool].rate is not None else qty  # type: ignore[operator]
            for pool, qty in product.conversion.values[conv_index].items()
        }
        own_conversion = {pool: _divided(rate / good) for pool, rate in ideal_conversion.items()}
        planned_loss = sum(own_conversion.values(), ZERO) - sum(ideal_conversion.values(), ZERO)
        materials: dict[str, Decimal] = {}
        conversion: dict[str, Decimal] = dict(own_conversion)
        material_cost = ZERO
        for component, standard_qty in product.bom.values[bom_index].items():
            sub = self.rollup(component, date)
            if sub is None:
                return None
            qty = _divided(standard_qty / good)
            ideal_qty = standard_qty / (1 + scrap.get(component, ZERO))
            planned_loss += qty * sub.total - ideal_qty * (sub.total - sub.planned_loss)
            since = max(since, sub.since)
            if component in self.products and self.products[component].phantom:
                # A phantom is never stocked: its own BOM and conversion belong to the parent.
                for name, sub_qty in sub.direct.items():
                    direct[name] = direct.get(name, ZERO) + qty * sub_qty
                for pool, rate in sub.own_conversion.items():
                    own_conversion[pool] = own_conversion.get(pool, ZERO) + qty * rate
            else:
                direct[component] = direct.get(component, ZERO) + qty
            for name, sub_qty in sub.materials.items():
                materials[name] = materials.get(name, ZERO) + qty * sub_qty
            for pool, rate in sub.conversion.items():
                conversion[pool] = conversion.get(pool, ZERO) + qty * rate
            material_cost += qty * sub.material
        # By-products at standard reduce the main product's cost (net realizable value
        # method; Horngren, Datar & Rajan, *Cost Accounting*, "Accounting for byproducts").
        byproducts: dict[str, Decimal] = {}
        for name, per_unit in product.byproducts.items():
            sub = self.rollup(name, date)
            if sub is None:
                return None
            since = max(since, sub.since)
            byproducts[name] = per_unit
            material_cost -= per_unit * sub.total
        total = material_cost + sum(conversion.values(), ZERO)
        return Rollup(
            item,
            _unit_cost(total),
            _unit_cost(material_cost),
            {pool: _unit_cost(rate) for pool, rate in conversion.items()},
            {pool: _unit_cost(rate) for pool, rate in own_conversion.items()},
            {name: tidy(_short_quantity(qty)) for name, qty in direct.items()},
            {name: tidy(_short_quantity(qty)) for name, qty in materials.items()},
            since,
            True,
            _unit_cost(planned_loss),
            byproducts,
        )

    def _output_rollup(self, item: str, date: datetime.date) -> Rollup | None:
        """A co-product's standard: its share of the process cost, per unit of it
        (Horngren, Datar & Rajan, *Cost Accounting*, "Allocating joint costs")."""
        process, qty, share = self.outputs[item]
        whole = self.rollup(process, date)
        if whole is None:
            return None

        def scaled(number: Decimal) -> Decimal:
            return _unit_cost(number * share / qty)

        return Rollup(
            item,
            scaled(whole.total),
            scaled(whole.material),
            {pool: scaled(rate) for pool, rate in whole.conversion.items()},
            {},
            {},
            {name: tidy(_divided(q * share / qty)) for name, q in whole.materials.items()},
            whole.since,
            True,
            scaled(whole.planned_loss),
        )

    def where_used(self, item: str) -> list[str]:
        """Products whose BOM (any version) names ``item`` directly, or that yield it as a
        by-product or co-product."""
        return sorted(
            name
            for name, product in self.products.items()
            if any(item in bom for bom in product.bom.values)
            or item in product.byproducts
            or item in product.outputs
        )

    def unit_of(self, item: str) -> str | None:
        """An item's unit: its own, or for a co-product its process's."""
        if item in self.materials:
            return self.materials[item].unit
        if item in self.products:
            return self.products[item].unit
        if item in self.outputs:
            process = self.products[self.outputs[item][0]]
            return process.output_units.get(item) or process.unit
        return None


# -- loading and validation ----------------------------------------------------------------


class _Reader:
    """Collects located errors while reading the YAML tree; never raises."""

    def __init__(self, path: str):
        self.path = path
        self.errors: list[StandardsError] = []
        self.lines: dict[str, int] = {}
        self.unlisted = 0  # errors beyond MAX_ERRORS
        self.unlisted_line = 1

    @property
    def full(self) -> bool:
        """Whether no more errors are listed (costly hints are then skipped)."""
        return len(self.errors) >= MAX_ERRORS

    def error(self, line: int, message: str) -> None:
        if self.full:
            if not self.unlisted:
                self.unlisted_line = line
            self.unlisted += 1
            return
        self.errors.append(StandardsError(source(self.path, line), message, None))

    def finish(self) -> list[StandardsError]:
        """The errors, with one last error counting those not listed."""
        if not self.unlisted:
            return self.errors
        return [
            *self.errors,
            StandardsError(
                source(self.path, self.unlisted_line),
                f"{self.unlisted} more problem(s) in the standards file are not listed "
                f"(only the first {MAX_ERRORS} are); fix these first",
                None,
            ),
        ]

    def hint(self, value: object, choices: Iterable[str], otherwise: str) -> str:
        """did_you_mean, skipped when no error is listed any more or the names are many."""
        if self.full or len(str(value)) > 100:
            return otherwise
        names = sorted(choices) if isinstance(choices, (set, frozenset)) else list(choices)
        if len(names) > MAX_HINT_CHOICES:
            return otherwise
        return did_you_mean(value, names, otherwise)

    def mapping(self, value: Any, line: int, what: str) -> yamlio.Map | None:
        if isinstance(value, yamlio.Map):
            return value
        self.error(line, f"{what} expects a mapping (key: value), got {_describe(value)}")
        return None

    def keys(self, node: yamlio.Map, allowed: Iterable[str], what: str) -> None:
        allowed = list(allowed)
        for key in node:
            if key not in allowed:
                text = _short(node.text_of(key))
                suggestion = self.hint(text, allowed, f"; expected one of {', '.join(allowed)}")
                self.error(node.key_lines[key], f"unknown key {text!r} in {what}{suggestion}")

    def remember(self, node: yamlio.Map, prefix: str) -> None:
        for key, line in node.key_lines.items():
            self.lines[f"{prefix}{key}"] = line

    def number(
        self,
        value: Any,
        line: int,
        what: str,
        positive: bool = True,
        allow_zero: bool = False,
        limit: Decimal = MAX_COST,
        decimals: int = MAX_DECIMALS,
        kind: str = "costs and conversion rates",
    ) -> Decimal | None:
        """A number within ``limit`` and ``decimals``; -0 is read as 0."""
        if isinstance(value, bool) or not isinstance(value, Decimal):
            quoted = isinstance(value, str) and _looks_like_number(value)
            self.error(
                line,
                f"{what} expects a number, got {_describe(value)}"
                + (" (a number in quotes is text: remove the quotes)" if quoted else ""),
            )
            return None
        if value == 0:
            value = value.copy_abs()  # -0 and -0.00 are zero, never a negative zero
        if positive and (value < 0 or (value == 0 and not allow_zero)):
            sign = "zero or positive" if allow_zero else "positive"
            self.error(line, f"{what} expects a {sign} number, got {value}")
            return None
        if value.copy_abs() >= limit:  # copy_abs: no context, no Overflow for 1e999999999
            self.error(
                line,
                f"{what} is {value}, too large: {kind} must be below {_limit(limit)}",
            )
            return None
        places = _decimal_places(value)
        if places > decimals:
            self.error(
                line,
                f"{what} has {places} decimal places ({_short(str(value))}): "
                f"at most {decimals} are allowed for {kind}",
            )
            return None
        return value

    def field(
        self, node: yamlio.Map, key: str, line: int, what: str, default: Any = None, **limits: Any
    ) -> Decimal | None:
        """``node[key]`` as a number, located at its own line (else ``line``)."""
        return self.number(node.get(key, default), node.key_lines.get(key, line), what, **limits)

    def quantities(
        self,
        value: Any,
        line: int,
        what: str,
        known: set[str],
        kind: str,
        number_label: str,
        otherwise: str,
        allow_zero: bool = False,
        itself: str | None = None,
        limit: Decimal = MAX_COST,
        decimals: int = MAX_DECIMALS,
        limit_kind: str = "costs and conversion rates",
        limits: Mapping[str, tuple[Decimal, int, str]] | None = None,
    ) -> Mapping[str, Decimal] | None:
        """A map of known names to numbers (a BOM, conversion rates); None if any is bad.

        ``limits`` gives some names their own (limit, decimals, kind)."""
        node = self.mapping(value, line, what)
        if node is None:
            return None
        result: dict[str, Decimal] = {}
        for key, number in node.items():
            key_line = node.key_lines[key]
            text = _short(node.text_of(key))
            if key == itself:
                self.error(key_line, f"BOM cycle: {key} -> {key}")
                continue
            if key not in known or not isinstance(key, str):
                self.error(
                    key_line,
                    f"{what}: unknown {kind} {text!r}" + self.hint(text, known, otherwise),
                )
                continue
            own_limit, own_decimals, own_kind = (limits or {}).get(
                key, (limit, decimals, limit_kind)
            )
            read = self.number(
                number,
                key_line,
                f"{what} {number_label} {key}",
                allow_zero=allow_zero,
                limit=own_limit,
                decimals=own_decimals,
                kind=own_kind,
            )
            if read is not None:
                result[key] = read
        return result if len(result) == len(node) else None

    def account(self, value: Any, line: int, what: str) -> str | None:
        if not isinstance(value, str) or not account_lib.is_valid(value):
            self.error(
                line,
                f"{what} expects a Beancount account name like "
                f"'Assets:Inventory:RawInProcess', got {_describe(value)}",
            )
            return None
        return value

    def dated(
        self, value: Any, line: int, what: str, read: Callable[[Any, int, str], T | None]
    ) -> Dated[T] | None:
        """A plain value, or a map from effective date to value."""
        if (
            isinstance(value, yamlio.Map)
            and value
            and any(isinstance(k, datetime.date) for k in value)
        ):
            if not all(isinstance(k, datetime.date) for k in value):
                self.error(
                    line,
                    f"{what} mixes effective dates and other keys; use either "
                    "a plain value or a map of dates (YYYY-MM-DD) to values",
                )
                return None
            entries = []
            for date in sorted(value):
                item = read(value[date], value.key_lines[date], f"{what} on {date}")
                if item is None:
                    return None
                entries.append((date, item, value.key_lines[date]))
            return Dated(
                tuple(e[0] for e in entries),
                tuple(e[1] for e in entries),
                tuple(e[2] for e in entries),
            )
        item = read(value, line, what)
        return None if item is None else plain(item, line)


_NUMBERISH = re.compile(r"^\s*[-+]?(?:[0-9][0-9_,]*)?(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?\s*$")


def _looks_like_number(text: str) -> bool:
    return bool(text.strip()) and len(text) < 100 and bool(_NUMBERISH.match(text))


def _decimal_places(value: Decimal) -> int:
    """Decimal places of a finite number, trailing zeros aside (2.500 has 1)."""
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    end = len(digits)
    while end > 1 and digits[end - 1] == 0:
        end -= 1
        exponent += 1
    return max(0, -exponent) if any(digits) else 0


def _limit(limit: Decimal) -> str:
    """1e10 for Decimal('1e10')."""
    return f"1e{limit.adjusted()}"


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(value: Any) -> str:
    if isinstance(value, yamlio.Map):
        return "a mapping"
    if isinstance(value, yamlio.Seq):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, Decimal):
        return f"the number {_short(str(value))}"
    if isinstance(value, str):
        return f"the text {_short(value)!r}"
    if isinstance(value, datetime.date):
        return f"the date {value}"
    return f"{type(value).__name__} {_short(repr(value))}"


TOP_KEYS = (
    "currency",
    "triggers",
    "accounts",
    "conversion",
    "close",
    "negative_stock",
    "warn_uninventoried",
    "auto_open",
    "links",
    "precision",
    "materials",
    "products",
)


_FILE_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a pipe (FIFO)"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
)
# Results of unchanged files: (path, realpath, device, inode, mtime_ns, size) -> result.
_CACHE: dict[tuple[Any, ...], tuple[Standards | None, list[StandardsError]]] = {}
_CACHE_SIZE = 16


class _Unreadable(Exception):
    """The standards path cannot be read as a standards file (a reason, never content)."""


def _check_regular(info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _FILE_KINDS if test(info.st_mode)), "not a file")
        raise _Unreadable(f"not a regular file ({kind})")
    if info.st_size > MAX_FILE_BYTES:
        raise _Unreadable(
            f"it is larger than {MAX_FILE_BYTES // 1_000_000} MB "
            "(a standards file is a few kilobytes)"
        )


def _read_bytes(path: str) -> tuple[bytes, os.stat_result]:
    """The file's bytes, if it is a regular file of at most MAX_FILE_BYTES.

    Checked before opening (a FIFO or a device would block or never end) and again on the
    open file (O_NONBLOCK: a file swapped for a FIFO in between cannot block the open).
    """
    _check_regular(os.stat(path))
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags | getattr(os, "O_BINARY", 0))
    try:
        info = os.fstat(fd)
        _check_regular(info)
        chunks = []
        size = 0
        while size <= MAX_FILE_BYTES:
            chunk = os.read(fd, min(1 << 20, MAX_FILE_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > MAX_FILE_BYTES:
        raise _Unreadable(f"it is larger than {MAX_FILE_BYTES // 1_000_000} MB")
    return b"".join(chunks), info


def _cache_key(path: str, info: os.stat_result) -> tuple[Any, ...]:
    return (
        path,
        os.path.realpath(path),
        info.st_dev,
        info.st_ino,
        info.st_mtime_ns,
        info.st_size,
    )


def _fresh(
    result: tuple[Standards | None, list[StandardsError]],
) -> tuple[Standards | None, list[StandardsError]]:
    """A copy callers may change (base_date, the roll-up cache) without touching the cache."""
    standards, errors = result
    if standards is None:
        return None, list(errors)
    copy = dataclasses.replace(
        standards,
        triggers=frozenset(standards.triggers),
        accounts=dict(standards.accounts),
        variance_accounts=dict(standards.variance_accounts),
        pools=dict(standards.pools),
        materials=dict(standards.materials),
        products=dict(standards.products),
        lines=dict(standards.lines),
        base_date=Standards.base_date,
        _rollups={},
    )
    return copy, list(errors)


def load_standards(path: str) -> tuple[Standards | None, list[StandardsError]]:
    """Read and validate a standards file. Returns (None, errors) if it cannot be used.

    Never raises. Each call returns a fresh :class:`Standards`; an unchanged file (same
    path, inode, modification time and size) is not read again.
    """
    reader = _Reader(path)
    try:
        info = os.stat(path)
        _check_regular(info)
        key = _cache_key(path, info)
        cached = _CACHE.get(key)
        if cached is not None:
            return _fresh(cached)
        data, info = _read_bytes(path)
        key = _cache_key(path, info)
    except (OSError, ValueError, _Unreadable) as exc:
        reason = exc if isinstance(exc, _Unreadable) else _os_reason(exc)
        reader.error(1, f"cannot read the standards file {path!r}: {reason}")
        return None, reader.errors
    # Many small acyclic objects: the cyclic collector would only rescan them.
    collecting = gc.isenabled()
    gc.disable()
    try:
        result = _parse_bytes(data, path, reader)
    finally:
        if collecting:
            gc.enable()
    try:
        while len(_CACHE) >= _CACHE_SIZE:
            del _CACHE[next(iter(_CACHE))]
    except (KeyError, RuntimeError, StopIteration):  # another thread evicted it first
        pass
    _CACHE[key] = result
    return _fresh(result)


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"[Errno {exc.errno}] {exc.strerror}"
    return type(exc).__name__


def _parse_bytes(
    data: bytes, path: str, reader: _Reader
) -> tuple[Standards | None, list[StandardsError]]:
    try:
        text = yamlio.decode(data)
    except yamlio.YamlProblem as problem:
        reader.error(problem.line, f"cannot read the standards file {path!r}: {problem.message}")
        return None, reader.errors
    try:
        tree = yamlio.load(text)
    except yamlio.YamlProblem as problem:
        reader.error(problem.line, f"standards file: {problem.message}")
        return None, reader.errors
    return parse_standards(tree, path, reader)


def parse_standards(
    tree: Any, path: str, reader: _Reader | None = None
) -> tuple[Standards | None, list[StandardsError]]:
    reader = reader or _Reader(path)
    standards = _parse(tree, reader)
    errors = reader.finish()
    return (None, errors) if errors else (standards, [])


def _parse(tree: Any, reader: _Reader) -> Standards | None:
    if not isinstance(tree, yamlio.Map):
        # Never quote the file: it may be any file (../../etc/passwd).
        reader.error(
            1,
            "not a standards file: expected a YAML mapping of settings such as "
            f"materials: and products:, found {_kind(tree)}",
        )
        return None
    top = tree
    if top and not any(key in TOP_KEYS for key in top):
        reader.error(
            1,
            "not a standards file: none of its keys is a standards setting "
            f"({', '.join(TOP_KEYS)})",
        )
        return None
    reader.keys(top, TOP_KEYS, "the standards file")
    reader.remember(top, "")

    def line(key: str) -> int:
        return top.key_lines.get(key, top.line)

    currency = top.get("currency", "USD")
    if not isinstance(currency, str) or not ITEM_RE.match(currency):
        reader.error(
            line("currency"),
            f"currency expects a currency code like USD, got {_describe(currency)}",
        )
        currency = "USD"

    variant, triggers = _read_triggers(reader, top.get("triggers"), line("triggers"))
    accounts, variance_accounts = _read_accounts(reader, top, variant)
    pools = _read_pools(reader, top.get("conversion"), line("conversion"))
    close = _read_close(reader, top.get("close"), line("close"), pools)
    negative_stock = _read_choice(reader, top, "negative_stock", ("error", "allow", "backlog"))
    warn = reader.number(
        top.get("warn_uninventoried", Decimal("0.05")),
        line("warn_uninventoried"),
        "warn_uninventoried",
        allow_zero=True,
        kind="numbers",
    )
    auto_open = top.get("auto_open", False)
    if not isinstance(auto_open, bool):
        reader.error(line("auto_open"), "auto_open expects true or false")
        auto_open = False
    links = top.get("links", False)
    if not isinstance(links, bool):
        reader.error(line("links"), "links expects true or false")
        links = False
    precision = top.get("precision", Decimal(2))
    if (
        not isinstance(precision, Decimal)
        or not 0 <= precision <= 8
        or precision != precision.to_integral_value()
    ):
        reader.error(line("precision"), "precision expects a whole number of decimals 0-8")
        precision = Decimal(2)

    materials, material_names = _read_materials(
        reader, top.get("materials"), line("materials"), currency
    )
    products = _read_products(
        reader, top.get("products"), line("products"), material_names, pools, currency
    )
    if not materials and not products and not material_names:
        reader.error(top.line, "the standards file defines no materials and no products")
    if reader.errors:
        # Structural problems: the standards cannot be trusted for any posting.
        return None
    standards = Standards(
        path=reader.path,
        currency=currency,
        triggers=triggers,
        variant=variant,
        accounts=accounts,
        variance_accounts=variance_accounts,
        pools=pools,
        close=close,
        negative_stock=negative_stock,
        warn_uninventoried=Decimal("0.05") if warn is None else warn,
        auto_open=auto_open,
        links=links,
        precision=int(precision),
        materials=materials,
        products=products,
        lines=reader.lines,
    )
    order = _check_graph(reader, standards)
    if order is None or reader.errors:
        return None
    _check_magnitudes(reader, standards, order)
    if reader.errors:
        return None
    _check_start_dates(reader, standards, order)
    if reader.errors:
        return None
    _check_byproduct_credits(reader, standards)
    if reader.errors:
        return None
    return standards


def _check_byproduct_credits(reader: _Reader, standards: Standards) -> None:
    """By-products worth more than what their product is made of would give it a negative
    standard cost (Beancount refuses negative lots): an error at the byproducts line."""
    dates = [datetime.date(1, 1, 1), *standards.change_dates]
    for name, product in standards.products.items():
        if not product.byproducts:
            continue
        for date in dates:
            rollup = standards.rollup(name, date)
            if rollup is not None and rollup.total < 0:
                reader.error(
                    standards.line_of("products", name, "byproducts"),
                    f"product {name}: its by-products are worth more than it is made of "
                    f"(standard cost {rollup.total} from {max(date, rollup.since)}): lower "
                    "their quantity or standard",
                )
                break
    standards._rollups.clear()  # base_date is set later, by the plugin


def _kind(tree: Any) -> str:
    """What the file holds, in words that quote none of it."""
    if isinstance(tree, yamlio.Seq):
        return "a list"
    if tree is None:
        return "nothing (an empty file)"
    if isinstance(tree, str):
        return "plain text"
    return "a single value"


def _read_choice(reader: _Reader, top: yamlio.Map, key: str, choices: tuple[str, ...]) -> str:
    value = top.get(key, choices[0])
    if value not in choices:
        reader.error(
            top.key_lines.get(key, top.line),
            f"{key} expects one of {', '.join(choices)}, got {_describe(value)}",
        )
        return choices[0]
    return str(value)


def _read_triggers(reader: _Reader, value: Any, line: int) -> tuple[str, frozenset[str]]:
    if value is None:
        return "purchase-completion-sale", frozenset({"purchase", "completion", "sale"})
    if isinstance(value, yamlio.Seq) and all(isinstance(v, str) for v in value):
        triggers = frozenset(value)
        if triggers in TRIGGER_VARIANTS and len(triggers) == len(value):
            return TRIGGER_VARIANTS[triggers], triggers
    reader.error(
        line,
        "triggers expects one of [purchase, completion, sale], "
        f"[purchase, sale] or [completion, sale], got {_describe(value)}",
    )
    return "purchase-completion-sale", frozenset({"purchase", "completion", "sale"})


def _read_accounts(
    reader: _Reader, top: yamlio.Map, variant: str
) -> tuple[dict[str, str], dict[str, str]]:
    node = top.get("accounts")
    node_line = top.key_lines.get("accounts", top.line)
    accounts = dict(DEFAULT_ACCOUNTS)
    variances = dict(DEFAULT_VARIANCE_ACCOUNTS)
    if node is None:
        node = yamlio.Map()
        node.line, node.key_lines = node_line, {}
    elif reader.mapping(node, node_line, "accounts") is None:
        return accounts, variances
    reader.keys(node, [*DEFAULT_ACCOUNTS, "variances"], "accounts")
    reader.remember(node, "accounts/")
    for key in REQUIRED_ACCOUNTS[variant]:
        if key not in node:
            reader.error(
                node_line,
                f"accounts.{key} is required with this triggers setting "
                f"(e.g. {key}: {DEFAULT_ACCOUNTS[key]})",
            )
    for key in DEFAULT_ACCOUNTS:
        if key in node:
            name = reader.account(node[key], node.key_lines[key], f"accounts.{key}")
            if name:
                accounts[key] = name
    var_node = node.get("variances")
    if (
        var_node is not None
        and reader.mapping(var_node, node.key_lines["variances"], "accounts.variances") is not None
    ):
        reader.keys(var_node, VARIANCE_KINDS, "accounts.variances")
        reader.remember(var_node, "accounts/variances/")
        for key in VARIANCE_KINDS:
            if key in var_node:
                name = reader.account(
                    var_node[key], var_node.key_lines[key], f"accounts.variances.{key}"
                )
                if name:
                    variances[key] = name
    return accounts, variances


def _read_pools(reader: _Reader, node: Any, line: int) -> dict[str, Pool]:
    pools: dict[str, Pool] = {}
    if node is None or reader.mapping(node, line, "conversion") is None:
        return pools
    reader.remember(node, "conversion/")
    for name, spec in node.items():
        pool_line = node.key_lines[name]
        if not isinstance(name, str):
            reader.error(pool_line, f"conversion pool name expects text, got {_describe(name)}")
            continue
        if reader.mapping(spec, pool_line, f"conversion pool {name!r}") is None:
            continue
        reader.keys(
            spec,
            ("incurred", "allocated", "driver", "rate", "budget"),
            f"conversion pool {name!r}",
        )
        reader.remember(spec, f"conversion/{name}/")
        incurred = reader.account(
            spec.get("incurred"),
            spec.key_lines.get("incurred", pool_line),
            f"conversion pool {name!r} incurred",
        )
        allocated = spec.get("allocated", incurred)
        allocated = reader.account(
            allocated,
            spec.key_lines.get("allocated", pool_line),
            f"conversion pool {name!r} allocated",
        )
        driver, rate, budget = _read_driver(reader, spec, name, pool_line)
        if incurred and allocated:
            pools[name] = Pool(name, incurred, allocated, pool_line, driver, rate, budget)
    return pools


def _read_driver(
    reader: _Reader, spec: yamlio.Map, name: str, pool_line: int
) -> tuple[str | None, Decimal | None, Decimal | None]:
    """A pool's cost driver, standard rate per driver unit and monthly budget, if any."""
    driver = spec.get("driver")
    if driver is not None and (not isinstance(driver, str) or not driver.strip()):
        reader.error(
            spec.key_lines.get("driver", pool_line),
            f"conversion pool {name!r} driver expects the name of a unit (e.g. hours)",
        )
        driver = None
    rate = budget = None
    if "rate" in spec:
        rate = reader.number(spec["rate"], spec.key_lines["rate"], f"conversion pool {name!r} rate")
    if "budget" in spec:
        budget = reader.number(
            spec["budget"],
            spec.key_lines["budget"],
            f"conversion pool {name!r} budget",
            allow_zero=True,
        )
    if (driver is None) != (rate is None) and ("driver" in spec or "rate" in spec):
        reader.error(
            pool_line,
            f"conversion pool {name!r} expects both a driver and a rate "
            "(e.g. {driver: hours, rate: 24.00}), or neither",
        )
        return None, None, None
    if budget is not None and driver is None:
        reader.error(
            spec.key_lines["budget"],
            f"conversion pool {name!r} budget needs a driver and a rate: a fixed pool "
            "allocates budget / denominator level per driver unit",
        )
        budget = None
    return driver, rate, budget


def _read_close(reader: _Reader, node: Any, line: int, pools: dict[str, Pool]) -> CloseConfig:
    if node is None or reader.mapping(node, line, "close") is None:
        return CloseConfig()
    reader.keys(node, ("disposition", "materiality", "variances", "schedule"), "close")
    reader.remember(node, "close/")
    disposition = _read_choice(reader, node, "disposition", ("cogs", "prorate"))
    schedule = _read_choice(reader, node, "schedule", ("explicit", "monthly"))
    materiality = (
        reader.number(
            node.get("materiality", ZERO),
            node.key_lines.get("materiality", line),
            "close.materiality",
            allow_zero=True,
        )
        or ZERO
    )
    variances: list[str] = []
    value = node.get("variances", yamlio.Seq())
    var_line = node.key_lines.get("variances", line)
    if not isinstance(value, yamlio.Seq):
        reader.error(
            var_line,
            f"close.variances expects a list like [purchase_price], got {_describe(value)}",
        )
    else:
        item_lines = getattr(value, "item_lines", [])
        for index, kind in enumerate(value):
            if kind not in VARIANCE_KINDS:
                reader.error(
                    item_lines[index] if index < len(item_lines) else var_line,
                    f"close.variances: unknown variance {_short(repr(kind))}"
                    + did_you_mean(
                        kind, VARIANCE_KINDS, f"; expected some of {', '.join(VARIANCE_KINDS)}"
                    ),
                )
            else:
                variances.append(kind)
    return CloseConfig(
        disposition, materiality, tuple(variances), schedule, node.key_lines.get("schedule", line)
    )


def _read_unit(reader: _Reader, spec: yamlio.Map, what: str) -> str | None:
    unit = spec.get("unit")
    if unit is not None and not isinstance(unit, str):
        reader.error(spec.key_lines["unit"], f"{what} unit expects text like kg or pcs")
        return None
    return unit


def _check_item_name(
    reader: _Reader, node: yamlio.Map, name: Any, what: str, currency: str
) -> bool:
    line = node.key_lines[name]
    text = node.text_of(name)  # as written: NULL, ~ or FALSE, never None or False
    if not isinstance(name, str) or not ITEM_RE.match(name) or name in RESERVED_NAMES:
        reader.error(
            line,
            f"{what} name {_short(text)!r} is not a valid Beancount commodity "
            "(capitals, digits and ' . _ -, starting with a capital; "
            "TRUE, FALSE and NULL are reserved)",
        )
        return False
    if name == currency:
        reader.error(
            line,
            f"{what} {name} has the name of the standards currency {currency}: "
            "an item code must differ from the currency",
        )
        return False
    return True


def _read_materials(
    reader: _Reader, node: Any, line: int, currency: str
) -> tuple[dict[str, Material], set[str]]:
    """The materials, and every valid name declared (even if its spec is wrong)."""
    materials: dict[str, Material] = {}
    declared: set[str] = set()
    if node is None or reader.mapping(node, line, "materials") is None:
        return materials, declared
    reader.remember(node, "materials/")
    for name, spec in node.items():
        item_line = node.key_lines[name]
        if not _check_item_name(reader, node, name, "material", currency):
            continue
        declared.add(name)  # known to BOMs: a wrong spec is one error, not two
        if isinstance(spec, Decimal):  # shorthand: `BOLT: 0.05`
            spec_map = yamlio.Map(cost=spec)
            spec_map.line, spec_map.key_lines = item_line, {"cost": item_line}
            spec = spec_map
        if not isinstance(spec, yamlio.Map):
            quoted = isinstance(spec, str) and _looks_like_number(spec)
            reader.error(
                item_line,
                f"material {name} expects a mapping like {{cost: 2.50}}, got {_describe(spec)}"
                + (" (a number in quotes is text: remove the quotes)" if quoted else ""),
            )
            continue
        reader.keys(spec, ("cost", "unit"), f"material {name}")
        reader.remember(spec, f"materials/{name}/")
        if "cost" not in spec:
            reader.error(item_line, f"material {name} has no cost (e.g. cost: 2.50)")
            continue
        cost = reader.dated(
            spec["cost"],
            spec.key_lines["cost"],
            f"material {name} cost",
            lambda v, ln, what: reader.number(v, ln, what),
        )
        if cost is not None:
            materials[name] = Material(name, cost, _read_unit(reader, spec, name), item_line)
    return materials, declared


def _read_products(
    reader: _Reader,
    node: Any,
    line: int,
    material_names: set[str],
    pools: dict[str, Pool],
    currency: str,
) -> dict[str, Product]:
    products: dict[str, Product] = {}
    if node is None or reader.mapping(node, line, "products") is None:
        return products
    reader.remember(node, "products/")
    names = {name for name in node if isinstance(name, str)} | material_names
    # Co-products need no entry of their own: a process's outputs are items too.
    for spec in node.values():
        if isinstance(spec, yamlio.Map) and isinstance(spec.get("outputs"), yamlio.Map):
            names |= {o for o in spec["outputs"] if isinstance(o, str)}
    # A driver pool's rate on a product is driver units per unit: a quantity, not money.
    rate_limits = {
        pool: (MAX_QUANTITY, MAX_QUANTITY_DECIMALS, "driver units per unit")
        for pool, spec in pools.items()
        if spec.rate is not None
    }
    for name, spec in node.items():
        item_line = node.key_lines[name]
        if not _check_item_name(reader, node, name, "product", currency):
            continue
        if name in material_names:
            reader.error(item_line, f"{name} is both a material and a product")
            continue
        if not isinstance(spec, yamlio.Map):
            reader.error(
                item_line,
                f"product {name} expects a mapping like {{bom: {{STEEL: 2}}}}, "
                f"got {_describe(spec)}",
            )
            continue
        reader.keys(
            spec,
            ("bom", "conversion", "phantom", "unit", "yield", "byproducts", "outputs"),
            f"product {name}",
        )
        reader.remember(spec, f"products/{name}/")

        empty = yamlio.Map()
        empty.line, empty.key_lines = item_line, {}

        scraps: list[Mapping[str, Decimal]] = []

        def read_bom(
            value: Any,
            ln: int,
            what: str,
            name: str = name,
            empty: yamlio.Map = empty,
            scraps: list[Mapping[str, Decimal]] = scraps,
        ) -> Mapping[str, Decimal] | None:
            if isinstance(value, yamlio.Map):
                value = _planned_scrap(reader, value, what, scraps)
                if value is None:
                    return None
            if value is not empty and isinstance(value, yamlio.Map) and not value:
                reader.error(
                    ln,
                    f"{what} is empty: list what one unit is made from (e.g. {{STEEL: 2}}), "
                    "or leave bom out for a product made by conversion alone",
                )
                return None
            return reader.quantities(
                value,
                ln,
                what,
                names,
                "item",
                "quantity of",
                " (define it under materials or products)",
                itself=name,
                limit=MAX_QUANTITY,
                decimals=MAX_QUANTITY_DECIMALS,
                limit_kind="BOM quantities",
            )

        def read_rates(value: Any, ln: int, what: str) -> Mapping[str, Decimal] | None:
            return reader.quantities(
                value,
                ln,
                what,
                set(pools),
                "conversion pool",
                "rate for",
                " (define it under the top-level conversion: key)",
                allow_zero=True,
                limits=rate_limits,
            )

        if "bom" not in spec and "conversion" not in spec:
            reader.error(
                item_line,
                f"product {name} has neither a bom nor a conversion (e.g. bom: {{STEEL: 2}})",
            )
            continue
        bom = reader.dated(
            spec.get("bom", empty),
            spec.key_lines.get("bom", item_line),
            f"product {name} bom",
            read_bom,
        )
        conversion = reader.dated(
            spec.get("conversion", empty),
            spec.key_lines.get("conversion", item_line),
            f"product {name} conversion",
            read_rates,
        )
        if (
            "bom" not in spec
            and conversion is not None
            and any(not rates for rates in conversion.values)
        ):
            reader.error(
                spec.key_lines["conversion"],
                f"product {name} is made from nothing: it has no bom and no conversion rate "
                "(e.g. bom: {STEEL: 2} or conversion: {labor: 3.00})",
            )
            continue
        phantom = spec.get("phantom", False)
        if not isinstance(phantom, bool):
            reader.error(spec.key_lines["phantom"], f"product {name} phantom expects true or false")
            continue
        good = _read_yield(reader, spec, name)
        byproducts = _read_byproducts(reader, spec, name, names, phantom)
        output_units: dict[str, str] = {}
        outputs = _read_outputs(reader, spec, name, phantom, currency, output_units)
        for output in outputs or ():
            if output in material_names or output in node:
                reader.error(
                    spec.key_lines["outputs"],
                    f"co-product {output} of {name} is also defined under materials or "
                    "products: a process's outputs take their standard from it",
                )
        if bom is not None and conversion is not None and good is not None:
            products[name] = Product(
                name,
                bom,
                conversion,
                phantom,
                _read_unit(reader, spec, name),
                item_line,
                tuple(scraps) if any(scraps) else (),
                good,
                byproducts or {},
                outputs or {},
                output_units,
            )
    return products


def _read_outputs(
    reader: _Reader,
    spec: yamlio.Map,
    name: str,
    phantom: bool,
    currency: str,
    output_units: dict[str, str],
) -> dict[str, tuple[Decimal, Decimal]] | None:
    """``outputs: {LAGER: {qty: 100, share: 0.9}, ALE: {qty: 20, share: 0.1}}``."""
    if "outputs" not in spec:
        return None
    line = spec.key_lines["outputs"]
    node = reader.mapping(spec["outputs"], line, f"product {name} outputs")
    if node is None:
        return None
    if phantom:
        reader.error(line, f"product {name} is a phantom: it has no outputs of its own")
        return None
    outputs: dict[str, tuple[Decimal, Decimal]] = {}
    units = output_units
    for output, value in node.items():
        key_line = node.key_lines[output]
        if not _check_item_name(reader, node, output, "co-product", currency):
            continue
        what = f"product {name} output {output}"
        if not isinstance(value, yamlio.Map):
            reader.error(key_line, f"{what} expects a mapping like {{qty: 100, share: 0.9}}")
            continue
        reader.keys(value, ("qty", "share", "unit"), what)
        unit = value.get("unit")
        if unit is not None:
            if isinstance(unit, str) and unit.strip():
                units[output] = unit
            else:
                reader.error(value.key_lines["unit"], f"{what} unit expects text, e.g. keg")
        qty = reader.field(
            value,
            "qty",
            key_line,
            f"{what} qty",
            limit=MAX_QUANTITY,
            decimals=MAX_QUANTITY_DECIMALS,
            kind="output quantities",
        )
        share = reader.field(
            value,
            "share",
            key_line,
            f"{what} share",
            decimals=MAX_QUANTITY_DECIMALS,
            kind="cost shares",
        )
        if qty is not None and share is not None:
            outputs[output] = (qty, share)
    if len(outputs) != len(node):
        return None
    total = sum((share for _, share in outputs.values()), ZERO)
    if total != 1:
        reader.error(
            line,
            f"product {name} outputs: the cost shares must sum to 1, they sum to {total}",
        )
        return None
    return outputs


def _planned_scrap(
    reader: _Reader, value: yamlio.Map, what: str, scraps: list[Mapping[str, Decimal]]
) -> yamlio.Map | None:
    """A BOM whose lines may be ``{qty: 2.0, scrap: 0.05}``: the standard quantities
    (qty x (1 + scrap)); each line's scrap rate is kept in ``scraps``."""
    plain = yamlio.Map()
    plain.line, plain.key_lines = value.line, value.key_lines
    plain.key_texts = getattr(value, "key_texts", {})
    rates: dict[str, Decimal] = {}
    for key, line_value in value.items():
        if not isinstance(line_value, yamlio.Map):
            plain[key] = line_value
            continue
        key_line = value.key_lines[key]
        reader.keys(line_value, ("qty", "scrap"), f"{what} line {key}")
        qty = reader.field(
            line_value,
            "qty",
            key_line,
            f"{what} quantity of {key}",
            limit=MAX_QUANTITY,
            decimals=MAX_QUANTITY_DECIMALS,
            kind="BOM quantities",
        )
        rate = reader.field(
            line_value,
            "scrap",
            key_line,
            f"{what} planned scrap of {key}",
            default=ZERO,
            allow_zero=True,
            limit=Decimal(10),
            decimals=MAX_QUANTITY_DECIMALS,
            kind="planned scrap rates",
        )
        if qty is None or rate is None:
            return None
        plain[key] = qty * (1 + rate)
        if rate:
            rates[key] = rate
    scraps.append(rates)
    return plain


def _read_yield(reader: _Reader, spec: yamlio.Map, name: str) -> Decimal | None:
    if "yield" not in spec:
        return Decimal(1)
    good = reader.number(
        spec["yield"],
        spec.key_lines["yield"],
        f"product {name} yield",
        decimals=MAX_QUANTITY_DECIMALS,
        kind="yields",
    )
    if good is not None and good > 1:
        reader.error(
            spec.key_lines["yield"],
            f"product {name} yield expects good units per unit started, at most 1 "
            f"(e.g. yield: 0.95), got {good}",
        )
        return None
    return good


def _read_byproducts(
    reader: _Reader, spec: yamlio.Map, name: str, names: set[str], phantom: bool
) -> Mapping[str, Decimal] | None:
    if "byproducts" not in spec:
        return None
    line = spec.key_lines["byproducts"]
    if phantom:
        reader.error(
            line, f"product {name} is a phantom: it is never made, so it has no by-products"
        )
        return None
    return reader.quantities(
        spec["byproducts"],
        line,
        f"product {name} byproducts",
        names,
        "item",
        "units per unit of",
        " (a by-product needs a standard of its own under materials or products)",
        itself=name,
        limit=MAX_QUANTITY,
        decimals=MAX_QUANTITY_DECIMALS,
        limit_kind="by-product quantities",
    )


# -- the BOM graph: cycles, depth, magnitudes, start dates (all without recursion) -----------


def _chain(names: list[str], limit: int = 8) -> str:
    """'A -> B -> C', or its first and last names around '...' when long."""
    if len(names) <= limit:
        return " -> ".join(names)
    half = limit // 2
    return " -> ".join([*names[:half], "...", *names[-half:]]) + f" ({len(names) - 1} steps)"


def _check_graph(reader: _Reader, standards: Standards) -> list[str] | None:
    """BOM cycles (in any version) and BOMs deeper than MAX_BOM_DEPTH, as located errors.

    Returns the products with components before parents, or None after an error. An
    iterative depth-first walk: a BOM thousands of levels deep is no recursion.
    """
    products = standards.products
    process_of = {output: spec[0] for output, spec in standards.outputs.items()}

    def node(name: str) -> str | None:
        """A co-product stands for its process (its cost comes from it)."""
        return name if name in products else process_of.get(name)

    graph = {
        name: sorted(
            {n for bom in p.bom.values for c in bom for n in [node(c)] if n}
            | {n for b in p.byproducts for n in [node(b)] if n}
        )
        for name, p in products.items()
    }
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    position: dict[str, int] = {}  # index on the current path
    reported: set[frozenset[str]] = set()
    order: list[str] = []
    cyclic = False
    for root in graph:
        if root in state:
            continue
        path = [root]
        state[root], position[root] = 1, 0
        children = [iter(graph[root])]
        while children:
            child = next(children[-1], None)
            if child is None:
                children.pop()
                done = path.pop()
                state[done] = 2
                order.append(done)
            elif state.get(child) == 1:
                cyclic = True
                if not reader.full:
                    cycle = path[position[child] :] + [child]
                    key = frozenset(cycle)
                    if key not in reported:
                        reported.add(key)
                        reader.error(products[child].line, "BOM cycle: " + _chain(cycle))
            elif child not in state:
                state[child], position[child] = 1, len(path)
                path.append(child)
                children.append(iter(graph[child]))
    if cyclic:
        return None

    depth: dict[str, int] = {}
    deepest: dict[str, str | None] = {}
    for name in order:
        below = max(graph[name], key=lambda c: depth[c], default=None)
        depth[name] = 1 + (depth[below] if below is not None else 0)
        deepest[name] = below
        if depth[name] == MAX_BOM_DEPTH + 1:
            names = [name]
            while (nxt := deepest[names[-1]]) is not None:
                names.append(nxt)
            reader.error(
                products[name].line,
                f"product {name}'s BOM nests products {depth[name]} levels deep "
                f"({_chain(names, 6)}): at most {MAX_BOM_DEPTH} levels are allowed",
            )
    return None if reader.errors else order


def _check_magnitudes(reader: _Reader, standards: Standards, order: list[str]) -> None:
    """A product whose rolled-up cost or exploded quantity per unit can reach MAX_ROLLED.

    An upper bound over all versions, in components-first order; reported at the lowest
    product that goes over (its parents are not reported again).
    """
    cost: dict[str, Decimal] = {}
    units: dict[str, Decimal] = {}
    over: set[str] = set()
    for name, material in standards.materials.items():
        cost[name] = max(material.cost.values)
        units[name] = Decimal(1)
    with localcontext(ROLLUP_CONTEXT):
        for name in order:
            product = standards.products[name]
            if any(c in over for bom in product.bom.values for c in bom):
                over.add(name)
                continue
            conversion = max(
                (
                    sum(
                        (
                            qty * rate
                            for pool, qty in rates.items()
                            for rate in [standards.pools[pool].rate or Decimal(1)]
                        ),
                        ZERO,
                    )
                    for rates in product.conversion.values
                ),
                default=ZERO,
            )
            material_cost = max(
                (sum((q * cost[c] for c, q in bom.items()), ZERO) for bom in product.bom.values),
                default=ZERO,
            )
            exploded = max(
                (sum((q * units[c] for c, q in bom.items()), ZERO) for bom in product.bom.values),
                default=ZERO,
            )
            cost[name], units[name] = (material_cost + conversion) / product.yield_, exploded
            for output, (qty, share) in product.outputs.items():
                cost[output], units[output] = cost[name] * share / qty, exploded / qty
            if cost[name] >= MAX_ROLLED or exploded >= MAX_ROLLED:
                over.add(name)
                what = "cost" if cost[name] >= MAX_ROLLED else "quantity of components"
                reader.error(
                    product.line,
                    f"product {name}: its standard {what} rolled up through its BOM can reach "
                    f"{max(cost[name], exploded):.3E} per unit; it must stay below "
                    f"{_limit(MAX_ROLLED)}",
                )


def _check_start_dates(reader: _Reader, standards: Standards, order: list[str]) -> None:
    """A BOM version in force from D naming a component whose standard starts after D.

    An undated BOM (in force "from the start") is not an error: the product's standard
    starts with its components'. A dated one would leave the product with no standard from
    D until the component's start (and revaluation would silently skip it).
    """
    start: dict[str, datetime.date | None] = {
        name: material.cost.dates[0] for name, material in standards.materials.items()
    }

    def latest(*dates: datetime.date | None) -> datetime.date | None:
        known = [d for d in dates if d is not None]
        return max(known) if known else None

    for name in order:
        product = standards.products[name]
        bom = product.bom
        for date, version, line in zip(bom.dates, bom.values, bom.lines, strict=True):
            if date is None:
                continue
            for component in version:
                begins = start[component]
                if begins is not None and begins > date:
                    reader.error(
                        line,
                        f"BOM of {name} from {date} names {component}, whose standard "
                        f"starts {begins}",
                    )
        if bom.dates[0] is None:
            start[name] = latest(product.conversion.dates[0], *(start[c] for c in bom.values[0]))
        else:
            start[name] = latest(bom.dates[0], product.conversion.dates[0])
        for output in product.outputs:
            start[output] = start[name]


# -- the ledger's root accounts -------------------------------------------------------------

_ROOT_OPTIONS = (
    ("name_assets", "Assets"),
    ("name_liabilities", "Liabilities"),
    ("name_equity", "Equity"),
    ("name_income", "Income"),
    ("name_expenses", "Expenses"),
)


def check_account_roots(
    standards: Standards, options_map: Mapping[str, Any]
) -> list[StandardsError]:
    """Accounts the standards file names that are under none of the ledger's root accounts.

    Beancount rejects such an account (``Foo:COGS``); each error is at the line naming it.
    Defaults the file does not name are not checked.
    """
    roots = [str(options_map.get(option) or default) for option, default in _ROOT_OPTIONS]
    named: list[tuple[str, tuple[str, ...], str]] = []
    for key, account in standards.accounts.items():
        named.append((account, ("accounts", key), f"accounts.{key}"))
    for key, account in standards.variance_accounts.items():
        named.append((account, ("accounts", "variances", key), f"accounts.variances.{key}"))
    for pool in standards.pools.values():
        named.append((pool.incurred, ("conversion", pool.name, "incurred"), f"{pool.name}"))
        named.append((pool.allocated, ("conversion", pool.name, "allocated"), f"{pool.name}"))
    errors = []
    for account, keys, what in named:
        if "/".join(keys) not in standards.lines:
            continue  # a default, or an allocated account that is the incurred one
        if account_lib.split(account)[0] not in roots:
            label = what if keys[0] == "accounts" else f"conversion pool {what!r} {keys[-1]}"
            errors.append(
                StandardsError(
                    source(standards.path, standards.line_of(*keys)),
                    f"{label}: {account} is not under one of the ledger's root accounts "
                    f"({', '.join(roots)})",
                    None,
                )
            )
    return errors

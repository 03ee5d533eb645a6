"""The standards file: materials, products, BOMs, conversion pools, accounts, triggers.

``load_standards(path)`` returns a validated, immutable :class:`Standards` and a list of
``StandardsError`` located at the standards file's own lines. Values that may change over
time (``cost``, ``bom``, ``conversion``) are :class:`Dated` and looked up by date; product
standard costs are rolled up through stocked and phantom subassemblies once per standard
version (cached), never per event.
"""

from __future__ import annotations

import bisect
import datetime
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
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
VARIANCE_KINDS = ("purchase_price", "usage", "shrinkage", "scrap", "revaluation", "rounding")
DEFAULT_ACCOUNTS = {
    "raw_in_process": "Assets:Inventory:RawInProcess",
    "finished_goods": "Assets:Inventory:FinishedGoods",
    "materials_clearing": "Expenses:Materials:Clearing",
    "cogs": "Expenses:COGS",
    "payable": "Liabilities:AccountsPayable",
    "receivable": "Assets:AccountsReceivable",
    "revenue": "Income:Sales",
}
DEFAULT_VARIANCE_ACCOUNTS = {
    "purchase_price": "Expenses:Variances:PurchasePrice",
    "usage": "Expenses:Variances:MaterialUsage",
    "shrinkage": "Expenses:Variances:Shrinkage",
    "scrap": "Expenses:Variances:Scrap",
    "revaluation": "Expenses:Variances:Revaluation",
    "rounding": "Expenses:Variances:Rounding",
}
# The inventory accounts each trigger variant posts to must be named in the file.
REQUIRED_ACCOUNTS = {
    "purchase-completion-sale": ("raw_in_process", "finished_goods", "cogs"),
    "purchase-sale": ("raw_in_process", "cogs"),
    "completion-sale": ("finished_goods", "materials_clearing", "cogs"),
}
ITEM_RE = re.compile(r"^[A-Z][A-Z0-9'._-]{0,22}[A-Z0-9]$|^[A-Z]$")


def tidy(number: Decimal) -> Decimal:
    """The same number without trailing zeros (2.0 x 10 is 20, not 20.0)."""
    if number == number.to_integral_value():
        return number.quantize(Decimal(1))
    return number.normalize()


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
    name: str
    incurred: str
    allocated: str
    line: int


@dataclass(frozen=True)
class Material:
    name: str
    cost: Dated[Decimal]
    unit: str | None
    line: int


@dataclass(frozen=True)
class Product:
    name: str
    bom: Dated[Mapping[str, Decimal]]
    conversion: Dated[Mapping[str, Decimal]]
    phantom: bool
    unit: str | None
    line: int


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
        return name in self.materials or name in self.products

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
        product = self.products[item]
        bom_index = product.bom.index_at(date)
        conv_index = product.conversion.index_at(date)
        if bom_index is None or conv_index is None:
            return None
        since = max(
            product.bom.dates[bom_index] or self.base_date,
            product.conversion.dates[conv_index] or self.base_date,
        )
        direct: dict[str, Decimal] = {}
        own_conversion = dict(product.conversion.values[conv_index])
        materials: dict[str, Decimal] = {}
        conversion: dict[str, Decimal] = dict(own_conversion)
        material_cost = ZERO
        for component, qty in product.bom.values[bom_index].items():
            sub = self.rollup(component, date)
            if sub is None:
                return None
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
        total = material_cost + sum(conversion.values(), ZERO)
        return Rollup(
            item,
            tidy_money(total),
            tidy_money(material_cost),
            {pool: tidy_money(rate) for pool, rate in conversion.items()},
            {pool: tidy_money(rate) for pool, rate in own_conversion.items()},
            {name: tidy(qty) for name, qty in direct.items()},
            {name: tidy(qty) for name, qty in materials.items()},
            since,
            True,
        )

    def where_used(self, item: str) -> list[str]:
        """Products whose BOM (any version) names ``item`` directly."""
        return sorted(
            name
            for name, product in self.products.items()
            if any(item in bom for bom in product.bom.values)
        )


# -- loading and validation ----------------------------------------------------------------


class _Reader:
    """Collects located errors while reading the YAML tree; never raises."""

    def __init__(self, path: str):
        self.path = path
        self.errors: list[StandardsError] = []
        self.lines: dict[str, int] = {}

    def error(self, line: int, message: str) -> None:
        self.errors.append(StandardsError(source(self.path, line), message, None))

    def mapping(self, value: Any, line: int, what: str) -> yamlio.Map | None:
        if isinstance(value, yamlio.Map):
            return value
        self.error(line, f"{what} expects a mapping (key: value), got {_describe(value)}")
        return None

    def keys(self, node: yamlio.Map, allowed: Iterable[str], what: str) -> None:
        allowed = list(allowed)
        for key in node:
            if key not in allowed:
                suggestion = did_you_mean(key, allowed, f"; expected one of {', '.join(allowed)}")
                self.error(node.key_lines[key], f"unknown key {key!r} in {what}{suggestion}")

    def remember(self, node: yamlio.Map, prefix: str) -> None:
        for key, line in node.key_lines.items():
            self.lines[f"{prefix}{key}"] = line

    def number(
        self, value: Any, line: int, what: str, positive: bool = True, allow_zero: bool = False
    ) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, Decimal):
            self.error(line, f"{what} expects a number, got {_describe(value)}")
            return None
        if positive and (value < 0 or (value == 0 and not allow_zero)):
            kind = "zero or positive" if allow_zero else "positive"
            self.error(line, f"{what} expects a {kind} number, got {value}")
            return None
        return value

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
    ) -> Mapping[str, Decimal] | None:
        """A map of known names to numbers (a BOM, conversion rates); None if any is bad."""
        node = self.mapping(value, line, what)
        if node is None:
            return None
        result: dict[str, Decimal] = {}
        for key, number in node.items():
            key_line = node.key_lines[key]
            if key == itself:
                self.error(key_line, f"BOM cycle: {key} -> {key}")
                continue
            if key not in known:
                self.error(
                    key_line,
                    f"{what}: unknown {kind} {key!r}" + did_you_mean(key, sorted(known), otherwise),
                )
                continue
            read = self.number(
                number, key_line, f"{what} {number_label} {key}", allow_zero=allow_zero
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
        return f"the number {value}"
    return f"{type(value).__name__} {value!r}"


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


def load_standards(path: str) -> tuple[Standards | None, list[StandardsError]]:
    """Read and validate a standards file. Returns (None, errors) if it cannot be used."""
    reader = _Reader(path)
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError) as exc:
        reader.error(1, f"cannot read the standards file {path!r}: {exc}")
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
    top = reader.mapping(tree, 1, "the standards file")
    if top is None:
        return None, reader.errors
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
    negative_stock = _read_choice(reader, top, "negative_stock", ("error", "allow"))
    warn = reader.number(
        top.get("warn_uninventoried", Decimal("0.05")),
        line("warn_uninventoried"),
        "warn_uninventoried",
        allow_zero=True,
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
        or precision != precision.to_integral_value()
        or not 0 <= precision <= 8
    ):
        reader.error(line("precision"), "precision expects a whole number of decimals 0-8")
        precision = Decimal(2)

    materials = _read_materials(reader, top.get("materials"), line("materials"))
    products = _read_products(reader, top.get("products"), line("products"), materials, pools)
    if not materials and not products:
        reader.error(top.line, "the standards file defines no materials and no products")
    if any(e for e in reader.errors):
        # Structural problems: the standards cannot be trusted for any posting.
        return None, reader.errors
    standards = Standards(
        path=path,
        currency=currency,
        triggers=triggers,
        variant=variant,
        accounts=accounts,
        variance_accounts=variance_accounts,
        pools=pools,
        close=close,
        negative_stock=negative_stock,
        warn_uninventoried=warn or Decimal("0.05"),
        auto_open=auto_open,
        links=links,
        precision=int(precision),
        materials=materials,
        products=products,
        lines=reader.lines,
    )
    _check_cycles(reader, standards)
    if reader.errors:
        return None, reader.errors
    return standards, []


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
        reader.keys(spec, ("incurred", "allocated"), f"conversion pool {name!r}")
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
        if incurred and allocated:
            pools[name] = Pool(name, incurred, allocated, pool_line)
    return pools


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
        for kind in value:
            if kind not in VARIANCE_KINDS:
                reader.error(
                    var_line,
                    f"close.variances: unknown variance {kind!r}"
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


def _check_item_name(reader: _Reader, name: Any, line: int, what: str) -> bool:
    if not isinstance(name, str) or not ITEM_RE.match(name):
        reader.error(
            line,
            f"{what} name {name!r} is not a valid Beancount commodity "
            "(capitals, digits and ' . _ -, starting with a capital)",
        )
        return False
    return True


def _read_materials(reader: _Reader, node: Any, line: int) -> dict[str, Material]:
    materials: dict[str, Material] = {}
    if node is None or reader.mapping(node, line, "materials") is None:
        return materials
    reader.remember(node, "materials/")
    for name, spec in node.items():
        item_line = node.key_lines[name]
        if not _check_item_name(reader, name, item_line, "material"):
            continue
        if isinstance(spec, Decimal):  # shorthand: `BOLT: 0.05`
            spec_map = yamlio.Map(cost=spec)
            spec_map.line, spec_map.key_lines = item_line, {"cost": item_line}
            spec = spec_map
        if reader.mapping(spec, item_line, f"material {name}") is None:
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
    return materials


def _read_products(
    reader: _Reader, node: Any, line: int, materials: dict[str, Material], pools: dict[str, Pool]
) -> dict[str, Product]:
    products: dict[str, Product] = {}
    if node is None or reader.mapping(node, line, "products") is None:
        return products
    reader.remember(node, "products/")
    names = set(node) | set(materials)
    for name, spec in node.items():
        item_line = node.key_lines[name]
        if not _check_item_name(reader, name, item_line, "product"):
            continue
        if name in materials:
            reader.error(item_line, f"{name} is both a material and a product")
            continue
        if reader.mapping(spec, item_line, f"product {name}") is None:
            continue
        reader.keys(spec, ("bom", "conversion", "phantom", "unit"), f"product {name}")
        reader.remember(spec, f"products/{name}/")

        def read_bom(
            value: Any, ln: int, what: str, name: str = name
        ) -> Mapping[str, Decimal] | None:
            return reader.quantities(
                value,
                ln,
                what,
                names,
                "item",
                "quantity of",
                " (define it under materials or products)",
                itself=name,
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
            )

        empty = yamlio.Map()
        empty.line, empty.key_lines = item_line, {}
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
        phantom = spec.get("phantom", False)
        if not isinstance(phantom, bool):
            reader.error(spec.key_lines["phantom"], f"product {name} phantom expects true or false")
            continue
        if bom is not None and conversion is not None:
            products[name] = Product(
                name, bom, conversion, phantom, _read_unit(reader, spec, name), item_line
            )
    return products


def _check_cycles(reader: _Reader, standards: Standards) -> None:
    """A BOM cycle (in any version) is an error naming the cycle, at the first product."""
    graph = {
        name: sorted({c for bom in p.bom.values for c in bom if c in standards.products})
        for name, p in standards.products.items()
    }
    state: dict[str, int] = {}  # 1 visiting, 2 done
    reported: set[frozenset[str]] = set()

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        path.append(node)
        for child in graph[node]:
            if state.get(child) == 1:
                cycle = path[path.index(child) :] + [child]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    reader.error(standards.products[child].line, "BOM cycle: " + " -> ".join(cycle))
            elif child not in state:
                visit(child, path)
        path.pop()
        state[node] = 2

    for name in graph:
        if name not in state:
            visit(name, [])

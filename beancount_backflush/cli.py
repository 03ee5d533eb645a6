"""bean-backflush: standard cost roll-up, ledger expansion and reports in a terminal.

bean-backflush rollup standards.yaml [--date 2026-03-01]
bean-backflush expand ledger.beancount > expanded.beancount
bean-backflush report inventory|variances|standards|health ledger.beancount [--date D]
    [--format text|csv|json]
"""

from __future__ import annotations

import argparse
import datetime
import enum
import io
import os
import sys
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TextIO

from beancount import loader
from beancount.core import data
from beancount.core.data import Booking
from beancount.parser import options as options_lib
from beancount.parser import printer

from . import reports, toolcli
from .plugin import standards_for
from .standards import Standards, load_standards

TRIGGER_ORDER = ("purchase", "completion", "sale")
# Options that shape how the expanded ledger parses and books; printed when not default.
PRINTED_OPTIONS = (
    "title",
    "name_assets",
    "name_liabilities",
    "name_equity",
    "name_income",
    "name_expenses",
    "operating_currency",
    "booking_method",
    "inferred_tolerance_default",
    "inferred_tolerance_multiplier",
    "infer_tolerance_from_cost",
    "render_commas",
    "account_rounding",
    "account_previous_balances",
    "account_previous_earnings",
    "account_previous_conversions",
    "account_current_earnings",
    "account_current_conversions",
    "account_unrealized_gains",
    "conversion_currency",
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bean-backflush", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    rollup = commands.add_parser(
        "rollup", help="each product's standard cost, by component and conversion pool"
    )
    rollup.add_argument("standards")
    rollup.add_argument(
        "--date",
        type=datetime.date.fromisoformat,
        help="standards in force on this date (default: today)",
    )
    expand = commands.add_parser(
        "expand", help="print the ledger after the plugin, as Beancount text, plugin line removed"
    )
    expand.add_argument("ledger")
    _add_report_parser(commands)
    toolcli.register(commands)  # diff-standards, compare-policies, explain, init, check
    args = parser.parse_args(argv)
    if getattr(args, "tool", None) is not None:
        return toolcli.run(args)
    if args.command == "rollup":
        return cmd_rollup(args.standards, args.date or datetime.date.today(), sys.stdout)
    if args.command == "expand":
        return cmd_expand(args.ledger, sys.stdout)
    return cmd_report(
        args.name, args.ledger, sys.stdout, date=args.date, fmt=args.format, table=args.table
    )


def _print_errors(errors: list[Any]) -> None:
    if errors:
        buffer = io.StringIO()
        printer.print_errors(errors, file=buffer)
        sys.stderr.write(buffer.getvalue())


# -- rollup ------------------------------------------------------------------------------------


def cmd_rollup(path: str, date: datetime.date, out: TextIO) -> int:
    standards, errors = load_standards(path)
    _print_errors(errors)
    if standards is None:
        return 1
    out.write(render_rollup(standards, date))
    return 0


def render_rollup(standards: Standards, date: datetime.date) -> str:
    ccy = standards.currency
    lines = [
        f"Standard costs in force on {date} ({ccy}), triggers "
        f"[{', '.join(t for t in TRIGGER_ORDER if t in standards.triggers)}]",
        "",
    ]
    for name, product in standards.products.items():
        rollup = standards.rollup(name, date)
        kind = " (phantom: exploded into its parents)" if product.phantom else ""
        if rollup is None:
            lines += [f"{name}{kind}: no standard in force on {date}", ""]
            continue
        since = "" if rollup.since == standards.base_date else f"  (since {rollup.since})"
        lines.append(f"{name}{kind}  standard {_fmt(rollup.total)} {ccy}{since}")
        own = [
            (_pool_label(standards, pool, amount, " (this level)"), amount)
            for pool, amount in rollup.own_conversion.items()
        ]
        levels = [
            (_pool_label(standards, pool, amount), amount)
            for pool, amount in rollup.conversion.items()
        ]
        width = max([48, *(len(label) + 2 for label, _ in own + levels)])
        first = width - 26
        lines.append(f"  {'component':<{first}}{'qty':>12}{'unit cost':>14}{'extended':>14}")
        for item, qty in rollup.direct.items():
            sub = standards.rollup(item, date)
            assert sub is not None
            lines.append(
                f"  {item:<{first}}{_qty(qty):>12}{_fmt(sub.total):>14}{_fmt(qty * sub.total):>14}"
            )
        for item, qty in rollup.byproducts.items():
            sub = standards.rollup(item, date)
            assert sub is not None
            label = f"by-product {item}"
            lines.append(
                f"  {label:<{first}}{_qty(-qty):>12}{_fmt(sub.total):>14}"
                f"{_fmt(-qty * sub.total):>14}"
            )
        for label, amount in own:
            lines.append(f"  {label:<{width}}{_fmt(amount):>14}")
        lines.append(f"  {'total':<{width}}{_fmt(rollup.total):>14}")
        planned = rollup.planned_loss
        if planned:
            label = "of which planned scrap and yield loss"
            lines.append(f"  {label:<{width}}{_fmt(planned):>14}")
        lines.append("  by cost element, through all levels:")
        lines.append(f"  {'materials':<{width}}{_fmt(rollup.material):>14}")
        for label, amount in levels:
            lines.append(f"  {label:<{width}}{_fmt(amount):>14}")
        exploded = ", ".join(f"{_qty(q)} {m}" for m, q in rollup.materials.items())
        lines.append(f"  exploded to materials: {exploded}")
        for output, (qty, share) in product.outputs.items():
            sub = standards.rollup(output, date)
            each = f"{_fmt(sub.total)} {ccy} each" if sub is not None else "no standard"
            lines.append(
                f"  co-product {output}: {_qty(qty)} per {name}, cost share {_qty(share * 100)} %"
                f" = {each} (the process is never stocked, its outputs are)"
            )
        lines.append("")
    drivers = [pool for pool in standards.pools.values() if pool.driver and pool.rate]
    if drivers:
        lines.append("Driver pools (products give driver units per unit; money = units x rate):")
        for pool in drivers:
            assert pool.rate is not None and pool.driver is not None
            text = f"  {pool.name}: {_fmt(pool.rate)} {ccy} per {reports.singular(pool.driver)}"
            if pool.budget is not None:
                level = reports.driver_units(pool.budget, pool.rate)
                text += f", fixed: budget {_fmt(pool.budget)} a month over {level:,f} {pool.driver}"
            lines += [text]
        lines.append("")
    return "\n".join(lines)


def _pool_label(standards: Standards, pool: str, amount: Decimal, suffix: str = "") -> str:
    """``conversion labor (this level)``; for a driver pool ``conversion labor: 0.80 hours x
    20.00 =`` (driver units per unit x the standard rate)."""
    spec = standards.pools.get(pool)
    if spec is None or not spec.driver or not spec.rate:
        return f"conversion {pool}{suffix}"
    units = reports.units_text(reports.driver_units(amount, spec.rate))
    return f"conversion {pool}{suffix}: {units} {spec.driver} x {_fmt(spec.rate)} ="


def _fmt(number: Decimal, places: int = 2) -> str:
    """At least ``places`` decimals, more only where the standard has them."""
    exponent = number.normalize().as_tuple().exponent
    decimals = max(places, -exponent if isinstance(exponent, int) else places)
    return f"{number:,.{decimals}f}"


def _qty(number: Decimal) -> str:
    return _fmt(number, 0)


# -- expand ------------------------------------------------------------------------------------


def cmd_expand(path: str, out: TextIO) -> int:
    entries, errors, options_map = loader.load_file(path)
    _print_errors(errors)
    out.write(expand_text(entries, options_map))
    return 1 if errors else 0


def expand_text(entries: list[data.Directive], options_map: dict[str, Any]) -> str:
    """The loaded ledger as Beancount text: loads without the plugin to the same balances."""
    buffer = io.StringIO()
    buffer.write(
        f";; Expanded by bean-backflush from {os.path.basename(options_map['filename'])}"
        ": backflush directives replaced by the postings they generate.\n"
    )
    defaults = options_lib.OPTIONS_DEFAULTS
    kept = [entry for entry in entries if not _regenerated_on_load(entry)]
    overrides = {}
    if _lot_goes_negative(kept):
        # Stock allowed to go negative (negative_stock: allow), or reduced before the day's
        # receipt in file order: no booking method but NONE books such lots back as they are.
        overrides["booking_method"] = Booking.NONE
    for key in PRINTED_OPTIONS:
        value = overrides.get(key, options_map.get(key))
        if value == defaults.get(key):
            continue
        for single in value if isinstance(value, list) else [value]:
            text = single.name if isinstance(single, enum.Enum) else single
            buffer.write(f'option "{key}" "{text}"\n')
    buffer.write("\n")
    printer.print_entries(kept, file=buffer)
    return buffer.getvalue()


def _lot_goes_negative(entries: list[data.Directive]) -> bool:
    """Whether some lot is ever below zero, in the order a reload books the entries."""
    held: dict[tuple[str, str, Any], Decimal] = {}
    for entry in sorted(entries, key=data.entry_sortkey):
        if isinstance(entry, data.Transaction):
            for posting in entry.postings:
                units = posting.units
                if posting.cost is not None and units is not None and units.number is not None:
                    key = (posting.account, units.currency, posting.cost)
                    held[key] = held.get(key, Decimal(0)) + units.number
                    if held[key] < 0:
                        return True
    return False


def _regenerated_on_load(entry: data.Directive) -> bool:
    # Beancount's pad plugin inserts 'P' transactions at load: the Pad stays, the padding
    # would be generated twice.
    return isinstance(entry, data.Transaction) and entry.flag == "P"


# -- report ------------------------------------------------------------------------------------


REPORTS = ("inventory", "variances", "standards", "health")
REPORT_EXAMPLE = """examples:
  bean-backflush report inventory example-ledger/ledger.beancount
  bean-backflush report variances example-ledger/ledger.beancount --date 2026-02-28
  bean-backflush report health example-ledger/ledger.beancount --format json
  bean-backflush report variances example-ledger/ledger.beancount --format csv --table shares

  bean-backflush report variances example-brewery/ledger.beancount --table analysis

tables (for --table): inventory: inventory, history, products, product-months, comparison,
backlog; variances: matrix, shares, comparison, by-item, analysis (price, efficiency and
volume by pool and month); standards: products, bom, materials, history, pools, drivers;
health: months, counts, warnings."""


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("beancount_backflush")
    except Exception:  # not installed: running from a source tree
        return "unknown"


def _add_report_parser(commands: Any) -> None:
    report = commands.add_parser(
        "report",
        help="a report in the terminal: inventory, variances, standards or health",
        description=(
            "Print one of the reports of the Fava pages for a ledger loaded with the plugin: "
            "inventory (stock at standard, days on hand, units made and sold, margin), "
            "variances (by month, share of their standard base, by item), standards "
            "(rolled-up costs, bills of materials, history) or health (indicators of whether "
            "backflush costing still fits). Figures run from the first transaction to --date."
        ),
        epilog=REPORT_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument("name", choices=REPORTS, help="which report")
    report.add_argument("ledger", help="the Beancount ledger with the backflush plugin line")
    report.add_argument(
        "--date",
        type=datetime.date.fromisoformat,
        help="as of this date, YYYY-MM-DD (default: the last transaction)",
    )
    report.add_argument(
        "--format",
        choices=("text", "csv", "json"),
        default="text",
        help="text for people (default), csv for a spreadsheet (one table), json for programs",
    )
    report.add_argument(
        "--table", help="the table to print (csv: default the report's first; text: all)"
    )


def cmd_report(
    name: str,
    path: str,
    out: TextIO,
    *,
    date: datetime.date | None = None,
    fmt: str = "text",
    table: str | None = None,
) -> int:
    if not os.path.isfile(path):
        sys.stderr.write(f"bean-backflush: {path}: no such ledger file\n")
        return 2
    entries, errors, options_map = loader.load_file(path)
    _print_errors(errors)
    standards = standards_for(options_map)
    if standards is None:
        sys.stderr.write(
            f'bean-backflush: {path}: no usable standards (the plugin "beancount_backflush" '
            '"standards.yaml" line is missing, or its standards file has errors, shown above)\n'
        )
        return 1
    scope = reports.Scope(end=date)
    report: Any
    if name == "inventory":
        report = reports.inventory_report(entries, options_map, standards, scope=scope)
    elif name == "variances":
        report = reports.variance_report(entries, options_map, standards, scope=scope)
    elif name == "health":
        report = reports.health_report(entries, options_map, standards, scope=scope)
    else:
        last = max((e.date for e in entries if isinstance(e, data.Transaction)), default=None)
        report = reports.standards_report(standards, date or last or datetime.date.today())
    tables = reports.tables_of(report)
    if table is not None and table not in {t.name for t in tables}:
        names = ", ".join(t.name for t in tables)
        sys.stderr.write(f"bean-backflush: no table {table!r} in the {name} report ({names})\n")
        return 2
    if fmt == "json":
        import simplejson  # Fava's dependency: writes Decimals exactly

        out.write(simplejson.dumps(reports.report_json(report), indent=2, default=str) + "\n")
    elif fmt == "csv":
        chosen = next(t for t in tables if table is None or t.name == table)
        out.write(reports.render_csv(chosen))
    elif table is not None:
        out.write(reports.render_table_text(next(t for t in tables if t.name == table)))
    else:
        out.write(RENDERERS[name](report))
    return 1 if errors else 0


RENDERERS: dict[str, Any] = {
    "inventory": reports.render_inventory_text,
    "variances": reports.render_variances_text,
    "standards": reports.render_standards_text,
    "health": reports.render_health_text,
}


if __name__ == "__main__":
    sys.exit(main())

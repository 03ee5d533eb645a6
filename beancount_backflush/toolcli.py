"""The plain-text tools' subcommands of ``bean-backflush``.

    bean-backflush diff-standards OLD NEW [--ledger L] [--date D] [--all] [--format F]
    bean-backflush compare-policies LEDGER [--format F]
    bean-backflush explain LEDGER ACCOUNT-OR-ITEM [--date D] [--format F]
    bean-backflush init DIR [--month YYYY-MM]
    bean-backflush check LEDGER [--max-uninventoried X] [--max-days-since-count N]
                                [--no-cache] [--format text|json]

:func:`register` adds them to the CLI's subparsers; each sets ``tool`` to its runner, which
returns the exit status. A problem that stops a tool is one line on stderr, exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any, TextIO

from . import explain, healthcheck, policies, scaffold, stddiff
from .plugin import standards_for
from .toolbox import (
    ToolError,
    format_errors,
    load_plain,
    parse_date,
    standards_of,
    write_json,
)

FORMATS = ("text", "csv", "json")


def register(commands: Any) -> None:
    """Add the tools to ``commands`` (an argparse subparsers object)."""
    diff = commands.add_parser(
        "diff-standards",
        help="old and new standard of each product by element; with a ledger, the "
        "revaluation and margin change",
        description="OLD and NEW are standards files or REV:PATH git revisions "
        "(e.g. HEAD~1:standards.yaml, PATH relative to where you are).",
    )
    diff.add_argument("old")
    diff.add_argument("new")
    diff.add_argument("--ledger", help="revalue this ledger's stock on hand, margin at its sales")
    diff.add_argument(
        "--date",
        help="standards in force and stock on this date "
        "(default: the ledger's last date, else today)",
    )
    diff.add_argument("--all", action="store_true", help="show unchanged items too")
    diff.add_argument("--format", choices=FORMATS, default="text")
    diff.set_defaults(tool=run_diff_standards)

    compare = commands.add_parser(
        "compare-policies",
        help="the ledger under each trigger variant and disposition, month by month",
    )
    compare.add_argument("ledger")
    compare.add_argument("--format", choices=FORMATS, default="text")
    compare.set_defaults(tool=run_compare_policies)

    audit = commands.add_parser(
        "explain", help="every posting that built an account's or an item's balance"
    )
    audit.add_argument("ledger")
    audit.add_argument("target", metavar="ACCOUNT-OR-ITEM")
    audit.add_argument("--date", help="the balance at the end of this date (default: all)")
    audit.add_argument("--format", choices=FORMATS, default="text")
    audit.set_defaults(tool=run_explain)

    init = commands.add_parser(
        "init", help="write a starter ledger.beancount and standards.yaml into DIR"
    )
    init.add_argument("directory", metavar="DIR")
    init.add_argument(
        "--month", help="the month of the example events, YYYY-MM (default: last month)"
    )
    init.set_defaults(tool=run_init)

    health = commands.add_parser(
        "check", help="bean-check plus health thresholds; non-zero exit status on failure"
    )
    health.add_argument("ledger")
    health.add_argument(
        "--max-uninventoried",
        metavar="X",
        help="largest uninventoried share of a period's COGS (0.05 or 5%%)",
    )
    health.add_argument(
        "--max-days-since-count",
        metavar="N",
        type=_days,
        help="every item on hand counted within N days of the last date",
    )
    health.add_argument("--no-cache", "-C", action="store_true", help="as bean-check -C")
    health.add_argument("--format", choices=("text", "json"), default="text")
    health.set_defaults(tool=run_check)


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expects a whole number of days, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expects zero or more days, got {value}")
    return value


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the tool chosen by ``args``; ToolError becomes one line on stderr, status 2."""
    out = out or sys.stdout
    err = err or sys.stderr
    tool: Callable[[argparse.Namespace, TextIO, TextIO], int] = args.tool
    try:
        return tool(args, out, err)
    except ToolError as problem:
        err.write(f"bean-backflush {args.command}: {problem}\n")
        return 2


def _emit(
    fmt: str,
    out: TextIO,
    text: Callable[[], str],
    csv: Callable[[], str],
    document: Callable[[], Any],
) -> None:
    if fmt == "json":
        out.write(write_json(document()))
    elif fmt == "csv":
        out.write(csv())
    else:
        out.write(text())


# -- the runners -------------------------------------------------------------------------------


def run_diff_standards(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    old = stddiff.read_standards(args.old)
    new = stddiff.read_standards(args.new)
    ledger = None
    status = 0
    entries = None
    if args.ledger:
        entries, errors, options_map = load_plain(args.ledger)
        if errors:
            err.write(format_errors(errors))
            status = 1
        ledger = (args.ledger, entries, standards_of(options_map, args.ledger))
    date = parse_date(args.date) if args.date else stddiff.default_date(entries)
    if old.currency != new.currency:
        raise ToolError(
            f"the two standards are in different currencies ({old.currency}, {new.currency})"
        )
    report = stddiff.diff_standards(old, new, date, args.old, args.new, ledger)
    _emit(
        args.format,
        out,
        lambda: stddiff.render_text(report, show_all=args.all),
        lambda: stddiff.render_csv(report),
        lambda: stddiff.as_json(report),
    )
    return status


def run_compare_policies(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    report = policies.compare_policies(args.ledger)
    _emit(
        args.format,
        out,
        lambda: policies.render_text(report),
        lambda: policies.render_csv(report),
        lambda: policies.as_json(report),
    )
    return 0


def run_explain(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    entries, errors, options_map = load_plain(args.ledger)
    if errors:
        err.write(format_errors(errors))
    date = parse_date(args.date) if args.date else None
    report = explain.explain(
        entries,
        args.target,
        date,
        standards_for(options_map),
        os.path.dirname(os.path.abspath(args.ledger)),
    )
    _emit(
        args.format,
        out,
        lambda: explain.render_text(report),
        lambda: explain.render_csv(report),
        lambda: explain.as_json(report),
    )
    return 1 if errors else 0


def run_init(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    month = scaffold.parse_month(args.month) if args.month else scaffold.default_month()
    written = scaffold.init(args.directory, month)
    for path in written:
        out.write(f"wrote {path}\n")
    ledger = os.path.join(args.directory, scaffold.LEDGER)
    out.write(f"next: bean-check {ledger}   (then: fava {ledger})\n")
    return 0


def run_check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    share = (
        healthcheck.parse_share(args.max_uninventoried)
        if args.max_uninventoried is not None
        else None
    )
    result = healthcheck.check(args.ledger, share, args.max_days_since_count, not args.no_cache)
    if args.format == "json":
        out.write(healthcheck.as_json(result))
    else:
        err.write(healthcheck.text_errors(result))
        err.write(healthcheck.render_failures(result))
        if not result.ok:
            err.write(healthcheck.summary(result) + "\n")
    return 0 if result.ok else 1

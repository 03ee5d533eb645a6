"""``bean-backflush compare-policies LEDGER``: the same ledger under each trigger variant and
each disposition of variances, side by side, month by month.

The ledger is parsed and booked once, then loaded six times — ``[purchase, completion,
sale]``, ``[purchase, sale]`` and ``[completion, sale]``, each with ``disposition: cogs`` and
``prorate`` — with the backflush plugin's standards swapped (everything else in the
standards file as it is). For each month: inventory at month end (RIP + FG + their
:Adjustment accounts, at cost), COGS of the month, the month's net variances (variance and
conversion-pool accounts: what arose less what the closes moved out), what the materials
clearing account holds at month end (``[completion, sale]``: bought, not yet used) and the
uninventoried amount reported by the month's last close. Costs are never created or lost by a
policy: inventory + cumulative COGS + cumulative variances + clearing is the same under all
six; a policy only moves cost between the balance sheet and the income statement, and
between months. That drift is what the differences from the ledger's own policy show.

Under another policy some events cannot be posted (``scrap`` or ``count`` of a material
under ``[completion, sale]``, of a product under ``[purchase, sale]``) and balance
assertions on inventory may fail: they are counted per policy, never fatal. The other
policies are loaded with ``auto_open: true`` (their extra accounts need not be opened) and
without the totals asserted on ``close`` directives (they hold for the ledger's own policy
only).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from beancount.core import data

from . import contract
from .standards import Standards
from .toolbox import (
    Loaded,
    Parsed,
    ToolError,
    format_errors,
    money,
    month_of,
    parse,
    posting_value,
    run,
    table,
    under,
    where,
    write_csv,
)

ZERO = Decimal(0)
VARIANTS = ("purchase-completion-sale", "purchase-sale", "completion-sale")
TRIGGERS = {
    "purchase-completion-sale": frozenset({"purchase", "completion", "sale"}),
    "purchase-sale": frozenset({"purchase", "sale"}),
    "completion-sale": frozenset({"completion", "sale"}),
}
SHORT = {"purchase-completion-sale": "P-C-S", "purchase-sale": "P-S", "completion-sale": "C-S"}
DISPOSITIONS = ("cogs", "prorate")
METRICS = ("inventory", "cogs", "variances", "clearing", "uninventoried")


@dataclass(frozen=True)
class Policy:
    variant: str
    disposition: str

    @property
    def label(self) -> str:
        return f"{SHORT[self.variant]} {self.disposition}"

    @property
    def triggers(self) -> str:
        order = ("purchase", "completion", "sale")
        return "[" + ", ".join(t for t in order if t in TRIGGERS[self.variant]) + "]"


ALL_POLICIES = tuple(Policy(v, d) for v in VARIANTS for d in DISPOSITIONS)


@dataclass
class Month:
    month: str
    inventory: Decimal = ZERO  # at month end
    cogs: Decimal = ZERO  # in the month
    variances: Decimal = ZERO  # in the month, net of closes
    clearing: Decimal = ZERO  # at month end
    uninventoried: Decimal | None = None  # the month's last close, two-trigger variants


@dataclass
class Problem:
    kind: str  # "event", "balance", "warning", "other"
    source: str
    message: str


@dataclass
class PolicyResult:
    policy: Policy
    base: bool
    months: dict[str, Month]
    problems: list[Problem] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for p in self.problems if p.kind == kind)


@dataclass
class Comparison:
    ledger: str
    currency: str
    base: Policy
    months: list[str]
    results: list[PolicyResult]

    @property
    def base_result(self) -> PolicyResult:
        return next(r for r in self.results if r.base)

    def delta(self, result: PolicyResult, month: str, metric: str) -> Decimal | None:
        mine = getattr(result.months[month], metric)
        theirs = getattr(self.base_result.months[month], metric)
        if mine is None or theirs is None:
            return None
        return Decimal(mine - theirs)


def policy_of(standards: Standards) -> Policy:
    return Policy(standards.variant, standards.close.disposition)


def transform_for(policy: Policy) -> Any:
    def transform(standards: Standards) -> Standards:
        return dataclasses.replace(
            standards,
            triggers=TRIGGERS[policy.variant],
            variant=policy.variant,
            close=dataclasses.replace(standards.close, disposition=policy.disposition),
            auto_open=True,
        )

    return transform


def without_close_totals(entries: list[data.Directive]) -> list[data.Directive]:
    """``close TOTAL`` asserts the ledger's own policy: drop the assertion for the others."""
    result: list[data.Directive] = []
    for entry in entries:
        if (
            isinstance(entry, data.Custom)
            and entry.type == contract.DIRECTIVE
            and entry.values
            and len(entry.values) > 1
            and getattr(entry.values[0], "value", None) == contract.CLOSE
        ):
            entry = entry._replace(values=entry.values[:1])
        result.append(entry)
    return result


def compare_policies(path: str) -> Comparison:
    parsed = parse(path)
    base_loaded = run(parsed)
    if base_loaded.standards is None:
        first = format_errors(base_loaded.errors).strip().splitlines()
        raise ToolError(
            f"{path}: no usable backflush standards"
            + (f": {first[0]}" if first else " (is the plugin line there?)")
        )
    base = policy_of(base_loaded.standards)
    loads: list[tuple[Policy, Loaded, bool]] = []
    for policy in ALL_POLICIES:
        if policy == base:
            loads.append((policy, base_loaded, True))
        else:
            loads.append((policy, _rerun(parsed, policy), False))
    months = _months(base_loaded.entries)
    ledger_dir = os.path.dirname(parsed.path)
    results = [
        PolicyResult(
            policy,
            is_base,
            _monthly(loaded, months),
            _problems(loaded.errors, ledger_dir),
        )
        for policy, loaded, is_base in loads
    ]
    return Comparison(parsed.path, base_loaded.standards.currency, base, months, results)


def _rerun(parsed: Parsed, policy: Policy) -> Loaded:
    return run(parsed, transform_for(policy), without_close_totals)


def _months(entries: Sequence[data.Directive]) -> list[str]:
    dates = [e.date for e in entries if isinstance(e, data.Transaction)]
    if not dates:
        return []
    first, last = min(dates), max(dates)
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _monthly(loaded: Loaded, months: list[str]) -> dict[str, Month]:
    standards = loaded.standards
    result = {m: Month(m) for m in months}
    if standards is None:
        return result
    ccy = standards.currency
    inventory = [standards.accounts["raw_in_process"], standards.accounts["finished_goods"]]
    cogs = standards.accounts["cogs"]
    clearing = standards.accounts["materials_clearing"]
    variances: list[str] = list(standards.variance_accounts.values())
    for pool in standards.pools.values():
        variances += [pool.incurred, pool.allocated]
    kind: dict[str, str | None] = {}

    def classify(account: str) -> str | None:
        if account not in kind:
            if any(under(account, p) for p in inventory):
                kind[account] = "inventory"
            elif under(account, cogs):
                kind[account] = "cogs"
            elif any(under(account, p) for p in variances):
                kind[account] = "variances"
            elif under(account, clearing):
                kind[account] = "clearing"
            else:
                kind[account] = None
        return kind[account]

    stocks = {"inventory": ZERO, "clearing": ZERO}
    flows = {"cogs": ZERO, "variances": ZERO}
    current: str | None = None

    def settle(month: str) -> None:
        row = result.get(month)
        if row is None:
            return
        row.inventory = stocks["inventory"]
        row.clearing = stocks["clearing"]
        row.cogs = flows["cogs"]
        row.variances = flows["variances"]

    for entry in loaded.entries:
        if not isinstance(entry, data.Transaction):
            continue
        month = month_of(entry.date)
        if month != current:
            if current is not None:
                settle(current)
                # a month without transactions carries the stocks over
                for m in months:
                    if current < m < month:
                        result[m].inventory = stocks["inventory"]
                        result[m].clearing = stocks["clearing"]
            current = month
            flows = {"cogs": ZERO, "variances": ZERO}
        if contract.event_of(entry.meta) == contract.CLOSE and month in result:
            uninventoried = contract.decimal_meta(entry.meta, contract.META_UNINVENTORIED)
            if uninventoried is not None:
                result[month].uninventoried = uninventoried
        for posting in entry.postings:
            what = classify(posting.account)
            if what is None:
                continue
            value = posting_value(posting)
            if value is None or value[1] != ccy:
                continue
            if what in stocks:
                stocks[what] += value[0]
            else:
                flows[what] += value[0]
    if current is not None:
        settle(current)
    return result


def _problems(errors: Sequence[Any], base: str) -> list[Problem]:
    problems = []
    for error in errors:
        name = type(error).__name__
        if name == "BackflushWarning":
            kind = "warning"
        elif name == "BalanceError":
            kind = "balance"
        elif name in ("BackflushError", "StandardsError"):
            kind = "event"
        else:
            kind = "other"
        message = str(getattr(error, "message", error)).splitlines()[0]
        problems.append(Problem(kind, where(getattr(error, "source", None), base), message))
    return problems


# -- rendering ---------------------------------------------------------------------------------


def _shown_metrics(report: Comparison) -> list[str]:
    metrics = ["inventory", "cogs", "variances"]
    if any(m.clearing for r in report.results for m in r.months.values()):
        metrics.append("clearing")
    metrics.append("uninventoried")
    return metrics


TITLES = {
    "inventory": "inventory",
    "cogs": "COGS",
    "variances": "variances",
    "clearing": "clearing",
    "uninventoried": "uninvent.",
}


def render_text(report: Comparison) -> str:
    ccy = report.currency
    base = report.base
    out = [
        f"Policies compared on {os.path.basename(report.ledger)}, in {ccy}. (*) is the ledger's "
        f"own: {base.triggers}, disposition {base.disposition}.",
        "P-C-S = [purchase, completion, sale], P-S = [purchase, sale], C-S = [completion, sale].",
        "inventory = RIP + FG + :Adjustment at month end; COGS, variances = the month's "
        "(variances net of",
        "the closes); clearing = materials clearing at month end; uninvent. = uninventoried "
        "reported by the",
        "month's last close; Δ = difference from (*).",
        "",
    ]
    metrics = _shown_metrics(report)
    delta_metrics = ["inventory", "cogs", "variances"]
    headers = ["month", "policy", *(TITLES[m] for m in metrics)]
    headers += [f"Δ{TITLES[m]}" for m in delta_metrics]
    rows = []
    for month in report.months:
        for index, result in enumerate(report.results):
            row = [month if index == 0 else "", result.policy.label + (" *" if result.base else "")]
            values = result.months[month]
            row += [money(getattr(values, m)) for m in metrics]
            for metric in delta_metrics:
                if result.base:
                    row.append("")
                else:
                    row.append(_delta(report.delta(result, month, metric)))
            rows.append(row)
    out.append(table(headers, rows, "ll" + "r" * (len(headers) - 2)))
    # Totals over the months: flows summed, stocks at the end.
    out.append(
        "Whole ledger (COGS and variances summed; inventory and clearing at the end), and "
        "errors per policy:"
    )
    out.append("")
    total_rows = []
    base_totals = _totals(report, report.base_result)
    for result in report.results:
        totals = _totals(report, result)
        expensed = totals["cogs"] + totals["variances"] + totals["clearing"]
        base_expensed = base_totals["cogs"] + base_totals["variances"] + base_totals["clearing"]
        total_rows.append(
            [
                result.policy.label + (" *" if result.base else ""),
                money(totals["inventory"]),
                money(totals["cogs"]),
                money(totals["variances"]),
                money(totals["clearing"]),
                money(expensed),
                "" if result.base else _delta(expensed - base_expensed),
                str(result.count("event")),
                str(result.count("balance")),
                str(result.count("warning")),
                str(result.count("other")),
            ]
        )
    out.append(
        table(
            [
                "policy",
                "inventory",
                "COGS",
                "variances",
                "clearing",
                "expensed",
                "Δexpensed",
                "rejected",
                "balance",
                "warnings",
                "other",
            ],
            total_rows,
        )
    )
    out.append(
        "expensed = COGS + variances + clearing (income-statement accounts); inventory + "
        "expensed is the same\nunder every policy: a policy moves cost between the balance "
        "sheet and the income statement.\nrejected = events that cannot be posted under the "
        "policy; balance = failing balance assertions;\nwarnings = uninventoried above "
        "warn_uninventoried (the plugin's warnings)."
    )
    listed = [
        (result, problem)
        for result in report.results
        for problem in result.problems
        if problem.kind in ("event", "other")
    ]
    if listed:
        out.append("")
        out.append("Rejected events and other errors:")
        for result, problem in listed:
            out.append(f"  {result.policy.label:<12} {problem.source}: {problem.message}")
    return "\n".join(out) + "\n"


def _delta(number: Decimal | None) -> str:
    if number is None:
        return "—"
    return "0" if not number else money(number, signed=True)


def _totals(report: Comparison, result: PolicyResult) -> dict[str, Decimal]:
    months = [result.months[m] for m in report.months]
    last = months[-1] if months else Month("")
    return {
        "inventory": last.inventory,
        "clearing": last.clearing,
        "cogs": sum((m.cogs for m in months), ZERO),
        "variances": sum((m.variances for m in months), ZERO),
    }


CSV_HEADERS = [
    "month",
    "triggers",
    "disposition",
    "ledger_policy",
    "inventory",
    "cogs",
    "variances",
    "clearing",
    "uninventoried",
    "d_inventory",
    "d_cogs",
    "d_variances",
    "d_clearing",
    "rejected_events",
    "failed_balances",
    "warnings",
    "other_errors",
]


def _dec(number: Decimal | None) -> str | None:
    return None if number is None else f"{number:f}"


def _rows(report: Comparison) -> list[list[Any]]:
    rows = []
    for month in report.months:
        for result in report.results:
            values = result.months[month]
            rows.append(
                [
                    month,
                    result.policy.variant,
                    result.policy.disposition,
                    "yes" if result.base else "no",
                    _dec(values.inventory),
                    _dec(values.cogs),
                    _dec(values.variances),
                    _dec(values.clearing),
                    _dec(values.uninventoried),
                    *(
                        _dec(report.delta(result, month, m))
                        for m in ("inventory", "cogs", "variances", "clearing")
                    ),
                    result.count("event"),
                    result.count("balance"),
                    result.count("warning"),
                    result.count("other"),
                ]
            )
    return rows


def render_csv(report: Comparison) -> str:
    return write_csv(CSV_HEADERS, _rows(report))


def as_json(report: Comparison) -> dict[str, Any]:
    return {
        "ledger": report.ledger,
        "currency": report.currency,
        "ledger_policy": {"triggers": report.base.variant, "disposition": report.base.disposition},
        "months": report.months,
        "policies": [
            {
                "triggers": result.policy.variant,
                "disposition": result.policy.disposition,
                "ledger_policy": result.base,
                "months": [
                    {
                        "month": month,
                        **{m: getattr(result.months[month], m) for m in METRICS},
                        "difference": {
                            m: report.delta(result, month, m)
                            for m in ("inventory", "cogs", "variances", "clearing")
                        },
                    }
                    for month in report.months
                ],
                "errors": [
                    {"kind": p.kind, "source": p.source, "message": p.message}
                    for p in result.problems
                ],
            }
            for result in report.results
        ],
    }

"""Fava reports for backflush costing: inventory, variances, standards, health.

    2026-01-01 custom "fava-extension" "beancount_backflush.fava"

Each class is a thin shim: the figures come from :mod:`beancount_backflush.reports`,
computed from the plugin's output once per ledger load and filter (cached), and the
templates only render them. Every table of a page is also served as CSV by the page's
``csv`` endpoint. The shared plumbing lives in :mod:`._base`, imported as a module so that
Fava, which registers every extension class visible here, sees exactly these four.
"""

from __future__ import annotations

import datetime
from typing import Any

from .. import reports
from ..standards import Standards
from . import _base


class BackflushInventory(_base.BackflushPage):
    report_title = "Backflush: Inventory"
    report_kind = "inventory"

    def compute(self, standards: Standards) -> reports.InventoryReport:
        return reports.inventory_report(
            self.entries(), self.ledger.options, standards, scope=self.scope()
        )

    def charts(self) -> list[dict[str, Any]]:
        report = self.report()
        if report is None or not report.history:
            return []
        currency = report.currency
        bars = [
            {
                "date": point.date,
                "balance": {currency: point.total},
                "account_balances": {
                    account: {currency: amount}
                    for account, amount in point.by_account.items()
                    if amount
                },
                "budgets": {},
            }
            for point in report.history[-_base.MONTHS_SHOWN :]
        ]
        title = "Inventory value at month end"
        if len(report.history) > _base.MONTHS_SHOWN:
            title += f", last {_base.MONTHS_SHOWN} months"
        line = [
            {"date": date, "balance": {currency: total}}
            for date, total in _thinned(report.daily, DAILY_POINTS)
        ]
        return [
            {"type": "bar", "label": title, "data": bars},
            {"type": "balances", "label": "Inventory value, day by day", "data": line},
        ]


#: The day-by-day line keeps at most this many points (the page's weight must not grow with
#: the ledger): a longer period keeps every k-th day and the last one.
DAILY_POINTS = 180


def _thinned(points: list[Any], limit: int) -> list[Any]:
    if len(points) <= limit:
        return points
    step = -(-len(points) // limit)
    return [p for i, p in enumerate(points) if i % step == 0 or i == len(points) - 1]


class BackflushVariances(_base.BackflushPage):
    report_title = "Backflush: Variances"
    report_kind = "variances"

    def compute(self, standards: Standards) -> reports.VarianceReport:
        return reports.variance_report(
            self.entries(), self.ledger.options, standards, scope=self.scope()
        )

    def charts(self) -> list[dict[str, Any]]:
        report = self.report()
        if report is None or not report.months:
            return []
        charts = report.chart()
        for chart in charts:
            if len(chart["data"]) > _base.MONTHS_SHOWN:
                chart["data"] = chart["data"][-_base.MONTHS_SHOWN :]
                chart["label"] += f", last {_base.MONTHS_SHOWN} months"
        return charts


class BackflushStandards(_base.BackflushPage):
    report_title = "Backflush: Standards"
    report_kind = "standards"

    def standards_date(self) -> datetime.date:
        end = self.end_date()
        if end is not None:
            return end
        last = next(
            (e.date for e in reversed(self.ledger.all_entries) if hasattr(e, "postings")), None
        )
        return last or datetime.date.today()

    def compute(self, standards: Standards) -> reports.StandardsReport:
        return reports.standards_report(standards, self.standards_date(), scope=self.scope())


class BackflushHealth(_base.BackflushPage):
    report_title = "Backflush: Health"
    report_kind = "health"

    def compute(self, standards: Standards) -> reports.HealthReport:
        return reports.health_report(
            self.entries(), self.ledger.options, standards, scope=self.scope()
        )

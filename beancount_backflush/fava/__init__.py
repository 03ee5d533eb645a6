"""Fava reports for backflush costing: inventory, variances, standards, health.

    2026-01-01 custom "fava-extension" "beancount_backflush.fava"

Each class is a thin shim: the figures come from :mod:`beancount_backflush.reports`,
computed from the plugin's output once per ledger load and time filter (cached), and the
templates only render them.
"""

from __future__ import annotations

import datetime
from typing import Any

from fava.ext import FavaExtensionBase
from flask import g, request

from .. import reports
from ..plugin import standards_for
from ..standards import Standards


class _Backflush(FavaExtensionBase):
    """Shared plumbing: the standards and a per-load, per-filter cache of reports."""

    _cache: dict[tuple[Any, ...], Any]

    def after_load_file(self) -> None:
        self._cache = {}

    def _key(self, name: str) -> tuple[Any, ...]:
        args = request.args if request else {}
        return (
            name,
            id(self.ledger.all_entries),
            args.get("time"),
            args.get("filter"),
            args.get("account"),
        )

    def _cached(self, name: str, compute: Any) -> Any:
        cache = getattr(self, "_cache", None)
        if cache is None:
            cache = self._cache = {}
        key = self._key(name)
        if key not in cache:
            if len(cache) > 64:
                cache.clear()
            cache[key] = compute()
        return cache[key]

    @property
    def standards(self) -> Standards | None:
        return self._cached("standards", lambda: standards_for(self.ledger.options))

    def end_date(self) -> datetime.date | None:
        filtered = getattr(g, "filtered", None)
        return filtered.end_date if filtered is not None else None

    def entries(self) -> Any:
        filtered = getattr(g, "filtered", None)
        return filtered.entries if filtered is not None else self.ledger.all_entries

    def has_events(self) -> bool:
        return any("backflush" in getattr(e, "meta", {}) for e in self.entries())


class BackflushInventory(_Backflush):
    report_title = "Backflush: Inventory"

    def report(self) -> reports.InventoryReport | None:
        standards = self.standards
        if standards is None:
            return None
        return self._cached(
            "inventory",
            lambda: reports.inventory_report(
                self.entries(), self.ledger.options, standards, self.end_date()
            ),
        )


class BackflushVariances(_Backflush):
    report_title = "Backflush: Variances"

    def report(self) -> reports.VarianceReport | None:
        standards = self.standards
        if standards is None:
            return None
        return self._cached(
            "variances",
            lambda: reports.variance_report(self.entries(), self.ledger.options, standards),
        )


class BackflushStandards(_Backflush):
    report_title = "Backflush: Standards"

    def report(self) -> reports.StandardsReport | None:
        standards = self.standards
        if standards is None:
            return None
        date = self.end_date() or max(
            (e.date for e in self.ledger.all_entries[-1:]), default=datetime.date.today()
        )
        return self._cached("standards-report", lambda: reports.standards_report(standards, date))


class BackflushHealth(_Backflush):
    report_title = "Backflush: Health"

    def report(self) -> reports.HealthReport | None:
        standards = self.standards
        if standards is None:
            return None
        return self._cached(
            "health", lambda: reports.health_report(self.entries(), self.ledger.options, standards)
        )

"""Plumbing shared by the Fava report pages (kept out of the extension module's namespace:
Fava registers every FavaExtensionBase subclass it finds in the module it is given).

- the scope: Fava's time filter gives the period; its account filter and filter bar are
  applied by the reports as each report's notes say (a stock balance needs every entry);
- a per-load, per-filter cache of the reports;
- ``csv``: every table of a page as CSV (``/extension/<Page>/csv?table=<name>``);
- the links the templates draw (journal drill-down with Fava's filter syntax, accounts,
  the standards file in Fava's editor).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any

from beancount.core import account as account_lib
from fava.context import g
from fava.core.filters import AdvancedFilter, FilterError, Match, TimeFilter
from fava.ext import FavaExtensionBase, extension_endpoint
from flask import Response, abort, request, url_for
from werkzeug.utils import secure_filename

from .. import reports
from ..contract import ACTIVITY, CLOSE, META_EVENT, META_ITEM, META_POOL
from ..plugin import standards_for
from ..standards import Standards


def _quote(text: str) -> str:
    """A regular expression matching ``text`` exactly, as a Fava filter string."""
    return '"^' + re.escape(text).replace('"', ".") + '$"'


def account_regex(accounts: tuple[str, ...] | list[str]) -> str:
    names = "|".join(re.escape(a) for a in accounts)
    return f'"^({names})(:|$)"'


def item_filter(item: str) -> str:
    """Entries of an item: its events, or any posting of it."""
    return f'({META_ITEM}:{_quote(item)}, any(units:"\\s{re.escape(item)}$"))'


def accounts_filter(accounts: tuple[str, ...] | list[str]) -> str:
    return f"any(account:{account_regex(accounts)})"


NOT_CLOSE = f'-{META_EVENT}:"^{CLOSE}$"'


def month_filter(month: str) -> str:
    """A month as a filter term. Not Fava's time filter: that one adds an opening-balance
    entry (a summary of what came before) to the journal, which is not behind the figure."""
    if re.fullmatch(r"\d{4}-\d{2}", month):
        return f'date:"{month}"'  # short: YYYY-MM can only match a date's start
    return f'date:"^{re.escape(month)}"'


class BackflushPage(FavaExtensionBase):
    """Shared plumbing of the four report pages."""

    report_kind = ""
    _cache: dict[tuple[Any, ...], Any]

    def after_load_file(self) -> None:
        self._cache = {}

    # -- scope and cache -----------------------------------------------------------------------

    def _args(self) -> tuple[str, str, str]:
        args = request.args if request else {}
        return (
            args.get("time", "") or "",
            (args.get("account", "") or "").strip(),
            (args.get("filter", "") or "").strip(),
        )

    def _cached(self, name: str, compute: Callable[[], Any]) -> Any:
        cache = getattr(self, "_cache", None)
        if cache is None:
            cache = self._cache = {}
        key = (name, id(self.ledger.all_entries), *self._args())
        if key not in cache:
            if len(cache) > 64:
                cache.clear()
            cache[key] = compute()
        return cache[key]

    @property
    def standards(self) -> Standards | None:
        return self._cached("_standards", lambda: standards_for(self.ledger.options))

    def scope(self) -> reports.Scope:
        return self._cached("_scope", self._compute_scope)

    def _compute_scope(self) -> reports.Scope:
        time, account, text = self._args()
        begin = end = None
        date_range = None
        if time:
            # The period from the time filter itself: Fava's filtered ledger (g.filtered)
            # would clamp every entry only for the page to read these two dates.
            try:
                date_range = TimeFilter(
                    self.ledger.options, self.ledger.fava_options, time
                ).date_range
            except FilterError:
                date_range = getattr(getattr(g, "filtered", None), "date_range", None)
        if date_range is not None:
            begin, end = date_range.begin, date_range.end_inclusive
        selected = None
        if text:
            kept = AdvancedFilter(text).apply(self.ledger.all_entries)
            selected = frozenset(id(entry) for entry in kept)
        predicate = None
        if account:
            match = Match(account)

            def predicate(name: str) -> bool:
                return account_lib.has_component(name, account) or match(name)

        return reports.Scope(begin, end, selected, predicate, account, text)

    def entries(self) -> Any:
        return self.ledger.all_entries

    def end_date(self) -> datetime.date | None:
        return self.scope().end

    # -- the page's report and tables ----------------------------------------------------------

    def report(self) -> Any:
        standards = self.standards
        if standards is None:
            return None
        return self._cached(self.report_kind, lambda: self.compute(standards))

    def compute(self, standards: Standards) -> Any:
        raise NotImplementedError

    def tables(self) -> list[reports.Table]:
        report = self.report()
        return [] if report is None else reports.tables_of(report)

    @extension_endpoint
    def csv(self) -> Response:
        """One table of the page as CSV, for the current filters."""
        name = request.args.get("table", "")
        table = next((t for t in self.tables() if t.name == name), None)
        if table is None:
            return abort(404)
        filename = secure_filename(f"{self.name}-{table.name}.csv")
        return Response(
            reports.render_csv(table),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    # -- links for the templates ---------------------------------------------------------------

    def csv_url(self, table: str) -> str:
        # Flask's url_for takes `endpoint` itself: build on the page's URL (filters kept).
        page = url_for("extension_report", extension_name=self.name, table=table)
        path, _, query = page.partition("?")
        return f"{path}csv?{query}"

    def journal_url(self, *terms: str, time: str | None = None) -> str:
        """Fava's journal filtered to the entries behind a figure (the user's filter kept)."""
        _time, _account, text = self._args()
        parts = ([f"({text})"] if text else []) + [t for t in terms if t]
        values: dict[str, Any] = {"filter": " ".join(parts)}
        if time is not None:
            values["time"] = time
        return url_for("report", report_name="journal", **values)

    def item_url(self, item: str, *terms: str, time: str | None = None) -> str:
        return self.journal_url(item_filter(item), *terms, time=time)

    def event_url(self, events: str, item: str, month: str | None = None) -> str:
        """Journal of an item's events (``events``: names separated by ``|``)."""
        names = "|".join(re.escape(e) for e in events.split("|"))
        return self.month_url(month, f'{META_EVENT}:"^({names})$"', f"{META_ITEM}:{_quote(item)}")

    def variance_url(
        self, accounts: tuple[str, ...] | list[str], month: str | None = None, item: str = ""
    ) -> str:
        terms = [accounts_filter(accounts), NOT_CLOSE]
        if item and item != reports.UNATTRIBUTED:
            terms.insert(0, item_filter(item))
        return self.month_url(month, *terms)

    def activity_url(self, pool: str, month: str | None = None) -> str:
        """Journal of a pool's ``activity`` directives (actual driver units)."""
        return self.month_url(month, f'{META_EVENT}:"^{ACTIVITY}$"', f"{META_POOL}:{_quote(pool)}")

    @staticmethod
    def backlog_term(account: str) -> str:
        return accounts_filter([account])

    def month_url(self, month: str | None, *terms: str) -> str:
        """Journal of a month's entries (the whole page's period when ``month`` is None)."""
        if month is None:
            return self.journal_url(*terms)
        return self.journal_url(month_filter(month), *terms, time="")

    def close_url(self, accounts: tuple[str, ...] | list[str]) -> str:
        """Journal of the closes that moved these accounts' balances."""
        return self.journal_url(f'{META_EVENT}:"^{CLOSE}$"', accounts_filter(accounts))

    def account_url(self, name: str) -> str:
        return url_for("account", name=name)

    def editor_url(self, path: str, line: int) -> str:
        return url_for("report", report_name="editor", file_path=path, line=str(line))

    @staticmethod
    def analysis_note() -> str:
        return reports.ANALYSIS_NOTE

    @staticmethod
    def units_text(units: Any) -> str:
        return reports.units_text(units)

    @staticmethod
    def rate_text(rate: Any) -> str:
        return reports.rate_text(rate)

    @staticmethod
    def singular(unit: str | None) -> str:
        return reports.singular(unit or "")

    @staticmethod
    def driver_text(report: reports.StandardsReport, pool: str, units: Any) -> str:
        found = next((p for p in report.pool_standards if p.name == pool), None)
        return "" if found is None else reports.driver_text(found, units)

    @staticmethod
    def leaf(account: str, parents: list[str] | None = None) -> str:
        """A short name: the last component, or from the inventory account's own name on
        (``FinishedGoods:Adjustment``)."""
        for parent in parents or ():
            if account.startswith(parent + ":"):
                return parent.rsplit(":", 1)[-1] + account[len(parent) :]
        return account.rsplit(":", 1)[-1]

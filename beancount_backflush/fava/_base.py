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
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

from beancount.core import account as account_lib
from fava.context import g
from fava.core.filters import AdvancedFilter, FilterError, Match, TimeFilter
from fava.ext import FavaExtensionBase, extension_endpoint
from flask import Response, abort, request, url_for
from flask import g as flask_g
from werkzeug.utils import secure_filename

from .. import reports
from ..contract import ACTIVITY, CLOSE, META_EVENT, META_ITEM, META_POOL
from ..plugin import standards_for
from ..standards import Standards


def _escape(text: str) -> str:
    """``text`` as a regular expression matching it exactly, fit for a Fava filter string."""
    return re.escape(text).replace('"', ".")


def _quote(text: str) -> str:
    """A regular expression matching ``text`` exactly, as a Fava filter string."""
    return f'"^{_escape(text)}$"'


def account_regex(accounts: tuple[str, ...] | list[str]) -> str:
    names = "|".join(re.escape(a) for a in accounts)
    return f'"^({names})(:|$)"'


def _item_terms(escaped: str) -> str:
    return f'({META_ITEM}:"^{escaped}$", any(units:"\\s{escaped}$"))'


def item_filter(item: str) -> str:
    """Entries of an item: its events, or any posting of it."""
    return _item_terms(_escape(item))


def accounts_filter(accounts: tuple[str, ...] | list[str]) -> str:
    return f"any(account:{account_regex(accounts)})"


NOT_CLOSE = f'-{META_EVENT}:"^{CLOSE}$"'
MONTH = re.compile(r"\d{4}-\d{2}")


def month_filter(month: str) -> str:
    """A month as a filter term. Not Fava's time filter: that one adds an opening-balance
    entry (a summary of what came before) to the journal, which is not behind the figure."""
    if MONTH.fullmatch(month):
        return f'date:"{month}"'  # short: YYYY-MM can only match a date's start
    return f'date:"^{re.escape(month)}"'


#: Month-by-month tables and bar charts show at most this many months (the last ones of the
#: period): a page's weight must not grow with the ledger. The CSV has every month.
MONTHS_SHOWN = 12

#: A drill-down link is ``#bf/<n>/<arg>/...``: template ``n`` of the page's link table (one
#: per kind of link: a base URL, the query parameter it completes, a text with ``{0}``,
#: ``{1}``... for the arguments), filled in by the page's one inline handler when the link is
#: pointed at, focused for a context menu or clicked (before Fava's router takes the click),
#: so that the page carries one URL per kind of link, not one per figure. The same expansion
#: in Python: :func:`expand_link`.
LINK_PREFIX = "#bf/"
LINK_SCRIPT = (
    "var a=event.target.closest&&event.target.closest('a[href^=\"#bf/\"]');if(a){"
    "var p=a.getAttribute('href').split('/').map(decodeURIComponent),"
    "L=this.bfLinks||(this.bfLinks=JSON.parse(this.querySelector('.bf-links').textContent)),"
    "t=L[+p[1]],u=new window.URL(t[0],location.href),s=u.searchParams;"
    "s.set(t[1],(s.get(t[1])||'')+t[2].replace(/\\{(\\d)\\}/g,function(m,i){return p[+i+2]}));"
    "a.href=u.href}"
)
_PLACEHOLDER = re.compile(r"\{(\d)\}")


def expand_link(table: list[list[str]], href: str) -> str:
    """The URL a ``#bf/...`` link of a page stands for (as the page's script builds it)."""
    if not href.startswith(LINK_PREFIX):
        return href
    _hash, index, *args = [unquote(part) for part in href.split("/")]
    base, param, template = table[int(index)]
    path, _, query = base.partition("?")
    values = parse_qsl(query, keep_blank_values=True)
    text = _PLACEHOLDER.sub(lambda m: args[int(m.group(1))], template)
    found = False
    for n, (key, value) in enumerate(values):
        if key == param and not found:
            values[n], found = (key, value + text), True
    if not found:
        values.append((param, text))
    return f"{path}?{urlencode(values)}"


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

    def _link(self, endpoint: str, param: str, template: str, args: tuple[str, ...]) -> str:
        """A drill-down link: template of this request's link table, and its arguments.

        ``endpoint``: ``journal`` (the page's period kept), ``journal-all`` (Fava's time
        filter cleared: the link names its month) or ``editor:<path>``."""
        links: dict[tuple[str, str, str], int] | None = getattr(flask_g, "bf_links", None)
        if links is None:
            links = flask_g.bf_links = {}
        base = self._base_url(endpoint)
        index = links.setdefault((base, param, template), len(links))
        return "/".join([LINK_PREFIX + str(index), *(quote(a, safe="") for a in args)])

    def _base_url(self, endpoint: str) -> str:
        bases: dict[str, str] | None = getattr(flask_g, "bf_bases", None)
        if bases is None:
            bases = flask_g.bf_bases = {}
        if endpoint not in bases:
            if endpoint.startswith("editor:"):
                path = endpoint.removeprefix("editor:")
                bases[endpoint] = url_for("report", report_name="editor", file_path=path, line="")
            else:
                _time, _account, text = self._args()
                values: dict[str, Any] = {"filter": f"({text}) " if text else ""}
                if endpoint == "journal-all":
                    values["time"] = ""
                bases[endpoint] = url_for("report", report_name="journal", **values)
        return bases[endpoint]

    def link_table(self) -> list[tuple[str, str, str]]:
        """The templates of the links drawn so far (the page prints it after them)."""
        links: dict[tuple[str, str, str], int] = getattr(flask_g, "bf_links", None) or {}
        return list(links)

    @staticmethod
    def link_script() -> str:
        return LINK_SCRIPT

    def journal_url(self, *terms: str, args: tuple[str, ...] = (), time: str | None = None) -> str:
        """Fava's journal filtered to the entries behind a figure (the user's filter kept):
        ``terms`` may hold ``{0}``, ``{1}``... for ``args`` (one template per kind of link).
        ``time=""`` clears Fava's time filter."""
        template = " ".join(t for t in terms if t)
        endpoint = "journal-all" if time == "" else "journal"
        return self._link(endpoint, "filter", template, args)

    def item_url(self, item: str, *terms: str, time: str | None = None) -> str:
        return self.journal_url(_item_terms("{0}"), *terms, args=(_escape(item),), time=time)

    def event_url(self, events: str, item: str, month: str | None = None) -> str:
        """Journal of an item's events (``events``: names separated by ``|``)."""
        names = "|".join(re.escape(e) for e in events.split("|"))
        return self.month_url(
            month, f'{META_EVENT}:"^({names})$"', f'{META_ITEM}:"^{{0}}$"', args=(_escape(item),)
        )

    def variance_url(
        self, accounts: tuple[str, ...] | list[str], month: str | None = None, item: str = ""
    ) -> str:
        terms = [accounts_filter(accounts), NOT_CLOSE]
        args: tuple[str, ...] = ()
        if item and item != reports.UNATTRIBUTED:
            terms.insert(0, _item_terms("{0}"))
            args = (_escape(item),)
        return self.month_url(month, *terms, args=args)

    def activity_url(self, pool: str, month: str | None = None) -> str:
        """Journal of a pool's ``activity`` directives (actual driver units)."""
        return self.month_url(month, f'{META_EVENT}:"^{ACTIVITY}$"', f"{META_POOL}:{_quote(pool)}")

    @staticmethod
    def backlog_term(account: str) -> str:
        return accounts_filter([account])

    def month_url(self, month: str | None, *terms: str, args: tuple[str, ...] = ()) -> str:
        """Journal of a month's entries (the whole page's period when ``month`` is None)."""
        if month is None:
            return self.journal_url(*terms, args=args)
        if not MONTH.fullmatch(month):
            return self.journal_url(month_filter(month), *terms, args=args, time="")
        term = f'date:"{{{len(args)}}}"'
        return self.journal_url(term, *terms, args=(*args, month), time="")

    def close_url(self, accounts: tuple[str, ...] | list[str]) -> str:
        """Journal of the closes that moved these accounts' balances."""
        return self.journal_url(f'{META_EVENT}:"^{CLOSE}$"', accounts_filter(accounts))

    def account_url(self, name: str) -> str:
        return url_for("account", name=name)

    def editor_url(self, path: str, line: int) -> str:
        return self._link(f"editor:{path}", "line", "{0}", (str(line),))

    @staticmethod
    def recent(months: Iterable[str]) -> list[str]:
        """The months a month-by-month table shows: the last :data:`MONTHS_SHOWN`."""
        return sorted(set(months))[-MONTHS_SHOWN:]

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

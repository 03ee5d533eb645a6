"""The Fava pages, through Fava's own Flask test client: each renders, its figures
reconcile with the ledger, drill-down links select exactly the entries behind a figure,
every table downloads as CSV, Fava's bars are applied as the pages say, user text is
escaped, and odd ledgers get a clear message."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fava.application import create_app
from fava.ext import find_extensions
from standards_bike import FG, RIP, bike_standards
from test_reports import LATER, MALFORMED, MONTHS

from beancount_backflush import reports
from beancount_backflush.fava._base import LINK_PREFIX, MONTHS_SHOWN, expand_link

PAGES = ["BackflushInventory", "BackflushVariances", "BackflushStandards", "BackflushHealth"]
ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example-ledger" / "ledger.beancount"
FAVA_LINE = '2026-01-01 custom "fava-extension" "beancount_backflush.fava"\n'

LEDGER = """
2026-01-01 custom "fava-extension" "beancount_backflush.fava"
2026-01-05 custom "backflush" "purchase" 100 STEEL 260.00 USD
2026-01-05 custom "backflush" "purchase" 1000 BOLT 48.00 USD
2026-01-06 custom "backflush" "produce" 10 FRAME
  note: "<script>alert('frame')</script>"
2026-01-20 custom "backflush" "sell" 6 FRAME 300.00 USD
2026-01-25 * "<script>alert('payroll')</script>"
  Expenses:Conversion:Labor     40.00 USD
  Liabilities:Wages
2026-01-31 custom "backflush" "close"
"""
VARIANCE_ACCOUNTS = [
    "Expenses:Variances:" + a
    for a in ("PurchasePrice", "MaterialUsage", "Shrinkage", "Scrap", "Revaluation", "Rounding")
] + [
    "Expenses:Conversion:Labor",
    "Expenses:Conversion:Labor:Allocated",
    "Expenses:Conversion:Overhead",
    "Expenses:Conversion:Overhead:Allocated",
]


def client_for(path: Path):
    app = create_app([str(path.resolve())], load=True)
    slug = list(app.config["LEDGERS"].ledgers_by_slug)[0]
    return app.test_client(), slug


def ledger_of(client, slug):
    return client.application.config["LEDGERS"][slug]


def get(client, slug: str, page: str, query: str = "") -> str:
    response = client.get(f"/{slug}/extension/{page}/{query}")
    assert response.status_code == 200, page
    body = response.data.decode()
    assert "Traceback" not in body
    return body


def number(text: str) -> Decimal:
    return Decimal(re.sub(r"<[^>]*>", "", text).replace(",", "").strip() or "0")


def charts_of(body: str) -> list[dict]:
    found = re.findall(
        r'<svelte-component type="charts"><script type="application/json">(.*?)</script>',
        body,
        re.S,
    )
    return [chart for text in found for chart in json.loads(text)]


def link_table(body: str) -> list[list[str]]:
    """The page's link templates (one per kind of drill-down link)."""
    found = re.search(r'<script type="application/json" class="bf-links">(.*?)</script>', body)
    assert found, "no link table"
    return json.loads(found.group(1))


def resolve(body: str, href: str) -> str:
    """The URL a link of the page goes to (a ``#bf/...`` link through the link table)."""
    href = html.unescape(href)
    return expand_link(link_table(body), href) if href.startswith(LINK_PREFIX) else href


def links(body: str, pattern: str) -> list[tuple[str, ...]]:
    """The matches of ``pattern``, unescaped; drill-down links resolved to their URLs."""
    return [
        tuple(resolve(body, group) for group in (match if isinstance(match, tuple) else [match]))
        for match in re.findall(pattern, body, re.S)
    ]


def selected(client, slug, url: str):
    """The entries Fava's journal shows for a drill-down link (same filters, same code)."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert urlsplit(url).path.endswith("/journal/"), url
    filtered = ledger_of(client, slug).get_filtered(
        account=query.get("account", ""),
        filter=query.get("filter", ""),
        time=query.get("time", ""),
    )
    return [e for e in filtered.entries if hasattr(e, "postings")]


def money_in(entries, accounts) -> Decimal:
    return sum(
        (
            p.units.number
            for e in entries
            for p in e.postings
            if p.cost is None
            and p.units.currency == "USD"
            and any(p.account == a or p.account.startswith(a + ":") for a in accounts)
        ),
        Decimal(0),
    )


def test_every_page_renders_on_the_example_ledger():
    client, slug = client_for(EXAMPLE)
    for page in PAGES:
        body = get(client, slug, page)
        assert "<table" in body, page
        assert not re.search(r">-?0\.00</", body), page  # zero is a blank cell, as in Fava
    variances = charts_of(get(client, slug, "BackflushVariances"))
    assert variances[0]["type"] == "bar" and variances[0]["data"][0]["date"] == "2026-01-31"
    inventory = charts_of(get(client, slug, "BackflushInventory"))
    assert [c["type"] for c in inventory] == ["bar", "balances"]
    assert "<tree-table>" in get(client, slug, "BackflushStandards")
    assert 'is="sortable-table"' in get(client, slug, "BackflushHealth")


def test_exactly_the_four_pages_are_registered_with_fava():
    classes, errors = find_extensions(ROOT, "beancount_backflush.fava")
    assert errors == []
    assert sorted(c.__name__ for c in classes) == sorted(PAGES)
    assert all(c.report_title for c in classes)
    client, slug = client_for(EXAMPLE)
    details = ledger_of(client, slug).extensions.extension_details
    assert sorted(d.name for d in details) == sorted(PAGES)


def test_inventory_page_total_matches_the_balance_sheet(ledger):
    book = ledger(bike_standards(), LEDGER)
    client, slug = client_for(book.path)
    body = get(client, slug, "BackflushInventory")
    total = re.search(r'id="bf-inventory-total">([^<]*)<', body).group(1)
    assert number(total) == book.money(RIP) + book.money(FG)


def test_inventory_page_respects_the_time_filter(ledger):
    book = ledger(bike_standards(), LEDGER)
    client, slug = client_for(book.path)
    body = get(client, slug, "BackflushInventory", "?time=2026-01-05")
    total = re.search(r'id="bf-inventory-total">([^<]*)<', body).group(1)
    assert number(total) == Decimal("300.00")  # before any production


def test_days_on_hand_in_fava_february(ledger):
    book = ledger(bike_standards(), FAVA_LINE + MONTHS + LATER)
    client, slug = client_for(book.path)
    body = get(client, slug, "BackflushInventory", "?time=2026-02")
    days = re.sub(
        r"\s+",
        " ",
        re.sub(r"<[^>]*>", "", re.search(r'id="bf-days-on-hand">(.*?)</p>', body, re.S).group(1)),
    )
    assert "414.9: inventory of 293.40 ÷ average daily COGS at standard of 0.71" in days
    assert "(19.80 over 28 days, 2026-02-01 to 2026-02-28)" in days
    health = get(client, slug, "BackflushHealth", "?time=2026-02")
    assert ">2026-02<" in health and ">2026-01<" not in health
    assert "414.9" in health
    assert "never been counted (BOLT, FRAME)" in health
    assert "counts are current" not in health


def test_variance_page_balance_matches_the_variance_accounts(ledger):
    book = ledger(bike_standards(), LEDGER)
    client, slug = client_for(book.path)
    body = get(client, slug, "BackflushVariances")
    balance = re.search(r'id="bf-variance-balance">([^<]*)<', body).group(1)
    assert number(balance) == sum(book.money(a) for a in VARIANCE_ACCOUNTS)
    chart = charts_of(body)[0]
    assert chart["data"][0]["account_balances"]["Expenses:Variances:PurchasePrice"] == {"USD": 8.0}


def test_each_variance_figure_links_to_exactly_its_entries(ledger):
    book = ledger(bike_standards(), FAVA_LINE + MONTHS + LATER)
    client, slug = client_for(book.path)
    body = get(client, slug, "BackflushVariances")
    columns = {
        c.key: c
        for c in reports.variance_columns(
            __import__("beancount_backflush.plugin", fromlist=["x"]).standards_for(book.options)
        )
    }
    cells = links(
        body,
        r'data-column="([^"]+)" data-month="([^"]+)"><a href="([^"]+)">(.*?)</a></td>',
    )
    assert len(cells) >= 8
    for key, month, url, amount in cells:
        entries = selected(client, slug, url)
        assert entries and all(e.date.strftime("%Y-%m") == month for e in entries)
        assert all(e.meta.get("backflush") != "close" for e in entries)
        accounts = VARIANCE_ACCOUNTS if key == "total" else columns[key].accounts
        assert money_in(entries, accounts) == number(amount), (key, month, url)
    # By item: the STEEL purchase price variance is the STEEL purchase and re-priced receipt.
    rows = links(
        body,
        r'data-variance="([^"]+)" data-item="([^"]+)">.*?<td class="num"[^>]*><a href="([^"]+)">'
        r"(.*?)</a>",
    )
    assert ("purchase_price", "STEEL") in {(r[0], r[1]) for r in rows}
    for key, item, url, amount in rows:
        entries = selected(client, slug, url)
        assert money_in(entries, columns[key].accounts) == number(amount), (key, item)
    # A month of the matrix links to the month's variance entries.
    month_url = links(body, r'<td><a href="([^"]+)">2026-02</a></td>')[0][0]
    assert money_in(selected(client, slug, month_url), VARIANCE_ACCOUNTS) == Decimal("24.40")


def test_item_and_event_links_select_the_items_entries(ledger):
    book = ledger(bike_standards(), FAVA_LINE + MONTHS)
    client, slug = client_for(book.path)
    body = get(client, slug, "BackflushInventory")
    (url,) = links(body, r'<a href="([^"]+)" title="Journal of STEEL">STEEL</a>')[:1]
    entries = selected(client, slug, url[0])
    assert len(entries) == 4  # purchase, produce, count, the re-priced receipt
    assert all(
        e.meta.get("backflush_item") == "STEEL"
        or any(p.units.currency == "STEEL" for p in e.postings)
        for e in entries
    )
    sold = links(body, r'<td class="num"[^>]*><a href="([^"]+)">6</a></td>')
    (entry,) = selected(client, slug, sold[0][0])
    assert entry.meta["backflush"] == "sell" and entry.meta["backflush_item"] == "FRAME"


def test_footers_link_accounts_and_history_links_to_the_standards_file_in_fava_editor(ledger):
    book = ledger(bike_standards(), FAVA_LINE + MONTHS)
    client, slug = client_for(book.path)
    inventory = get(client, slug, "BackflushInventory")
    assert f'href="/{slug}/account/{RIP}/"' in inventory
    standards = get(client, slug, "BackflushStandards")
    history = links(standards, r'<a href="([^"]+)" title="Open ([^"]+) at line (\d+)')
    assert len(history) >= 3
    text = Path(history[0][1]).read_text().splitlines()
    for url, path, line in history:
        query = parse_qs(urlsplit(url).query)
        assert urlsplit(url).path == f"/{slug}/editor/"
        assert query["file_path"] == [path] and query["line"] == [line]
        assert path.endswith("standards.yaml")
    steel_2_70 = [int(line) for url, path, line in history if "line" in url]
    assert any("2026-07-01: 2.70" in text[n - 1] for n in steel_2_70)
    assert f'href="/{slug}/account/Expenses:Conversion:Labor/"' in standards
    assert "purchase, completion and sale" in standards


def test_every_table_downloads_as_csv(ledger):
    book = ledger(bike_standards(), FAVA_LINE + MONTHS)
    client, slug = client_for(book.path)
    for page in PAGES:
        body = get(client, slug, page)
        urls = links(body, r'<a class="bf-csv" href="([^"]+)" data-remote download')
        assert urls, page
        for (url,) in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert response.mimetype == "text/csv"
            assert "attachment" in response.headers["Content-Disposition"]
            assert next(csv.reader(io.StringIO(response.data.decode())))
    response = client.get(f"/{slug}/extension/BackflushInventory/csv?table=inventory")
    rows = list(csv.DictReader(io.StringIO(response.data.decode())))
    steel = next(r for r in rows if r["Item"] == "STEEL")
    assert (steel["Quantity"], steel["Value"], steel["Counted - book"]) == ("95", "237.50", "-5")
    total = sum(Decimal(r["Value"]) for r in rows)
    assert total == book.money(RIP) + book.money(FG)
    # The filters of the page apply to its CSV.
    response = client.get(f"/{slug}/extension/BackflushVariances/csv?table=matrix&time=2026-02")
    lines = response.data.decode().splitlines()
    assert lines[1].startswith("2026-02,2.00,12.50,0,9.90")
    assert client.get(f"/{slug}/extension/BackflushHealth/csv?table=nope").status_code == 404


def test_pages_say_what_the_account_filter_and_filter_bar_do(ledger):
    book = ledger(bike_standards(), FAVA_LINE + MONTHS)
    client, slug = client_for(book.path)
    body = get(client, slug, "BackflushInventory", f"?account={FG}")
    assert "Account filter" in body and "FinishedGoods" in body
    assert not re.search(r'data-sort-value="-\d', body)  # no negative stock
    total = re.search(r'id="bf-inventory-total">([^<]*)<', body).group(1)
    assert number(total) == Decimal("29.70")
    body = get(client, slug, "BackflushVariances", "?account=Expenses:Variances:PurchasePrice")
    assert "only the variances whose accounts it matches" in body
    assert re.search(r'id="bf-variance-arisen"><span[^>]*>10.00<', body)
    body = get(client, slug, "BackflushVariances", '?filter=invoice:"A-1"')
    assert "are those of the filtered entries only" in body
    assert re.search(r'id="bf-variance-arisen"><span[^>]*>10.00<', body)
    assert 'id="bf-variance-balance"' not in body
    assert "are not applied here" in get(client, slug, "BackflushHealth", "?filter=%23backflush")


def test_pages_survive_hand_written_entries_with_the_plugins_metadata_names(ledger):
    book = ledger(bike_standards(), FAVA_LINE + MALFORMED)
    client, slug = client_for(book.path)
    for page in PAGES:
        get(client, slug, page)
        for table in ("inventory", "matrix", "products", "months"):
            assert client.get(f"/{slug}/extension/{page}/csv?table={table}").status_code in (
                200,
                404,
            )


def test_user_text_is_escaped(ledger):
    # The unit of measure is user-written text that the inventory and standards pages show.
    standards = bike_standards().replace("unit: kg", "unit: \"<script>alert('kg')</script>\"")
    book = ledger(standards, LEDGER)
    assert book.errors == []
    client, slug = client_for(book.path)
    for page in ("BackflushInventory", "BackflushStandards"):
        body = get(client, slug, page)
        assert "<script>alert(" not in body
        assert "&lt;script&gt;alert(" in body


def test_pages_render_with_no_backflush_directives(ledger):
    book = ledger(
        bike_standards(),
        """
2026-01-01 custom "fava-extension" "beancount_backflush.fava"
2026-01-02 * "Coffee"
  Expenses:COGS  3.00 USD
  Assets:Bank
""",
    )
    client, slug = client_for(book.path)
    assert "No inventory held" in get(client, slug, "BackflushInventory")
    assert "No variances" in get(client, slug, "BackflushVariances")
    get(client, slug, "BackflushStandards")
    get(client, slug, "BackflushHealth")


def test_pages_render_on_an_empty_period(ledger):
    book = ledger(bike_standards(), LEDGER)
    client, slug = client_for(book.path)
    for page in PAGES:
        get(client, slug, page, "?time=2019")


@pytest.mark.parametrize("standards", ["materials: [", "currency: USD\n"])
def test_pages_render_when_the_standards_are_unusable(ledger, standards):
    book = ledger(standards, LEDGER)
    assert book.errors
    client, slug = client_for(book.path)
    for page in PAGES:
        assert "No usable backflush standards file" in get(client, slug, page)


# -- page weight: bounded, not growing with the ledger ------------------------------------------


def generated_ledger(folder: Path, days: int) -> Path:
    """The benchmark's generated ledger over ``days`` days, 10 directives a day."""
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import generate

    ledger, standards = generate(10 * days, per_day=10)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "standards.yaml").write_text(standards)
    path = folder / "ledger.beancount"
    path.write_text(ledger)
    return path


def csv_rows(client, slug: str, page: str, table: str) -> list[dict[str, str]]:
    response = client.get(f"/{slug}/extension/{page}/csv?table={table}")
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.data.decode())))


def table_of(body: str, table_id: str) -> str:
    return re.search(rf'<table[^>]* id="{table_id}".*?</table>', body, re.S).group(0)


def test_example_pages_stay_light_and_every_drill_down_link_resolves():
    client, slug = client_for(EXAMPLE)
    for page in PAGES:
        body = get(client, slug, page)
        assert len(body.encode()) <= 64 * 1024, (page, len(body))
        hrefs = re.findall(r'href="(#bf/[^"]*)"', body)
        assert hrefs or page == "BackflushHealth", page
        for href in hrefs:
            url = resolve(body, href)
            assert not re.search(r"\{\d\}", url), url
            assert urlsplit(url).path in (f"/{slug}/journal/", f"/{slug}/editor/"), url
        # One template per kind of link, never one URL per figure.
        assert len(link_table(body)) <= 24, page
        assert body.count(f"/{slug}/journal/") <= 2 * len(link_table(body)) + 1, page


@pytest.fixture(scope="module")
def long_ledger(tmp_path_factory) -> Path:
    return generated_ledger(tmp_path_factory.mktemp("long"), 800)  # 26 months


def test_month_tables_show_the_last_12_months_the_csv_every_month(long_ledger):
    assert MONTHS_SHOWN == 12
    client, slug = client_for(long_ledger)
    # Health: one row per month shown; the CSV has them all.
    months = [row["Month"] for row in csv_rows(client, slug, "BackflushHealth", "months")]
    assert len(months) > 24 and months == sorted(months)
    body = get(client, slug, "BackflushHealth")
    shown = re.findall(
        r'<td class="bf-month"><a [^>]*>(\d{4}-\d{2})</a>', table_of(body, "bf-health")
    )
    assert shown == months[-12:]
    assert f"The last 12 of the period’s {len(months)} months are shown" in body
    # Variances: the matrix's rows and the analysis's columns; the chart's bars.
    body = get(client, slug, "BackflushVariances")
    by_month = [
        row
        for row in csv_rows(client, slug, "BackflushVariances", "matrix")
        if re.fullmatch(r"\d{4}-\d{2}", row["Month"])
    ]
    matrix = [row["Month"] for row in by_month]
    assert len(matrix) > 24
    rows = re.findall(r"<tr>\s*<td><a [^>]*>(\d{4}-\d{2})</a></td>", table_of(body, "bf-variances"))
    assert rows == matrix[-12:]
    header = re.search(r"<thead>.*?</thead>", table_of(body, "bf-analysis"), re.S).group(0)
    assert re.findall(r"(\d{4}-\d{2})</th>", header) == matrix[-12:]
    (chart,) = charts_of(body)
    assert [bar["date"][:7] for bar in chart["data"]] == matrix[-12:]
    assert "last 12 months" in chart["label"]
    assert "the totals are the whole period’s" in body
    # The matrix's total is the whole period's: what the CSV adds up to.
    arisen = re.search(r'id="bf-variance-arisen">(.*?)</td>', body, re.S).group(1)
    csv_total = sum((Decimal(row["Total"]) for row in by_month), Decimal(0))
    assert number(arisen) == csv_total
    # Inventory: units made and sold by month; the month-end bars.
    body = get(client, slug, "BackflushInventory")
    flows = csv_rows(client, slug, "BackflushInventory", "product-months")
    every = sorted({row["Month"] for row in flows})
    assert len(every) > 24
    table = table_of(body, "bf-product-months")
    assert (
        sorted(set(re.findall(r'class="bf-month"><a [^>]*>(\d{4}-\d{2})<', table))) == every[-12:]
    )
    bars, line = charts_of(body)
    assert len(bars["data"]) == 12 and "last 12 months" in bars["label"]
    assert len(line["data"]) <= 180
    history = csv_rows(client, slug, "BackflushInventory", "history")
    assert len(history) > 24


def test_health_shows_the_warnings_of_the_months_it_shows_and_counts_the_others(long_ledger):
    client, slug = client_for(long_ledger)
    every = csv_rows(client, slug, "BackflushHealth", "warnings")
    months = [row["Month"] for row in csv_rows(client, slug, "BackflushHealth", "months")]
    shown = months[-12:]
    earlier = sorted({row["Month"] for row in every if row["Month"] and row["Month"] < shown[0]})
    # The 26-month ledger warns about months on both sides of the cut, and about the period.
    assert earlier and any(row["Month"] in shown for row in every)
    assert any(row["Month"] == "" for row in every)
    body = get(client, slug, "BackflushHealth")
    messages = re.search(r'<div id="bf-health-messages">(.*?)</div>', body, re.S).group(1)
    on_page = [html.unescape(w) for w in re.findall(r'role="alert">(.*?)</p>', messages)]
    assert on_page == [
        row["Warning"] for row in every if row["Month"] == "" or row["Month"] in shown
    ]
    note = re.search(r'id="bf-earlier-warnings">(.*?)</p>', messages, re.S).group(1)
    assert f"Warnings about {len(earlier)} earlier month" in note
    assert f"({earlier[0]}" in note and f"{earlier[-1]})" in note
    csv_link = re.search(r'href="([^"]*csv\?[^"]*)"', note).group(1)
    assert "table=warnings" in html.unescape(csv_link)
    # Fava's time filter on an earlier month shows that month's warnings, and no note.
    body = get(client, slug, "BackflushHealth", f"?time={earlier[0]}")
    assert 'id="bf-earlier-warnings"' not in body
    assert any(
        html.unescape(w).startswith(f"{earlier[0]}: ")
        for w in re.findall(r'role="alert">(.*?)</p>', body)
    )


def test_page_weight_does_not_grow_with_the_ledger(tmp_path, long_ledger):
    short = client_for(generated_ledger(tmp_path / "short", 400))  # 13 months
    long = client_for(long_ledger)  # 26 months
    for page in PAGES:
        small, large = (len(get(client, slug, page).encode()) for client, slug in (short, long))
        assert large <= 100 * 1024, (page, large)
        assert large <= small * 1.05 + 1024, (page, small, large)

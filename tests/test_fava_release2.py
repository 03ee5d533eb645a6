"""The Release 2 parts of the Fava pages: the price / efficiency / volume table (its figures
link to exactly the entries behind them), open backlog on Inventory and Health, driver
units on Standards."""

from __future__ import annotations

import re
from decimal import Decimal

from standards_bike import bike_standards
from test_conversion_variances import APRIL, webb_standards
from test_fava import FAVA_LINE, client_for, get, money_in, number, resolve, selected
from test_reports_release2 import BACKLOG

D = Decimal


def analysis_cells(body: str) -> dict[tuple[str, str, str], tuple[str, str]]:
    """(section, row kind, month) -> (link, figure) of the analysis table."""
    table = re.search(r'<table id="bf-analysis".*?</table>', body, re.S).group(0)
    cells = {}
    for section, rows in re.findall(r'<tbody data-section="([^"]+)">(.*?)</tbody>', table, re.S):
        for kind, row in re.findall(
            r'<tr class="[^"]*" data-kind="([^"]+)"[^>]*>(.*?)</tr>', rows, re.S
        ):
            for month, url, figure in re.findall(
                r'<td class="num" data-month="([^"]+)"[^>]*><a href="([^"]+)">(.*?)</a></td>',
                row,
                re.S,
            ):
                cells[(section, kind, month)] = (resolve(body, url), figure)
    return cells


def test_variances_page_shows_the_split_and_each_figure_links_to_its_entries(ledger):
    book = ledger(webb_standards(), FAVA_LINE + APRIL, opens=False)
    assert book.errors == []
    client, slug = client_for(book.path)
    body = get(client, slug, "BackflushVariances")
    assert 'id="bf-analysis"' in body
    cells = analysis_cells(body)
    expected = {
        ("pool:labor", "spending", "Expenses:Variances:Spending:Labor"): D("18000.00"),
        ("pool:labor", "efficiency", "Expenses:Variances:Efficiency:Labor"): D("20000.00"),
        ("pool:fixed_overhead", "volume", "Expenses:Variances:Volume:FixedOverhead"): D("46000.00"),
    }
    for (section, kind, account), amount in expected.items():
        url, figure = cells[(section, kind, "2026-04")]
        assert number(figure) == amount
        assert money_in(selected(client, slug, url), [account]) == amount
        url, figure = cells[(section, kind, "total")]
        assert number(figure) == amount
    # The under-allocation: what the entries behind it (payroll, the completion) put in the
    # pool, before the split moved it out.
    url, figure = cells[("pool:labor", "total", "2026-04")]
    assert number(figure) == D("38000.00")
    entries = [
        e for e in selected(client, slug, url) if e.meta.get("backflush") != "conversion-variances"
    ]
    assert money_in(entries, ["Expenses:Labor"]) == D("38000.00")
    # Shares with two decimals; the base in the row.
    labor = re.search(r'data-section="pool:labor">(.*?)</tbody>', body, re.S).group(1)
    assert "10.00&nbsp;%" in labor and "12.50&nbsp;%" in labor and "180000.00" in labor
    assert "16.67&nbsp;%" in body
    assert 'title="10.00 % of 180000.00 (actual hours at standard rate)"' in body
    # Actual hours link to the activity directive.
    actual = re.search(
        r'data-kind="actual"[^>]*>\s*<td>Actual hours</td>.*?href="([^"]+)"', labor, re.S
    ).group(1)
    (activity,) = [
        e for e in selected(client, slug, resolve(body, actual)) if "backflush" in e.meta
    ]
    assert activity.meta["backflush_pool"] == "labor"
    csv = client.get(f"/{slug}/extension/BackflushVariances/csv?table=analysis").data.decode()
    assert "Labor,Efficiency,20000.00,20000.00,0.1250,160000.00" in csv


def test_inventory_and_health_pages_list_open_backlog(ledger):
    book = ledger(bike_standards(negative_stock="backlog"), FAVA_LINE + BACKLOG)
    client, slug = client_for(book.path)
    body = get(client, slug, "BackflushInventory", "?time=2026-01")
    table = re.search(r'<table is="sortable-table" id="bf-backlog">.*?</table>', body, re.S)
    assert table is not None
    row = re.search(r'<tr data-item="STEEL">(.*?)</tr>', table.group(0), re.S).group(1)
    assert ">10<" in row and ">25.00<" in row and "2026-01-06" in row
    assert number(re.search(r'id="bf-backlog-total">([^<]*)<', body).group(1)) == D("25.00")
    assert 'id="bf-backlog"' not in get(client, slug, "BackflushInventory")  # cleared in Feb
    health = get(client, slug, "BackflushHealth")
    assert "2026-01: backlog open at the month end (2026-01-31): 10 kg STEEL (25.00 USD)" in health
    assert 'data-column="backlog"' in health
    csv = client.get(f"/{slug}/extension/BackflushInventory/csv?table=backlog&time=2026-01")
    assert "STEEL,10,kg,2.50,25.00,2026-01-06" in csv.data.decode()


def test_standards_page_shows_driver_units_times_rate(ledger):
    book = ledger(webb_standards(), FAVA_LINE + APRIL, opens=False)
    client, slug = client_for(book.path)
    body = get(client, slug, "BackflushStandards")
    row = re.search(r'<tr data-product="JACKET" data-pool="labor">(.*?)</tr>', body, re.S).group(1)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", row))
    assert "0.80" in text and "hours" in text and "× 20.00" in text and "= 16.00" in text
    assert 'title="0.80 hours x 20.00"' in body
    pools = re.search(r'<table id="bf-pools">.*?</table>', body, re.S).group(0)
    assert "fixed" in pools and "276000.00" in pools and "4,800 machine-hours" in pools

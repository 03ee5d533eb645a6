"""The Fava pages, through Fava's own Flask test client: each renders, its figures
reconcile with the ledger, user text is escaped, and odd ledgers get a clear message."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from fava.application import create_app
from standards_bike import FG, RIP, bike_standards

PAGES = ["BackflushInventory", "BackflushVariances", "BackflushStandards", "BackflushHealth"]
EXAMPLE = Path(__file__).resolve().parent.parent / "example-ledger" / "ledger.beancount"

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


def client_for(path: Path):
    app = create_app([str(path.resolve())], load=True)
    slug = list(app.config["LEDGERS"].ledgers_by_slug)[0]
    return app.test_client(), slug


def get(client, slug: str, page: str, query: str = "") -> str:
    response = client.get(f"/{slug}/extension/{page}/{query}")
    assert response.status_code == 200, page
    body = response.data.decode()
    assert "Traceback" not in body
    return body


def number(text: str) -> Decimal:
    return Decimal(text.replace(",", "").strip())


def test_every_page_renders_on_the_example_ledger():
    client, slug = client_for(EXAMPLE)
    for page in PAGES:
        body = get(client, slug, page)
        assert "<table" in body, page
    assert "<svg" in get(client, slug, "BackflushVariances")


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
    assert number(total) == Decimal("300.00")          # before any production


def test_variance_page_balance_matches_the_variance_accounts(ledger):
    book = ledger(bike_standards(), LEDGER)
    client, slug = client_for(book.path)
    body = get(client, slug, "BackflushVariances")
    balance = re.search(r'id="bf-variance-balance">([^<]*)<', body).group(1)
    accounts = ["Expenses:Variances:" + a for a in (
        "PurchasePrice", "MaterialUsage", "Shrinkage", "Scrap", "Revaluation", "Rounding")]
    accounts += ["Expenses:Conversion:Labor", "Expenses:Conversion:Labor:Allocated",
                 "Expenses:Conversion:Overhead", "Expenses:Conversion:Overhead:Allocated"]
    assert number(balance) == sum(book.money(a) for a in accounts)
    assert "<rect" in body


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
    book = ledger(bike_standards(), """
2026-01-01 custom "fava-extension" "beancount_backflush.fava"
2026-01-02 * "Coffee"
  Expenses:COGS  3.00 USD
  Assets:Bank
""")
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

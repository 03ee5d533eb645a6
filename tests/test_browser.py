"""A real browser (Debian's chromium, driven by playwright) on Fava serving the example.

Each report page, at desktop and phone width, in Fava's light and dark schemes (Fava follows
``prefers-color-scheme``): no JavaScript errors, Fava's own components rendered (charts,
sortable tables, the BOM tree table), nothing wider than a phone's screen except inside a
scrolling wrapper, red and green figures readable (contrast 4.5:1 or more). Screenshots are
saved under build/screenshots/<page>-<desktop|phone>-<light|dark>.png.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example-ledger" / "ledger.beancount"
BREWERY = ROOT / "example-brewery" / "ledger.beancount"
SHOTS = ROOT / "build" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
PAGES = {
    "BackflushInventory": ["#bf-inventory", "#bf-inventory-chart svg rect", "#bf-products"],
    "BackflushVariances": ["#bf-variances", "#bf-variance-chart svg rect", "#bf-by-item"],
    "BackflushStandards": ["#bf-standards", "#bf-bom li", "#bf-history"],
    "BackflushHealth": ["#bf-health", "#bf-counts"],
}
# The brewery's pages: Variances with the price / efficiency / volume table; Inventory and
# Health in the middle of March, when 6 kg of hops are owed to the stock (open backlog).
BREWERY_PAGES = {
    "BackflushVariances/": ["#bf-variances", "#bf-analysis", "#bf-variance-chart svg rect"],
    "BackflushInventory/?time=2026-03-01+-+2026-03-19": ["#bf-inventory", "#bf-backlog"],
    "BackflushHealth/?time=2026-03-01+-+2026-03-19": ["#bf-health", "#bf-health-messages"],
    "BackflushStandards/": ["#bf-standards", "#bf-drivers", "#bf-pools"],
}
WIDE_TABLES = {"bf-variances", "bf-analysis"}
SIZES = {"desktop": (1400, 1000), "phone": (390, 844)}
SCHEMES = ("light", "dark")
BREWERY_CASES = [(page, size) for page in BREWERY_PAGES for size in SIZES]

pytestmark = pytest.mark.browser
if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def fava_url():
    yield from serve(EXAMPLE)


@pytest.fixture(scope="module")
def brewery_url():
    yield from serve(BREWERY)


def serve(ledger: Path):
    """Fava on a free port serving ``ledger``; yields the ledger's base URL."""
    port = free_port()
    fava = shutil.which("fava", path=str(Path(sys.executable).parent)) or "fava"
    process = subprocess.Popen(
        [fava, "--host", "127.0.0.1", "--port", str(port), str(ledger)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                with urllib.request.urlopen(url + "/", timeout=1) as response:
                    if response.status == 200:
                        slug = response.url.rstrip("/").split("/")[-2]
                        break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("fava did not start")
        yield f"{url}/{slug}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--headless",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


# Contrast of every red/green figure against the background it is drawn on (WCAG formula).
CONTRAST_JS = """
() => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
    }
    return rgb(getComputedStyle(document.body).backgroundColor).slice(0, 3);
  };
  const worst = [];
  for (const el of document.querySelectorAll('.bf-unfavourable, .bf-favourable')) {
    if (!el.offsetParent) continue;
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    worst.push([ratio, el.className, el.textContent.trim()]);
  }
  worst.sort((x, y) => x[0] - y[0]);
  return worst.slice(0, 3);
}
"""

# Elements that stick out of the viewport and are not inside a scrolling wrapper.
OVERFLOW_JS = """
() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  const selector = 'article .bf table, article .bf ol.tree-table, article .bf p, ' +
    'article .bf h3, article svelte-component';
  for (const el of document.querySelectorAll(selector)) {
    if (!el.offsetParent || el.closest('.bf-scroll')) continue;
    const r = el.getBoundingClientRect();
    if (r.right > width + 1) out.push([el.tagName, el.id || el.className, Math.round(r.right)]);
  }
  const scrolling = [];
  for (const el of document.querySelectorAll('article .bf-scroll')) {
    const r = el.getBoundingClientRect();
    if (r.right > width + 1) out.push(['wrapper', el.firstElementChild.id, Math.round(r.right)]);
    if (el.scrollWidth > el.clientWidth + 1) scrolling.push(el.firstElementChild.id);
  }
  return {out, scrolling, page: document.documentElement.scrollWidth, width};
}
"""


def open_page(browser, url: str, size: str, scheme: str):
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, wait_until="networkidle")
    return context, page, errors


def screenshot(page, name: str) -> None:
    """The whole page: Fava scrolls its <article>, so grow the viewport to fit it first."""
    height = page.evaluate(
        "Math.max(document.documentElement.scrollHeight,"
        " document.querySelector('article').scrollHeight + 60)"
    )
    width = page.viewport_size["width"]
    page.set_viewport_size({"width": width, "height": min(int(height), 8000)})
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("page_name", list(PAGES))
def test_page_in_a_real_browser(fava_url, browser, page_name, size, scheme):
    context, page, errors = open_page(browser, f"{fava_url}/extension/{page_name}/", size, scheme)
    try:
        for selector in PAGES[page_name]:
            page.wait_for_selector(selector, state="attached", timeout=10_000)
        assert page.locator("svelte-component.error").count() == 0
        dark = page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
        assert dark == (scheme == "dark")
        contrast = page.evaluate(CONTRAST_JS)
        assert all(ratio >= 4.5 for ratio, _, _ in contrast), contrast
        layout = page.evaluate(OVERFLOW_JS)
        assert layout["out"] == [], layout
        assert layout["page"] <= layout["width"] + 1, layout
        # Only the month x variance tables may need a sideways scroll (their first column
        # stays).
        assert set(layout["scrolling"]) <= WIDE_TABLES, layout
        screenshot(page, f"{page_name}-{size}-{scheme}.png")
    finally:
        context.close()
    assert errors == []


def test_inventory_table_fits_a_phone_without_scrolling(fava_url, browser):
    context, page, _ = open_page(
        browser, f"{fava_url}/extension/BackflushInventory/", "phone", "light"
    )
    try:
        page.wait_for_selector("#bf-inventory")
        box = page.locator("#bf-inventory").bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390, box
    finally:
        context.close()


def test_fava_components_work(fava_url, browser):
    """Sorting a table, opening the BOM tree, the chart's tooltip, a drill-down link."""
    context, page, errors = open_page(
        browser, f"{fava_url}/extension/BackflushInventory/", "desktop", "light"
    )
    try:
        values = "#bf-inventory tbody tr td:nth-child(6)"
        header = page.locator("#bf-inventory th", has_text="Value")
        header.click()
        header.click()  # descending
        numbers = [
            float(v or 0)
            for v in page.locator(values).evaluate_all(
                "cells => cells.map(c => c.getAttribute('data-sort-value'))"
            )
        ]
        assert numbers == sorted(numbers, reverse=True) and len(numbers) > 3
        page.locator("#bf-inventory-chart svg .stacks rect").first.hover(force=True)
        page.wait_for_function("document.body.innerText.includes('Assets:Inventory')")

        page.goto(f"{fava_url}/extension/BackflushStandards/", wait_until="networkidle")
        row = page.locator("#bf-bom > li").nth(1)
        assert page.locator("#bf-bom > li:nth-child(2) > ol").is_visible()
        row.locator("span.has-children").first.click(position={"x": 2, "y": 5})
        assert "toggled" in (row.get_attribute("class") or "")
        assert not page.locator("#bf-bom > li:nth-child(2) > ol").is_visible()

        page.goto(f"{fava_url}/extension/BackflushVariances/", wait_until="networkidle")
        page.locator("#bf-variances tbody a").nth(1).click()
        page.wait_for_url("**/journal/**")
        page.wait_for_selector(".journal")
        assert "filter=" in page.url and "date" in page.url
        assert page.locator(".journal .transaction").count() >= 1
    finally:
        context.close()
    assert errors == []


# Point at every drill-down link of the page: the URL each one gets.
FILL_LINKS_JS = """
() => [...document.querySelectorAll('a[href^="#bf/"]')].map((a) => {
  const href = a.getAttribute('href');
  a.dispatchEvent(new PointerEvent('pointerover', {bubbles: true}));
  return [href, a.href];
})
"""


@pytest.mark.parametrize("page_name", list(PAGES))
def test_drill_down_links_get_the_url_of_their_template(fava_url, browser, page_name):
    """Each ``#bf/...`` link, pointed at, gets the URL of its template: the one the Flask tests
    follow (their expansion in Python), and nothing is left of the placeholders."""
    from beancount_backflush.fava._base import expand_link

    url = f"{fava_url}/extension/{page_name}/?time=2026"
    context, page, errors = open_page(browser, url, "desktop", "light")
    try:
        table = json.loads(page.locator(".bf-links").text_content() or "[]")
        filled = page.evaluate(FILL_LINKS_JS)
        assert filled or page_name == "BackflushHealth"
        for href, got in filled:
            want = urlsplit(expand_link(table, href))
            assert urlsplit(got).path == want.path, href
            assert parse_qs(urlsplit(got).query) == parse_qs(want.query), href
            assert "time=2026" in got or "time=&" in got or got.endswith("time="), got
    finally:
        context.close()
    assert errors == []


def test_a_drill_down_link_opens_from_the_keyboard(fava_url, browser):
    """Focused and activated with Enter (never pointed at): Fava's journal opens in the page."""
    context, page, errors = open_page(
        browser, f"{fava_url}/extension/BackflushInventory/", "desktop", "light"
    )
    try:
        link = page.locator('#bf-products a[href^="#bf/"]').first
        link.focus()
        page.keyboard.press("Enter")
        page.wait_for_url("**/journal/**")
        page.wait_for_selector(".journal")
        assert "backflush_item" in unquote(page.url)
        assert page.locator(".journal .transaction").count() >= 1
    finally:
        context.close()
    assert errors == []


def check_page(page, selectors: list[str]) -> None:
    """Fava's components rendered, figures readable, nothing wider than the screen."""
    for selector in selectors:
        page.wait_for_selector(selector, state="attached", timeout=10_000)
    assert page.locator("svelte-component.error").count() == 0
    contrast = page.evaluate(CONTRAST_JS)
    assert all(ratio >= 4.5 for ratio, _, _ in contrast), contrast
    layout = page.evaluate(OVERFLOW_JS)
    assert layout["out"] == [], layout
    assert layout["page"] <= layout["width"] + 1, layout
    assert set(layout["scrolling"]) <= WIDE_TABLES, layout


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize(("page_path", "size"), BREWERY_CASES)
def test_brewery_page_in_a_real_browser(brewery_url, browser, page_path, size, scheme):
    context, page, errors = open_page(browser, f"{brewery_url}/extension/{page_path}", size, scheme)
    try:
        try:
            check_page(page, BREWERY_PAGES[page_path])
        finally:
            name = page_path.split("/")[0]
            screenshot(page, f"brewery-{name}-{size}-{scheme}.png")
    finally:
        context.close()
    assert errors == []


def test_brewery_planned_losses_spent_grain_and_parti_gyle_are_visible(brewery_url, browser):
    """Standards: the planned-loss column, the by-product line, the co-products' rows;
    Inventory at the end of March: the parti-gyle's kegs, the spent grain sold."""
    context, page, errors = open_page(
        browser, f"{brewery_url}/extension/BackflushStandards/", "desktop", "light"
    )
    try:
        page.wait_for_selector("#bf-bom li")
        header = page.locator("#bf-standards thead").inner_text()
        assert "Planned loss" in header
        rows = {
            text.split()[0]: text.split()
            for text in page.locator("#bf-standards tbody tr").all_inner_texts()
        }
        # LAGER 85.57, of which 8.815 planned loss (shown to the cent); the co-products at
        # 0.7 and 0.3 x 2,086.00 / 10.
        assert rows["LAGER"][1:] == ["85.57", "18.07", "45.00", "22.50", "8.82"]
        assert rows["PARTI_GYLE"][-5:] == ["2086.00", "736.00", "900.00", "450.00", "11.00"]
        assert rows["STRONG_ALE"][-5:] == ["146.02", "51.52", "63.00", "31.50", "0.77"]
        assert rows["SMALL_BEER"][-5:] == ["62.58", "22.08", "27.00", "13.50", "0.33"]
        lager = page.locator("#bf-bom > li").filter(has=page.locator('[data-bom-path="LAGER"]'))
        grain = lager.locator("li", has_text="SPENT_GRAIN").first.inner_text().split()
        assert grain == ["SPENT_GRAIN", "by-product", "-12", "kg", "0.05", "-0.60"]  # 12 x 0.05
        # Per good keg: 9 kg x 1.02 (2 % milling loss) / 0.9 (the yield) = 10.2 kg x 1.10.
        malt = lager.locator("li", has_text="MALT").first.inner_text().split()
        assert malt == ["MALT", "material", "+2", "%", "scrap", "10.2", "kg", "1.10", "11.22"]
        assert "yield 90 %" in lager.locator('[data-bom-path="LAGER"]').inner_text()
        parti = page.locator("#bf-bom > li").filter(
            has=page.locator('[data-bom-path="PARTI_GYLE"]')
        )
        assert parti.locator("li", has_text="MALT").first.inner_text().split()[5:7] == [
            "510",
            "kg",
        ]
        # 12.265 of IPA's standard is planned loss: 12.27 half-up, as the engine rounds.
        assert rows["IPA"][-1] == "12.27"
        used = {
            text.split("\t")[0].strip(): text.split("\t")[-1].strip()
            for text in page.locator("#bf-where-used tbody tr").all_inner_texts()
        }
        assert used["SPENT_GRAIN"] == (
            "IPA (by-product), LAGER (by-product), PARTI_GYLE (by-product)"
        )
        assert used["STRONG_ALE"] == "PARTI_GYLE (co-product)"

        page.goto(f"{brewery_url}/extension/BackflushInventory/", wait_until="networkidle")
        page.wait_for_selector("#bf-products")
        stock = {
            tuple(text.split()[1:2]): text.split()
            for text in page.locator("#bf-inventory tbody tr").all_inner_texts()
        }
        strong, small = stock[("STRONG_ALE",)], stock[("SMALL_BEER",)]
        assert strong[2] == "7" and strong[4:6] == ["146.02", "1022.14"]  # 7 x 146.02
        assert small[2] == "2" and small[4:6] == ["62.58", "125.16"]  # 2 x 62.58
        assert ("SPENT_GRAIN",) not in stock  # all of it sold to the farmer
        sold = {
            text.split()[0]: text.split()[1:]
            for text in page.locator("#bf-products tbody tr").all_inner_texts()
        }
        assert sold["SPENT_GRAIN"] == ["8,880", "444.00", "444.00"]  # 8,880 kg x 0.05
        # The parti-gyle is a process: its one brew made 10 kegs of each co-product.
        assert sold["STRONG_ALE"][:3] == ["10", "3", "780.00"]
        assert sold["SMALL_BEER"][:2] == ["10", "8"]
        assert "PARTI_GYLE" not in sold
        hops = stock[("HOPS",)]
        assert hops[2:4] == ["3", "kg"]  # 3 kg, not 3.0
    finally:
        context.close()
    assert errors == []


def test_brewery_variance_split_backlog_and_warning_are_visible(brewery_url, browser):
    """On a phone: the split's figures and shares, the open backlog, the Health warning."""
    context, page, errors = open_page(
        browser, f"{brewery_url}/extension/BackflushVariances/", "phone", "light"
    )
    try:
        labor = page.locator('#bf-analysis tbody[data-section="pool:brewing_labor"]')
        spending = labor.locator('tr[data-kind="spending"]')
        assert spending.locator('td[data-month="2026-01"]').inner_text() == "330.00"
        assert "1.61" in spending.locator("td[data-share]").inner_text()
        volume = page.locator(
            '#bf-analysis tbody[data-section="pool:fixed_overhead"] tr[data-kind="volume"]'
        )
        assert volume.locator('td[data-month="2026-01"]').inner_text() == "1350.00"
        # The first column stays in view while the months scroll sideways.
        wrapper = page.locator("#bf-analysis").locator("xpath=..")
        wrapper.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
        box = labor.locator('tr[data-kind="spending"] td').first.bounding_box()
        assert box is not None and box["x"] >= 0, box
        page.goto(
            f"{brewery_url}/extension/BackflushInventory/?time=2026-03-01+-+2026-03-19",
            wait_until="networkidle",
        )
        row = page.locator('#bf-backlog tr[data-item="HOPS"]')
        assert row.is_visible() and "168.00" in row.inner_text()
        page.goto(
            f"{brewery_url}/extension/BackflushHealth/?time=2026-03-01+-+2026-03-19",
            wait_until="networkidle",
        )
        warning = page.locator("#bf-health-messages .bf-warning").first
        assert warning.is_visible() and "6 kg HOPS (168.00 USD)" in warning.inner_text()
        page.goto(f"{brewery_url}/extension/BackflushHealth/", wait_until="networkidle")
        assert page.locator("#bf-health-messages .bf-warning").count() == 0
    finally:
        context.close()
    assert errors == []

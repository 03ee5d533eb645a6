"""A real browser (Debian's chromium, driven by playwright) on Fava serving the example.

Checks each report page has no JavaScript console errors and shows its tables (and the
variances chart), and saves screenshots under build/screenshots/.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example-ledger" / "ledger.beancount"
SHOTS = ROOT / "build" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
PAGES = {
    "BackflushInventory": ["#bf-inventory"],
    "BackflushVariances": ["#bf-variances", "#bf-variance-chart rect"],
    "BackflushStandards": ["#bf-standards", "#bf-history"],
    "BackflushHealth": ["#bf-health"],
}

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
if not os.path.exists(CHROMIUM):
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)",
                allow_module_level=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def fava_url():
    port = free_port()
    fava = shutil.which("fava", path=str(Path(sys.executable).parent)) or "fava"
    process = subprocess.Popen([fava, "--host", "127.0.0.1", "--port", str(port), str(EXAMPLE)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                with urllib.request.urlopen(url + "/", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("fava did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield browser
        browser.close()


@pytest.mark.parametrize("page_name", list(PAGES))
def test_page_in_a_real_browser(fava_url, browser, page_name):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console_errors.append(str(e)))
    with urllib.request.urlopen(fava_url + "/", timeout=5) as response:
        slug = response.url.rstrip("/").split("/")[-2]
    page.goto(f"{fava_url}/{slug}/extension/{page_name}/", wait_until="networkidle")
    for selector in PAGES[page_name]:
        page.wait_for_selector(selector, timeout=10_000)
        assert page.locator(selector).count() >= 1, selector
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{page_name}.png"), full_page=True)
    page.close()
    assert console_errors == []

"""bean-backflush init: a starter ledger that passes bean-check, never over anything."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from beancount import loader
from beancount.core import data
from test_tools_common import run_cli

from beancount_backflush import scaffold

D = Decimal
BIN = Path(sys.executable).parent


def _balance(entries: list[data.Directive], account: str, currency: str) -> Decimal:
    return sum(
        (
            p.units.number
            for e in entries
            if isinstance(e, data.Transaction)
            for p in e.postings
            if p.account == account and p.units.currency == currency
        ),
        D(0),
    )


def test_starter_ledger_loads_without_errors_and_with_the_worked_figures(tmp_path):
    target = tmp_path / "books"
    status, out, err = run_cli("init", str(target), "--month", "2026-01")
    assert status == 0, err
    assert f"wrote {target / 'ledger.beancount'}" in out
    assert f"wrote {target / 'standards.yaml'}" in out
    text = (target / "ledger.beancount").read_text()
    assert 'plugin "beancount_backflush" "standards.yaml"' in text
    assert '2026-01-01 custom "fava-extension" "beancount_backflush.fava"' in text
    for event in ('"purchase"', '"produce"', '"sell"', '"count"', '"close" 46.00 USD'):
        assert event in text
    entries, errors, options = loader.load_file(str(target / "ledger.beancount"))
    assert errors == []
    # every account the plugin posts to is opened by hand, none by auto_open
    opened = {e.account for e in entries if isinstance(e, data.Open)}
    used = {p.account for e in entries if isinstance(e, data.Transaction) for p in e.postings}
    assert used <= opened
    assert all(e.meta["filename"].endswith("ledger.beancount") for e in entries
               if isinstance(e, data.Open))  # fmt: skip
    # hand-worked (see beancount_backflush/scaffold.py): 20 ROAST at 10.20 in stock,
    # COGS 100 x 10.20 + 46.00 disposed by the close
    assert _balance(entries, "Assets:Inventory:FinishedGoods", "ROAST") == 20
    assert _balance(entries, "Expenses:COGS", "USD") == D("1066.00")
    assert _balance(entries, "Assets:Inventory:RawInProcess", "BEANS") == 48
    assert _balance(entries, "Income:Sales", "USD") == D("-2400.00")
    for variance in ("PurchasePrice", "MaterialUsage"):
        assert _balance(entries, f"Expenses:Variances:{variance}", "USD") == 0


def test_starter_ledger_passes_bean_check_and_check(tmp_path):
    target = tmp_path / "new"
    assert run_cli("init", str(target), "--month", "2025-11")[0] == 0
    env = {**os.environ, "BEANCOUNT_DISABLE_LOAD_CACHE": "1"}
    result = subprocess.run(
        [str(BIN / "bean-check"), str(target / "ledger.beancount")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    status, out, err = run_cli(
        "check", str(target / "ledger.beancount"), "--max-days-since-count", "31",
        "--max-uninventoried", "5%",
    )  # fmt: skip
    assert (status, out, err) == (0, "", "")


def test_never_overwrites(tmp_path):
    target = tmp_path / "books"
    target.mkdir()
    (target / "ledger.beancount").write_text("; mine\n")
    status, out, err = run_cli("init", str(target), "--month", "2026-01")
    assert status == 2 and out == ""
    assert "ledger.beancount: already exists; init never overwrites (nothing written)" in err
    assert (target / "ledger.beancount").read_text() == "; mine\n"
    assert not (target / "standards.yaml").exists()
    (target / "ledger.beancount").unlink()
    (target / "standards.yaml").write_text("# mine\n")
    assert run_cli("init", str(target))[0] == 2
    assert not (target / "ledger.beancount").exists()
    assert (target / "standards.yaml").read_text() == "# mine\n"


def test_default_month_is_the_last_complete_month():
    assert scaffold.default_month(datetime.date(2026, 3, 15)) == datetime.date(2026, 2, 1)
    assert scaffold.default_month(datetime.date(2026, 1, 1)) == datetime.date(2025, 12, 1)
    text = scaffold.ledger_text(datetime.date(2024, 2, 1))
    assert '2024-02-29 custom "backflush" "close" 46.00 USD' in text  # a leap year's end
    assert "2024-03-01 balance Assets:Inventory:FinishedGoods   20 ROAST" in text


def test_bad_month_and_a_file_in_the_way(tmp_path):
    status, _, err = run_cli("init", str(tmp_path / "x"), "--month", "2026-13")
    assert status == 2 and "not a month (YYYY-MM): '2026-13'" in err
    blocker = tmp_path / "file"
    blocker.write_text("")
    status, _, err = run_cli("init", str(blocker))
    assert status == 2 and "exists and is not a directory" in err


def test_every_trigger_variant_of_the_starter_loads(tmp_path):
    """Every account a variant needs is already open: switching triggers in the starter's
    standards file gives no error but the count of a material under [completion, sale]."""
    for triggers in ("[purchase, sale]", "[completion, sale]"):
        target = tmp_path / triggers.strip("[]").replace(", ", "-")
        assert run_cli("init", str(target), "--month", "2026-01")[0] == 0
        standards = target / "standards.yaml"
        standards.write_text(
            standards.read_text()
            .replace("triggers: [purchase, completion, sale]", f"triggers: {triggers}")
            .replace("warn_uninventoried: 0.05", "warn_uninventoried: 10")
        )
        ledger = target / "ledger.beancount"
        ledger.write_text(ledger.read_text().replace('"close" 46.00 USD', '"close"'))
        _, errors, _ = loader.load_file(str(ledger))
        messages = [e.message for e in errors]
        unexpected = [
            m
            for m in messages
            if "not possible with triggers" not in m and "Balance failed" not in m
        ]
        assert unexpected == [], triggers

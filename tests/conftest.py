"""Helpers: load a ledger + standards written inline in a test, read balances back."""

from __future__ import annotations

import os
import textwrap
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from beancount import loader
from beancount.core import data
from hypothesis import HealthCheck, settings

os.environ.setdefault("BEANCOUNT_DISABLE_LOAD_CACHE", "1")

# Hypothesis: CI runs the "ci" profile; HYPOTHESIS_PROFILE=thorough for long runs
# (docs/testing.md).
settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "thorough",
    max_examples=10_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

OPEN_ACCOUNTS = """
2020-01-01 open Assets:Inventory:RawInProcess
2020-01-01 open Assets:Inventory:RawInProcess:Adjustment
2020-01-01 open Assets:Inventory:FinishedGoods
2020-01-01 open Assets:Inventory:FinishedGoods:Adjustment
2020-01-01 open Expenses:Materials:Clearing
2020-01-01 open Expenses:COGS
2020-01-01 open Liabilities:AccountsPayable
2020-01-01 open Liabilities:Wages
2020-01-01 open Assets:AccountsReceivable
2020-01-01 open Assets:Bank
2020-01-01 open Income:Sales
2020-01-01 open Expenses:Variances:PurchasePrice
2020-01-01 open Expenses:Variances:MaterialUsage
2020-01-01 open Expenses:Variances:Shrinkage
2020-01-01 open Expenses:Variances:Scrap
2020-01-01 open Expenses:Variances:Revaluation
2020-01-01 open Expenses:Variances:Rounding
2020-01-01 open Liabilities:Backflush:Backlog
2020-01-01 open Expenses:Conversion
2020-01-01 open Expenses:Conversion:Allocated
2020-01-01 open Expenses:Conversion:Labor
2020-01-01 open Expenses:Conversion:Labor:Allocated
2020-01-01 open Expenses:Conversion:Overhead
2020-01-01 open Expenses:Conversion:Overhead:Allocated
"""


class Book:
    """A loaded ledger with accounting accessors."""

    def __init__(self, entries: list[data.Directive], errors: list[Any], options: dict[str, Any],
                 path: Path):
        self.entries, self.errors, self.options, self.path = entries, errors, options, path

    def money(self, account: str, currency: str = "USD") -> Decimal:
        """Book value of an account (units at cost for lots; cash postings as they are)."""
        total = Decimal(0)
        for entry in self.transactions():
            for p in entry.postings:
                if p.account == account:
                    if p.cost is not None:
                        total += p.units.number * p.cost.number
                    elif p.units.currency == currency:
                        total += p.units.number
        return total

    def units(self, account: str, item: str) -> Decimal:
        return sum((p.units.number for e in self.transactions() for p in e.postings
                    if p.account == account and p.units.currency == item), Decimal(0))

    def transactions(self) -> list[data.Transaction]:
        return [e for e in self.entries if isinstance(e, data.Transaction)]

    def generated(self, event: str | None = None) -> list[data.Transaction]:
        return [e for e in self.transactions() if "backflush" in e.meta
                and (event is None or e.meta["backflush"] == event)]

    def lots(self, account: str) -> dict[tuple[str, Any], Decimal]:
        lots: dict[tuple[str, Any], Decimal] = defaultdict(Decimal)
        for e in self.transactions():
            for p in e.postings:
                if p.account == account and p.cost is not None:
                    lots[(p.units.currency, p.cost)] += p.units.number
        return {k: v for k, v in lots.items() if v}

    def messages(self) -> list[str]:
        return [e.message for e in self.errors]


@pytest.fixture
def ledger(tmp_path: Path):
    """ledger(standards_yaml, ledger_text, opens=True) -> Book, loaded through the plugin."""

    def load(standards: str, text: str, opens: bool = True,
             plugin_config: str = "standards.yaml") -> Book:
        (tmp_path / "standards.yaml").write_text(textwrap.dedent(standards))
        body = textwrap.dedent(text)
        source = f'plugin "beancount_backflush" "{plugin_config}"\n' + \
            (OPEN_ACCOUNTS if opens else "") + body
        path = tmp_path / "ledger.beancount"
        path.write_text(source)
        entries, errors, options = loader.load_file(str(path))
        return Book(entries, errors, options, path)

    return load


def line_of(path: Path, needle: str) -> int:
    """1-based line number of the first line containing ``needle``."""
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")

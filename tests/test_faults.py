"""Fault injection: a bug inside the plugin never crashes the load nor loses the ledger.

A fault in one event's posting is reported at that directive and the other events still
post. A fault in the plugin as a whole returns the ledger unchanged with one located error
(never Beancount's own ``<load>:0: Error applying plugin``) and a short hint to report it.
"""

from __future__ import annotations

import dataclasses
import gc
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from beancount.core import data
from conftest import OPEN_ACCOUNTS, line_of
from standards_bike import COGS, FG, RIP, bike_standards

from beancount_backflush import book as book_module
from beancount_backflush import closing, engine, eventtable, plugin, repricing, standards


def break_handler(monkeypatch, event: str, handler) -> None:
    """Make one event's handler in the event table raise."""
    spec = eventtable.EVENT_TYPES[event]
    monkeypatch.setitem(eventtable.EVENT_TYPES, event, dataclasses.replace(spec, handler=handler))

D = Decimal

LEDGER = """
2026-01-05 custom "backflush" "purchase" 100 STEEL 260.00 USD
2026-01-05 custom "backflush" "purchase" 1000 BOLT 48.00 USD
2026-01-06 custom "backflush" "produce" 10 FRAME
2026-01-08 custom "backflush" "sell" 4 FRAME 200.00 USD
2026-01-10 * "Payroll"
  Expenses:Conversion:Labor  70.00 USD
  Liabilities:Wages
"""


class Boom(RuntimeError):
    pass


def boom(*args, **kwargs):
    raise Boom("injected fault")


def without_plugin(book_path: Path) -> list[data.Directive]:
    """The same ledger loaded with the plugin line removed."""
    text = book_path.read_text().replace('plugin "beancount_backflush"', '; plugin "x"')
    entries, errors, _ = loader.load_string(text)
    assert errors == []
    return entries


def assert_located(error, book) -> None:
    filename = error.source["filename"]
    assert filename in (str(book.path), str(book.path.parent / "standards.yaml")), filename
    assert not filename.startswith("<")
    assert error.source["lineno"] >= 1
    assert len(error.message) < 400, error.message
    assert "report" in error.message


def assert_whole_plugin_fault(book) -> None:
    assert len(book.errors) == 1, book.messages()
    (error,) = book.errors
    assert_located(error, book)
    assert "posted nothing" in error.message
    assert not any("Error applying plugin" in m for m in book.messages())
    # The entries come back as the ledger has them: no backflush posting, nothing lost.
    assert book.generated() == []
    plain = [e for e in without_plugin(book.path) if not isinstance(e, data.Custom)]
    mine = [e for e in book.entries if not isinstance(e, data.Custom)]
    assert [(type(e).__name__, e.meta["lineno"]) for e in mine] == [
        (type(e).__name__, e.meta["lineno"]) for e in plain
    ]
    assert book.money("Expenses:Conversion:Labor") == D("70.00")
    assert gc.isenabled()


# -- one event ---------------------------------------------------------------------------------


def test_fault_in_one_event_is_reported_there_and_the_others_post(ledger, monkeypatch):
    break_handler(monkeypatch, "produce", boom)
    book = ledger(bike_standards(), LEDGER)
    assert len(book.errors) == 2, book.messages()  # the produce, and the sale it starved
    produce, sell = book.errors
    assert produce.source["lineno"] == line_of(book.path, '"produce" 10 FRAME')
    assert 'internal error while posting "produce"' in produce.message
    assert "Boom: injected fault" in produce.message
    assert_located(produce, book)
    assert sell.source["lineno"] == line_of(book.path, '"sell" 4 FRAME')
    assert "not enough stock" in sell.message
    # The purchases still post; nothing of the produce is half-posted.
    assert book.units(RIP, "STEEL") == 100 and book.units(RIP, "BOLT") == 1000
    assert book.units(FG, "FRAME") == 0
    assert len(book.generated("purchase")) == 2 and book.generated("produce") == []


def test_fault_in_one_sale_leaves_production_posted(ledger, monkeypatch):
    break_handler(monkeypatch, "sell", boom)
    book = ledger(bike_standards(), LEDGER)
    (error,) = book.errors
    assert error.source["lineno"] == line_of(book.path, '"sell" 4 FRAME')
    assert_located(error, book)
    assert book.units(FG, "FRAME") == 10
    assert book.money(COGS) == 0


def test_fault_in_the_standard_cost_lookup(ledger, monkeypatch):
    monkeypatch.setattr(standards.Standards, "rollup", boom)
    book = ledger(bike_standards(), '2026-01-05 custom "backflush" "purchase" 1 BOLT 0.05 USD\n')
    (error,) = book.errors
    assert error.source["lineno"] == line_of(book.path, '"purchase" 1 BOLT')
    assert 'internal error while posting "purchase"' in error.message
    assert_located(error, book)


def test_fault_in_an_explicit_close(ledger, monkeypatch):
    monkeypatch.setattr(closing, "close", boom)
    book = ledger(bike_standards(), LEDGER + '2026-01-31 custom "backflush" "close"\n')
    (error,) = book.errors
    assert error.source["lineno"] == line_of(book.path, '"close"')
    assert_located(error, book)
    assert book.money(COGS) == D("39.60")  # 4 FRAME x 9.90, no disposal


def test_a_very_long_fault_message_is_cut_short(ledger, monkeypatch):
    def long_boom(*args, **kwargs):
        raise Boom("x" * 10_000)

    break_handler(monkeypatch, "purchase", long_boom)
    book = ledger(bike_standards(), '2026-01-05 custom "backflush" "purchase" 1 BOLT 0.05 USD\n')
    (error,) = book.errors
    assert_located(error, book)


# -- the whole plugin --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target, name",
    [
        (engine, "run"),
        (repricing, "observe_user"),
        (book_module.Book, "__init__"),
        (engine, "open_missing_accounts"),
        (plugin, "load_standards"),
        (plugin, "standards_path"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_whole_plugin_fault_returns_the_ledger_unchanged(ledger, monkeypatch, target, name):
    monkeypatch.setattr(target, name, boom)
    book = ledger(bike_standards(), LEDGER)
    assert_whole_plugin_fault(book)
    (error,) = book.errors
    assert error.source["filename"] == str(book.path)
    assert error.source["lineno"] == line_of(book.path, 'custom "backflush"')


def test_whole_plugin_fault_in_a_scheduled_close(ledger, monkeypatch):
    monkeypatch.setattr(closing, "close", boom)
    text = LEDGER + '2026-02-01 note Assets:Bank "February"\n'
    book = ledger(bike_standards(schedule="monthly"), text)
    # A scheduled month-end close belongs to no directive: a fault there is the plugin's.
    assert_whole_plugin_fault(book)


def test_whole_plugin_fault_with_no_backflush_directive(ledger, monkeypatch):
    # Nothing to point at in the ledger: the error points at the standards file.
    monkeypatch.setattr(engine, "run", boom)
    book = ledger(bike_standards(), LEDGER.split('custom "backflush" "sell" 4 FRAME 200.00 USD')[1])
    assert_whole_plugin_fault(book)
    (error,) = book.errors
    assert error.source["filename"] == str(book.path.parent / "standards.yaml")
    assert error.source["lineno"] == 1


def test_whole_plugin_fault_under_load_string(monkeypatch, tmp_path):
    # In-memory ledgers (Fava's editor, tests): still a real place, never <load>:0.
    monkeypatch.setattr(engine, "run", boom)
    path = tmp_path / "standards.yaml"
    path.write_text(bike_standards())
    text = f'plugin "beancount_backflush" "{path}"\n' + OPEN_ACCOUNTS + textwrap.dedent(LEDGER)
    entries, errors, _ = loader.load_string(text)
    (error,) = errors
    assert error.source["filename"] == "<string>"
    assert (
        error.source["lineno"]
        == text.splitlines().index('2026-01-05 custom "backflush" "purchase" 100 STEEL 260.00 USD')
        + 1
    )
    assert not any(isinstance(e, data.Transaction) and "backflush" in e.meta for e in entries)

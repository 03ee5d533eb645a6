"""Careless and hostile ledgers: every problem a located error, never a wrong figure.

The standards-file side is tests/test_hostile_standards.py.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from conftest import line_of
from standards_bike import COGS, FG, PPV, RIP, bike_standards

D = Decimal

STOCKED = """
2026-01-05 custom "backflush" "purchase" 100 STEEL 260.00 USD
2026-01-05 custom "backflush" "purchase" 1000 BOLT 48.00 USD
"""


def errors_at(book, needle: str) -> list[str]:
    line = line_of(book.path, needle)
    return [e.message for e in book.errors if e.source.get("lineno") == line]


def test_links_are_opt_in_and_unique_to_the_ledger_file(ledger):
    book = ledger("links: true\n" + bike_standards(), STOCKED)
    purchase = book.generated("purchase")[0]
    (link,) = purchase.links
    assert link.startswith("bf-ledger-") and link.endswith(f"-{purchase.meta['lineno']}")
    # The stem carries a hash of the full path: another folder's ledger.beancount differs.
    assert len(link.split("-")) == 4
    assert ledger(bike_standards(), STOCKED).generated("purchase")[0].links == frozenset()


def test_a_negative_count_says_zero_is_allowed(ledger):
    book = ledger(bike_standards(), STOCKED + '2026-01-06 custom "backflush" "count" -1 STEEL\n')
    (message,) = errors_at(book, '"count" -1')
    assert '"count" expects zero or a positive quantity, got -1 STEEL' in message


def test_huge_numbers_on_a_directive_are_refused_with_the_limit(ledger):
    book = ledger(
        bike_standards(),
        STOCKED
        + f'2026-01-06 custom "backflush" "purchase" {10**30} STEEL 1.00 USD\n'
        + f'2026-01-06 custom "backflush" "purchase" 1 STEEL {10**28} USD\n'
        + '2026-01-06 custom "backflush" "produce" 0.0000000000001 FRAME\n',
    )
    assert "must be below 1,000,000,000,000,000" in errors_at(book, f"{10**30} STEEL")[0]
    assert "must be below" in errors_at(book, f"{10**28} USD")[0]
    assert "at most 12 decimal places" in errors_at(book, "0.0000000000001 FRAME")[0]
    assert len(book.errors) == 3
    assert book.units(RIP, "STEEL") == 100  # later events still post
    assert not any("internal error" in m for m in book.messages())

def test_the_decimal_limit_reads_the_value_not_trailing_zeros(ledger):
    # As in the standards file: 10.00000000000000 is ten, however many zeros are written.
    ten = "10.00000000000000 STEEL 25.000000000000000 USD"
    book = ledger(
        bike_standards(),
        STOCKED
        + f'2026-01-06 custom "backflush" "purchase" {ten}\n'
        + '2026-01-06 custom "backflush" "purchase" 0.00000000000010 STEEL 1.00 USD\n'
        + '2026-01-06 custom "backflush" "purchase" 1 STEEL 0.0000000000001 USD\n',
    )
    assert book.units(RIP, "STEEL") == 110  # 100 stocked + the first receipt
    assert len(book.errors) == 2
    assert "at most 12 decimal places" in errors_at(book, "1 STEEL 0.0000000000001 USD")[0]
    assert all("at most 12 decimal places" in m for m in book.messages())



def test_a_close_in_another_currency_is_a_currency_error(ledger):
    book = ledger(bike_standards(), STOCKED + '2026-01-31 custom "backflush" "close" 1.00 EUR\n')
    (message,) = errors_at(book, "1.00 EUR")
    assert '"close" total is in EUR, but the standards are in USD' in message
    assert book.generated("close") == []


def test_a_second_close_on_the_same_day_is_refused(ledger):
    book = ledger(
        bike_standards(),
        STOCKED
        + '2026-01-31 custom "backflush" "close"\n'
        + '2026-01-31 custom "backflush" "close" 0.00 USD\n',
    )
    (message,) = errors_at(book, '"close" 0.00 USD')
    assert "already closed" in message
    (close,) = book.generated("close")
    assert close.narration == "Backflush close 2026-01-05 to 2026-01-31"


def test_a_receipt_at_a_cost_in_another_currency_is_refused_not_repriced(ledger):
    book = ledger(
        bike_standards(),
        """
2026-01-06 * "Steel from Germany"
  Assets:Inventory:RawInProcess  10 STEEL {2.60 EUR}
  Liabilities:AccountsPayable   -26.00 EUR
""",
    )
    (message,) = errors_at(book, "Steel from Germany")
    assert "received at 2.60 EUR, but the standards are in USD" in message
    (txn,) = [t for t in book.transactions() if t.narration == "Steel from Germany"]
    assert sum(p.units.number * p.cost.number for p in txn.postings if p.cost) == D("26.00")
    assert book.money(PPV) == 0  # the user's balanced transaction is left as written


def test_padding_an_inventory_account_is_flagged(ledger):
    book = ledger(
        bike_standards(),
        "2020-01-01 open Equity:Opening\n"
        "2026-01-01 pad Assets:Inventory:FinishedGoods Equity:Opening\n"
        "2026-01-02 balance Assets:Inventory:FinishedGoods 5 FRAME\n",
    )
    assert any(
        "padding an inventory account creates units without a cost" in m
        for m in errors_at(book, "pad Assets:Inventory:FinishedGoods")
    )


def test_reserved_metadata_on_a_hand_written_entry_is_an_error(ledger):
    book = ledger(
        bike_standards(),
        """
2026-01-06 * "Hand-made count"
  backflush: "count"
  backflush_uninventoried: "x"
  Expenses:COGS      1.00 USD
  Liabilities:Wages -1.00 USD
""",
    )
    (message,) = errors_at(book, "Hand-made count")
    assert "backflush, backflush_uninventoried is reserved" in message
    assert book.money(COGS) == D("1.00")  # the user's entry is kept


def test_a_stray_far_future_entry_does_not_schedule_thousands_of_closes(ledger):
    book = ledger(
        bike_standards(schedule="monthly"),
        STOCKED + '9999-12-31 note Assets:Bank "a typo in the year"\n',
    )
    closes = book.generated("close")
    # Closes stop at today's month end (or the last backflush event's, if later).
    assert closes[0].date == datetime.date(2026, 1, 31)
    assert closes[-1].date <= max(datetime.date.today(), datetime.date(2026, 1, 31)) + (
        datetime.timedelta(days=31)
    )
    assert len(closes) < 12 * (datetime.date.today().year - 2025 + 1)


def test_generated_entries_never_point_into_the_standards_file(ledger):
    # Fava edits and deletes "the source" of any entry with a real filename: an entry that
    # pointed at the YAML would let its Delete button remove lines of the standards file.
    book = ledger(
        "auto_open: true\n" + bike_standards(schedule="monthly"),
        STOCKED
        + '2026-06-02 custom "backflush" "produce" 10 FRAME\n'
        + '2026-07-03 custom "backflush" "sell" 1 FRAME\n',
        opens=False,
    )
    standards = str(book.path.parent / "standards.yaml")
    for entry in book.entries:
        assert entry.meta["filename"] != standards, entry
    revalue = book.generated("revalue")[0]
    assert revalue.meta["filename"] == "<backflush>"
    assert revalue.meta["backflush_source"].startswith(standards + ":")
    assert book.money(FG) == D("10.30") * 9


def test_a_plugin_line_in_an_included_file_is_caught_by_check(tmp_path, capsys):
    # Beancount ignores a plugin line inside an included file without a word: bean-check
    # then posts nothing and reports nothing. `bean-backflush check` says so.
    from beancount_backflush import cli

    (tmp_path / "standards.yaml").write_text(bike_standards())
    (tmp_path / "books.beancount").write_text(
        'plugin "beancount_backflush" "standards.yaml"\n'
        '2026-01-05 custom "backflush" "purchase" 1 BOLT 0.05 USD\n'
    )
    ledger_path = tmp_path / "ledger.beancount"
    ledger_path.write_text('include "books.beancount"\n')
    status = cli.main(["check", str(ledger_path)])
    out = capsys.readouterr()
    assert status != 0
    assert "plugin did not run" in out.out + out.err
    assert "books.beancount:2" in out.out + out.err

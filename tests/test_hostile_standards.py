"""Hostile and careless standards files: every problem is one located error, in bounded time.

Each test is a standards file written out in the test, the message fragment expected and the
line it must point at. Whatever the text, ``load_standards`` never raises, never hangs, and
every error it returns is ``StandardsError({"filename": <the path>, "lineno": <a line of the
file>}, message, None)``. The rows of docs/errors.md ("Hostile input") are these tests.
"""

from __future__ import annotations

import datetime
import os
import signal
import textwrap
import time
import tracemalloc
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import line_of
from hypothesis import given, settings
from hypothesis import strategies as st
from standards_bike import bike_standards

from beancount_backflush import yamlio
from beancount_backflush.standards import Standards, load_standards

D = Decimal


HEAD = """\
currency: USD
accounts:
  raw_in_process: Assets:Inventory:RawInProcess
  finished_goods: Assets:Inventory:FinishedGoods
  cogs: Expenses:COGS
"""


# -- helpers -----------------------------------------------------------------------------------


def write(tmp_path: Path, text: str | bytes, name: str = "standards.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def assert_located(errors: list[Any], path: Path | str) -> None:
    """Every error is a StandardsError at a line of the file, with nothing to point at."""
    try:
        count = Path(path).read_bytes().count(b"\n") + 1 if os.path.isfile(path) else 1
    except OSError:
        count = 1
    for error in errors:
        assert type(error).__name__ == "StandardsError", error
        assert error.entry is None
        assert error.source["filename"] == str(path), error
        lineno = error.source["lineno"]
        assert type(lineno) is int and 1 <= lineno <= count, error
        assert isinstance(error.message, str) and error.message


def load(tmp_path: Path, text: str | bytes) -> tuple[Standards | None, list[Any], Path]:
    path = write(tmp_path, text)
    standards, errors = load_standards(str(path))
    assert_located(errors, path)
    return standards, errors, path


def the_error(errors: list[Any], line: int, *words: str) -> str:
    """The one error at ``line`` whose message has every word."""
    found = [e.message for e in errors if e.source["lineno"] == line]
    matching = [m for m in found if all(word in m for word in words)]
    assert len(matching) == 1, (line, words, [(e.source["lineno"], e.message) for e in errors])
    return matching[0]


def refused(tmp_path: Path, text: str, needle: str, *words: str) -> str:
    """The file is unusable, with one error at the line containing ``needle``."""
    standards, errors, path = load(tmp_path, text)
    assert standards is None
    return the_error(errors, line_of(path, needle), *words)


# -- 1. aliases, nesting and dates that break the parser ---------------------------------------


def test_an_alias_that_refers_to_itself(tmp_path):
    refused(
        tmp_path,
        HEAD + "materials:\n  BOLT: 0.05\n  X: &a [*a]\n",
        "X: &a",
        "alias *a refers to the value that contains it",
    )


def test_five_thousand_nested_brackets(tmp_path):
    refused(
        tmp_path,
        HEAD + "materials:\n  X: " + "[" * 5000 + "]" * 5000 + "\n",
        "X: [[[",
        "nested more than 50 levels deep",
    )


def test_deep_block_nesting_points_at_the_level_too_deep(tmp_path):
    text = "".join("  " * level + f"k{level}:\n" for level in range(60)) + "  " * 60 + "x: 1\n"
    standards, errors, path = load(tmp_path, text)
    assert standards is None
    the_error(errors, 51, "nested more than 50 levels deep")


@pytest.mark.parametrize(
    "body, needle, words",
    [
        (
            "  BOLT: {cost: {2026-02-30: 0.05}}\n",
            "2026-02-30",
            ("'2026-02-30' is not a valid date",),
        ),
        ("  BOLT:\n    cost:\n      0000-01-01: 0.05\n", "0000-01-01", ("not a valid date",)),
        (
            "  BOLT: {cost: {2026-01-01T10:00:00+99:00: 0.05}}\n",
            "+99:00",
            ("expects a date, not a date and time",),
        ),
        ("  BOLT: {cost: 0.05, unit: 2026-13-01}\n", "2026-13-01", ("not a valid date",)),
    ],
    ids=["february-30", "year-zero", "offset-99-hours", "month-13-as-a-value"],
)
def test_impossible_dates_anywhere(tmp_path, body, needle, words):
    refused(tmp_path, HEAD + "materials:\n" + body, needle, *words)


def test_too_many_values_are_refused_quickly(tmp_path):
    started = time.perf_counter()
    refused(
        tmp_path,
        HEAD + "materials: [" + "1," * 250_000 + "1]\n",
        "materials: [",
        "more than 200,000 values",
    )
    assert time.perf_counter() - started < 2.0


# -- 2. billion laughs -------------------------------------------------------------------------

LAUGHS = (
    "\n".join(
        [
            "a: &a [x,x,x,x,x,x,x,x,x]",
            "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]",
            "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]",
            "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]",
            "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]",
            "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]",
            "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]",
            "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]",
            "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]",
        ]
    )
    + "\nmaterials: {BOLT: *i}\n"
)


def test_billion_laughs_is_refused_in_bounded_time_and_memory(tmp_path):
    tracemalloc.start()
    started = time.perf_counter()
    try:
        standards, errors, path = load(tmp_path, LAUGHS)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert standards is None
    # *a stands for 10 values, *b 91, *c 820, *d 7,381: the first *d goes over 10,000.
    the_error(errors, line_of(Path(path), "e: &e"), "aliases", "more than 10,000 values")
    assert elapsed < 1.0
    assert peak < 10_000_000


def test_an_alias_for_a_shared_bom_still_works(tmp_path):
    standards, errors, _ = load(
        tmp_path,
        HEAD
        + """\
materials:
  STEEL: 2.50
  BOLT: 0.05
products:
  FRAME: {bom: &frame {STEEL: 2, BOLT: 8}}
  FRAME2: {bom: *frame}
  BASE: &base {bom: {BOLT: 4}, unit: pcs}
  HUB: {<<: *base, phantom: true}
""",
    )
    assert errors == []
    assert standards is not None
    assert standards.products["FRAME2"].bom.values[0] == {"STEEL": 2, "BOLT": 8}
    assert standards.products["HUB"].phantom and standards.products["HUB"].unit == "pcs"


# -- 3. numbers Decimal arithmetic cannot carry ------------------------------------------------


@pytest.mark.parametrize(
    "body, needle, words",
    [
        ("  BOLT: 1e26\n", "BOLT", ("too large", "costs and conversion rates must be below 1e10")),
        ("  BOLT: {cost: 1e999999999}\n", "BOLT", ("too large", "below 1e10")),
        ("  BOLT: 0.0000000000001\n", "BOLT", ("13 decimal places", "at most 12")),
        ("  BOLT: {cost: !!float nan}\n", "BOLT", ("'nan' is not a finite number",)),
        ("  BOLT: {cost: !!float NaN}\n", "BOLT", ("not a finite number",)),
        ("  BOLT: {cost: !!float Infinity}\n", "BOLT", ("not a finite number",)),
        ("  BOLT: {cost: .inf}\n", "BOLT", ("expects a number", "'.inf'")),
        ("  BOLT: -0\n", "BOLT", ("expects a positive number, got 0",)),
        ("  BOLT: " + "9" * 200 + "\n", "BOLT", ("200 characters", "too long")),
    ],
    ids=["1e26", "1e999999999", "13-decimals", "nan", "NaN", "Infinity", "inf", "-0", "200-9s"],
)
def test_costs_out_of_range(tmp_path, body, needle, words):
    refused(tmp_path, HEAD + "materials:\n" + body, needle, *words)


@pytest.mark.parametrize(
    "quantity, words",
    [
        ("1e28", ("too large", "BOM quantities must be below 1e6")),
        ("1e33", ("too large", "below 1e6")),
        ("1000000", ("too large", "below 1e6")),
        ("0.0000001", ("7 decimal places", "at most 6")),
    ],
)
def test_bom_quantities_out_of_range(tmp_path, quantity, words):
    refused(
        tmp_path,
        HEAD + f"materials:\n  BOLT: 0.05\nproducts:\n  NUT: {{bom: {{BOLT: {quantity}}}}}\n",
        "NUT",
        *words,
    )


def test_trailing_zeros_do_not_count_as_decimal_places(tmp_path):
    standards, errors, _ = load(
        tmp_path, HEAD + "materials:\n  BOLT: 0.050000000000000000\n  NUT: 999999999.99\n"
    )
    assert errors == []
    assert standards is not None


def test_negative_zero_rate_is_zero(tmp_path):
    standards, errors, _ = load(
        tmp_path,
        HEAD
        + "conversion:\n  labor: {incurred: Expenses:Conversion:Labor}\n"
        + "materials:\n  BOLT: 0.05\n"
        + "products:\n  NUT: {bom: {BOLT: 1}, conversion: {labor: -0.00}}\n"
        + "warn_uninventoried: -0\n",
    )
    assert errors == []
    assert standards is not None
    rate = standards.products["NUT"].conversion.values[0]["labor"]
    assert rate == 0 and not rate.is_signed()
    assert not standards.warn_uninventoried.is_signed()


def test_a_rolled_up_cost_too_large_is_refused_at_the_product(tmp_path):
    # Each number is within its limit, but BIG costs 999,999 x 999,999 x 9,999,999,999.
    refused(
        tmp_path,
        HEAD
        + """\
materials:
  GOLD: 9999999999
products:
  INGOT: {bom: {GOLD: 999999}}
  BIG: {bom: {INGOT: 999999}}
""",
        "INGOT:",
        "product INGOT",
        "rolled up",
        "below 1e12",
    )


# -- 4. deep BOMs --------------------------------------------------------------------------------


def chain(levels: int, cycle: bool = False) -> str:
    """P1 = 1 BOLT, P(n) = 1 P(n-1): a BOM ``levels`` deep (P1 closing the cycle if asked)."""
    first = f"P{levels}" if cycle else "BOLT"
    lines = [f"  P1: {{bom: {{{first}: 1}}}}"]
    lines += [f"  P{n}: {{bom: {{P{n - 1}: 1}}}}" for n in range(2, levels + 1)]
    return HEAD + "materials:\n  BOLT: 0.05\nproducts:\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize("levels", [600, 5000])
def test_a_bom_too_deep_is_refused_without_recursion(tmp_path, levels):
    message = refused(tmp_path, chain(levels), "  P101:", "P101", "at most 100 levels")
    assert "P101 -> P100 -> P99" in message


def test_a_bom_cycle_thousands_long_is_named_without_recursion(tmp_path):
    message = refused(tmp_path, chain(3000, cycle=True), "  P1:", "BOM cycle: P1 -> P3000")
    assert len(message) < 300


def test_a_bom_100_levels_deep_rolls_up(tmp_path):
    standards, errors, _ = load(tmp_path, chain(100))
    assert errors == [] and standards is not None
    rollup = standards.rollup("P100", datetime.date(2026, 1, 1))
    assert rollup is not None and rollup.total == D("0.05")


# -- 5. falsy zero, a product made from nothing, items named like the currency ------------------


def test_warn_uninventoried_zero_is_zero(tmp_path):
    standards, errors, _ = load(tmp_path, HEAD + "warn_uninventoried: 0\nmaterials:\n  BOLT: 1\n")
    assert errors == [] and standards is not None
    assert standards.warn_uninventoried == 0


@pytest.mark.parametrize(
    "products, needle, words",
    [
        ("  PY: {bom: {}}\n", "PY", ("product PY bom is empty",)),
        (
            "  PY:\n    bom: {2026-01-01: {BOLT: 1}, 2026-06-01: {}}\n",
            "2026-06-01",
            ("on 2026-06-01 is empty",),
        ),
        ("  PY: {conversion: {}}\n", "PY", ("product PY is made from nothing",)),
    ],
    ids=["empty-bom", "empty-dated-bom", "empty-conversion"],
)
def test_a_product_made_from_nothing(tmp_path, products, needle, words):
    refused(tmp_path, HEAD + "materials:\n  BOLT: 1\nproducts:\n" + products, needle, *words)


@pytest.mark.parametrize(
    "body, needle, words",
    [
        ("materials:\n  USD: 1\n", "USD", ("material USD", "the standards currency USD")),
        (
            "currency: EUR\nmaterials:\n  BOLT: 1\nproducts:\n  EUR: {bom: {BOLT: 1}}\n",
            "EUR: {bom",
            ("product EUR", "the standards currency EUR"),
        ),
    ],
)
def test_an_item_named_like_the_currency(tmp_path, body, needle, words):
    refused(tmp_path, HEAD.replace("currency: USD\n", "") + body, needle, *words)


# -- 6. accounts under a root the ledger does not have -----------------------------------------

OPTIONS = {
    "name_assets": "Assets",
    "name_liabilities": "Liabilities",
    "name_equity": "Equity",
    "name_income": "Income",
    "name_expenses": "Expenses",
}


def test_an_account_under_an_invalid_root(tmp_path):
    from beancount_backflush.standards import check_account_roots

    standards, errors, path = load(
        tmp_path,
        HEAD.replace("Expenses:COGS", "Foo:COGS")
        + "conversion:\n  labor: {incurred: Labour:Direct, allocated: Expenses:Labor:Allocated}\n"
        + "materials:\n  BOLT: 1\n",
    )
    assert errors == [] and standards is not None
    problems = check_account_roots(standards, OPTIONS)
    assert_located(problems, path)
    the_error(
        problems, line_of(path, "Foo:COGS"), "accounts.cogs", "Foo:COGS", "Assets, Liabilities"
    )
    the_error(problems, line_of(path, "Labour:Direct"), "labor", "incurred", "Labour:Direct")
    assert len(problems) == 2


def test_account_roots_follow_the_ledgers_options(tmp_path):
    from beancount_backflush.standards import check_account_roots

    standards, _, path = load(
        tmp_path, HEAD.replace("Expenses:COGS", "Charges:COGS") + "materials:\n  BOLT: 1\n"
    )
    assert standards is not None
    assert check_account_roots(standards, {**OPTIONS, "name_expenses": "Charges"}) == []
    problems = check_account_roots(standards, OPTIONS)
    the_error(problems, line_of(path, "Charges:COGS"), "Charges:COGS")


def test_an_invalid_root_makes_the_standards_unusable_in_the_plugin(ledger):
    book = ledger(
        bike_standards().replace("cogs: Expenses:COGS", "cogs: Foo:COGS"),
        '2026-01-02 custom "backflush" "purchase" 1000 BOLT 50.00 USD\n',
    )
    path = book.path.parent / "standards.yaml"
    assert [
        e.message
        for e in book.errors
        if e.source["filename"] == str(path) and e.source["lineno"] == line_of(path, "Foo:COGS")
    ], book.messages()
    assert book.generated() == []
    assert any("not posted" in m for m in book.messages())


# -- 7. files that are not standards files -----------------------------------------------------


@pytest.fixture
def no_hang() -> Iterator[None]:
    def hung(*_: Any) -> None:
        raise AssertionError("load_standards hung")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(5)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_etc_passwd_is_not_echoed(tmp_path, no_hang):
    relative = os.path.relpath("/etc/passwd", tmp_path)  # ../../../etc/passwd
    path = os.path.join(tmp_path, relative)
    standards, errors = load_standards(path)
    assert standards is None
    assert_located(errors, path)
    assert [e.source["lineno"] for e in errors] == [1]
    assert "not a standards file" in errors[0].message
    assert "root" not in errors[0].message and "/bin/" not in errors[0].message


def test_a_mapping_with_no_standards_key_is_not_echoed(tmp_path):
    message = refused(tmp_path, "user: root\npassword: hunter2\n", "user", "not a standards file")
    assert "hunter2" not in message and "password" not in message


@pytest.mark.parametrize("text", ["just some text\n", "- a\n- list\n", "42\n", ""])
def test_a_file_that_is_not_a_mapping(tmp_path, text):
    standards, errors, _ = load(tmp_path, text)
    assert standards is None
    assert [e.source["lineno"] for e in errors] == [1]
    assert "not a standards file" in errors[0].message
    assert "some text" not in errors[0].message


def test_a_fifo_does_not_hang(tmp_path, no_hang):
    fifo = tmp_path / "standards.yaml"
    os.mkfifo(fifo)
    standards, errors = load_standards(str(fifo))
    assert standards is None
    assert_located(errors, fifo)
    assert "not a regular file" in errors[0].message


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_a_device_does_not_hang(device, no_hang):
    standards, errors = load_standards(device)
    assert standards is None
    assert [(e.source, "not a regular file" in e.message) for e in errors] == [
        ({"filename": device, "lineno": 1}, True)
    ]


def test_a_file_too_large(tmp_path, no_hang):
    standards, errors, _ = load(tmp_path, HEAD + "# " + "x" * 6_000_000 + "\n")
    assert standards is None
    assert [e.source["lineno"] for e in errors] == [1]
    assert "larger than 5 MB" in errors[0].message


# -- 8. clear messages -------------------------------------------------------------------------


def test_a_quoted_cost_gets_one_clear_message(tmp_path):
    standards, errors, path = load(
        tmp_path,
        HEAD + 'materials:\n  STEEL: "2.50"\nproducts:\n  FRAME: {bom: {STEEL: 2}}\n',
    )
    assert standards is None
    assert len(errors) == 1, errors
    the_error(
        errors,
        line_of(path, "STEEL:"),
        "material STEEL expects a mapping like {cost: 2.50}, got the text '2.50'",
        "remove the quotes",
    )


@pytest.mark.parametrize("name", ["NULL", "FALSE", "~", "True", "Null"])
def test_item_names_yaml_reads_as_something_else_are_shown_as_written(tmp_path, name):
    message = refused(tmp_path, HEAD + f"materials:\n  {name}: 1\n", f"  {name}:", f"'{name}'")
    assert "None" not in message and "False" not in message.replace("FALSE", "")


def test_an_unknown_key_is_shown_as_written(tmp_path):
    message = refused(
        tmp_path, HEAD + "materials:\n  BOLT: {cost: 1, ~: 2}\n", "BOLT", "unknown key '~'"
    )
    assert "None" not in message


def test_a_byte_that_is_not_utf8_is_reported_at_its_line(tmp_path):
    text = (HEAD + "materials:\n  STEEL: 2.50\n  ST\xc4HL: 1\n").encode("latin-1")
    standards, errors, path = load(tmp_path, text)
    assert standards is None
    assert [e.source["lineno"] for e in errors] == [8]
    assert "not UTF-8" in errors[0].message and "0xC4" in errors[0].message


def test_a_control_character_is_reported_at_its_line(tmp_path):
    refused(tmp_path, HEAD + "materials:\n  BOLT: 1\x00\n", "BOLT", "U+0000 is not allowed")


# -- 9. a dated BOM naming a component whose standard starts later ----------------------------

DATED = (
    HEAD
    + """\
materials:
  STEEL: {{cost: {{2026-01-01: 2.50}}}}
  PAINT: {{cost: {{2026-04-01: 1.00}}}}
products:
  FRAME: {{bom: {{STEEL: 2}}}}
  COATED: {{bom: {{FRAME: 1, PAINT: 1}}}}
  BIKE:
    bom:
      2026-01-01: {{FRAME: 1}}
      {date}: {{{component}: 1}}
"""
)


@pytest.mark.parametrize(
    "date, component, starts",
    [("2026-03-01", "PAINT", "2026-04-01"), ("2026-03-01", "COATED", "2026-04-01")],
)
def test_a_bom_naming_a_component_not_yet_in_force(tmp_path, date, component, starts):
    refused(
        tmp_path,
        DATED.format(date=date, component=component),
        f"{date}:",
        f"BOM of BIKE from {date} names {component}, whose standard starts {starts}",
    )


@pytest.mark.parametrize("component", ["PAINT", "COATED", "FRAME"])
def test_a_bom_naming_a_component_in_force(tmp_path, component):
    standards, errors, _ = load(tmp_path, DATED.format(date="2026-04-01", component=component))
    assert errors == [] and standards is not None
    assert standards.rollup("BIKE", datetime.date(2026, 4, 1)) is not None


def test_an_undated_bom_starts_with_its_components(tmp_path):
    # FRAME's BOM is undated ("from the start"), STEEL from 2026-01-01: FRAME from then on.
    standards, errors, _ = load(tmp_path, bike_standards())
    assert errors == [] and standards is not None
    assert standards.rollup("FRAME", datetime.date(2025, 12, 31)) is None
    assert standards.rollup("BIKE", datetime.date(2026, 1, 1)) is not None


# -- 10. the C parser and the cache ------------------------------------------------------------

EXAMPLE = Path(__file__).parent.parent / "example-ledger" / "standards.yaml"


def test_both_parsers_read_the_same_tree():
    text = EXAMPLE.read_text(encoding="utf-8")
    fast, slow = yamlio.load(text, fast=True), yamlio.load(text, fast=False)
    assert fast == slow
    assert fast.key_lines == slow.key_lines
    assert fast["materials"].key_lines == slow["materials"].key_lines


def test_repeated_loads_parse_once_and_return_fresh_standards(tmp_path, monkeypatch):
    path = write(tmp_path, bike_standards())
    calls: list[str] = []
    real = yamlio.load
    monkeypatch.setattr(yamlio, "load", lambda text, *a, **k: calls.append(text) or real(text))
    first, _ = load_standards(str(path))
    assert first is not None
    first.base_date = datetime.date(2026, 1, 1)
    first.rollup("BIKE", datetime.date(2026, 1, 1))
    second, _ = load_standards(str(path))
    assert second is not None and second is not first
    assert second.base_date == datetime.date(1970, 1, 1) and second._rollups == {}
    assert second.accounts is not first.accounts and second.accounts == first.accounts
    assert len(calls) == 1
    # An edit (other size or time) is read again.
    path.write_text(bike_standards().replace("BOLT: {cost: 0.05}", "BOLT: {cost: 0.065}"))
    third, _ = load_standards(str(path))
    assert third is not None and len(calls) == 2
    assert third.materials["BOLT"].cost.values[0] == D("0.065")


# -- 11. property: whatever the text, located errors in bounded time ---------------------------

WEIRD_KEYS = [
    "currency", "materials", "products", "accounts", "conversion", "close", "bom", "cost",
    "unit", "phantom", "triggers", "warn_uninventoried", "precision", "STEEL", "BOLT", "FRAME",
    "USD", "NULL", "~", "FALSE", "true", "<<", "''", "1", "-0", "2026-02-30", "2026-01-01",
    "0000-01-01", "labor", "incurred", "x y", "? k", "yield", "outputs", "byproducts", "qty",
    "share", "driver", "rate", "budget", "links", "negative_stock",
]  # fmt: skip
WEIRD_SCALARS = [
    "0", "-0", "-0.0", "1", "0.05", "2.50", "1e26", "1e999999999", "1e-999999999", "1e33",
    "0.0000000000001", "NaN", ".nan", ".inf", "!!float nan", "!!float -Infinity", "!!int 0x1F",
    "9" * 120, "2026-01-01", "2026-02-30", "0000-01-01", "2026-01-01T10:00:00+99:00",
    "2026-1-1", "true", "NULL", "~", "''", '"2.50"', "Foo:COGS", "Expenses:COGS",
    "Assets:Inventory:RawInProcess", "[purchase, sale]", "{}", "[]", "!!binary aGk=",
    "!!python/name:os.system", "*a", "&a 1", "&a [*a]", "&b {STEEL: 1}", "*b", "1_000",
]  # fmt: skip


@st.composite
def yaml_value(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.integers(0, 3 if depth < 4 else 0))
    if kind == 0:
        return draw(st.sampled_from(WEIRD_SCALARS))
    if kind == 1:
        items = draw(st.lists(yaml_value(depth + 1), max_size=4))
        return "[" + ", ".join(items) + "]"
    pairs = draw(
        st.lists(st.tuples(st.sampled_from(WEIRD_KEYS), yaml_value(depth + 1)), max_size=4)
    )
    return "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"


@st.composite
def hostile_file(draw: st.DrawFn) -> bytes:
    """A mutated good standards file, or random YAML, sometimes with deep or aliased parts."""
    if draw(st.booleans()):
        lines = bike_standards().splitlines()
        for _ in range(draw(st.integers(1, 4))):
            index = draw(st.integers(0, len(lines) - 1))
            line = lines[index]
            indent = line[: len(line) - len(line.lstrip())]
            key = line.strip().split(":")[0] if ":" in line else draw(st.sampled_from(WEIRD_KEYS))
            lines[index] = f"{indent}{key}: {draw(yaml_value())}"
        return ("\n".join(lines) + "\n").encode("utf-8")
    top = draw(
        st.lists(st.tuples(st.sampled_from(WEIRD_KEYS), yaml_value()), min_size=0, max_size=8)
    )
    text = "".join(f"{k}: {v}\n" for k, v in top)
    extra = draw(st.sampled_from(["", LAUGHS, "z: " + "[" * 3000 + "]" * 3000 + "\n"]))
    return (text + extra).encode("utf-8") + draw(st.sampled_from([b"", b"\xc4", b"\x00"]))


@settings(deadline=None)
@given(hostile_file())
def test_any_text_gives_located_errors_quickly(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("hostile") / "standards.yaml"
    path.write_bytes(data)
    started = time.perf_counter()
    standards, errors = load_standards(str(path))
    assert time.perf_counter() - started < 2.0
    assert_located(errors, path)
    assert (standards is None) == bool(errors)
    if standards is not None:
        for name in standards.products:
            for date in (datetime.date(2025, 1, 1), datetime.date(2026, 7, 1)):
                standards.rollup(name, date)

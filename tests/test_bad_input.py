"""The bad-input catalogue (docs/errors.md): every mistake gets one clear, located error.

Each test is a small ledger with one mistake in it. It checks:
- the error's file and line: the directive's, or the standards file's own line;
- a message that says what is wrong and how to fix it;
- that the rest of the ledger is still processed (a good purchase elsewhere still posts,
  or, when the standards file cannot be used at all, the ordinary transactions stay);
- that no user entry disappears: every entry of the input other than a `backflush`
  directive is still in the loaded entries.

The SPEC's bike standards (standards_bike.py): STEEL 2.50 (2.70 from 2026-07-01),
BOLT 0.05, FRAME = 2 STEEL + 8 BOLT, HUB a phantom of 4 BOLT, BIKE = FRAME + 2 HUB.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from beancount.core import data
from beancount.parser import parser
from conftest import Book, line_of
from standards_bike import COGS, FG, PPV, RIP, bike_standards

D = Decimal

# A good purchase and an ordinary payroll transaction: both must survive any mistake.
GOOD = """
2026-01-02 custom "backflush" "purchase" 1000 BOLT 50.00 USD
2026-01-03 * "Payroll"
  Expenses:Conversion:Labor  100.00 USD
  Liabilities:Wages
"""

# Minimal accounts block for hand-written standards files (triggers default).
ACCOUNTS = """\
accounts:
  raw_in_process: Assets:Inventory:RawInProcess
  finished_goods: Assets:Inventory:FinishedGoods
  cogs: Expenses:COGS
"""


# -- helpers -----------------------------------------------------------------------------------


def standards_path(book: Book) -> Path:
    return book.path.parent / "standards.yaml"


def errors_at(book: Book, path: Path, line: int) -> list[Any]:
    return [
        e
        for e in book.errors
        if e.source and e.source["filename"] == str(path) and e.source["lineno"] == line
    ]


def the_error(book: Book, path: Path, line: int, *words: str) -> str:
    """The error at path:line whose message contains every word (a follow-on error at the
    same line, like "has no cost" after a mistyped "cost" key, is allowed)."""
    found = [e.message for e in errors_at(book, path, line)]
    matching = [m for m in found if all(word in m for word in words)]
    assert len(matching) == 1, (path, line, words, book.messages())
    return matching[0]


def directive_error(book: Book, needle: str, *words: str) -> str:
    """The one error of a bad directive, at its own line; nothing posted for it."""
    line = line_of(book.path, needle)
    message = the_error(book, book.path, line, *words)
    assert [e for e in book.errors if e.source and e.source.get("lineno") == line]
    assert not [
        t
        for t in book.generated()
        if t.meta["filename"] == str(book.path) and t.meta["lineno"] == line
    ], "nothing is posted for a bad directive"
    return message


def standards_error(book: Book, needle: str, *words: str) -> str:
    """An error at the standards file's line that contains ``needle``."""
    path = standards_path(book)
    return the_error(book, path, line_of(path, needle), *words)


def assert_nothing_lost(book: Book) -> None:
    """Every non-backflush entry of the ledger file is in the loaded entries."""
    parsed, _, _ = parser.parse_file(str(book.path))
    loaded = {
        (type(e).__name__, e.meta.get("filename"), e.meta.get("lineno")) for e in book.entries
    }
    for entry in parsed:
        if isinstance(entry, data.Custom) and entry.type == "backflush":
            continue
        key = (type(entry).__name__, entry.meta["filename"], entry.meta["lineno"])
        assert key in loaded, f"user entry lost: {entry}"
    assert not [e for e in book.entries if isinstance(e, data.Custom) and e.type == "backflush"]


def assert_good_purchase_posted(book: Book) -> None:
    assert book.units(RIP, "BOLT") == 1000
    assert book.money(PPV) == D("0.00")
    assert book.money("Expenses:Conversion:Labor") == D("100.00")
    assert_nothing_lost(book)


def assert_standards_unusable(book: Book) -> None:
    """No backflush posting; the ordinary entries as they were; the directives reported."""
    assert book.generated() == []
    assert book.money("Expenses:Conversion:Labor") == D("100.00")
    line = line_of(book.path, '"purchase" 1000 BOLT')
    the_error(book, book.path, line, "not posted", "standards file has errors")
    assert_nothing_lost(book)


# -- the standards file ------------------------------------------------------------------------


def test_missing_standards_file(ledger):
    book = ledger(bike_standards(), GOOD, plugin_config="standrads.yaml")
    path = book.path.parent / "standrads.yaml"
    the_error(book, path, 1, "cannot read the standards file", "standrads.yaml")
    assert_standards_unusable(book)


def test_unreadable_standards_file(ledger, tmp_path):
    (tmp_path / "latin1.yaml").write_bytes(b"materials:\n  ST\xc4HL: {cost: 2.50}\n")
    book = ledger(bike_standards(), GOOD, plugin_config="latin1.yaml")
    the_error(book, tmp_path / "latin1.yaml", 2, "cannot read the standards file")
    assert_standards_unusable(book)


def test_standards_path_is_a_directory(ledger, tmp_path):
    (tmp_path / "standards.d").mkdir()
    book = ledger(bike_standards(), GOOD, plugin_config="standards.d")
    the_error(book, tmp_path / "standards.d", 1, "cannot read the standards file")
    assert_standards_unusable(book)


def test_invalid_yaml_points_at_the_line(ledger):
    book = ledger(
        ACCOUNTS
        + """\
materials:
  STEEL: {cost: 2.50
  BOLT: {cost: 0.05}
""",
        GOOD,
    )
    standards_error(book, "BOLT", "invalid YAML")
    assert_standards_unusable(book)


def test_python_tags_are_never_executed(ledger, tmp_path):
    marker = tmp_path / "pwned"
    book = ledger(
        ACCOUNTS
        + f"""\
materials:
  BOLT: {{cost: !!python/object/apply:os.system ["touch {marker}"]}}
""",
        GOOD,
    )
    assert not marker.exists()
    standards_error(book, "BOLT", "unsupported YAML tag", "python/object/apply", "not executed")
    assert_standards_unusable(book)


def test_duplicate_keys_name_the_first(ledger):
    book = ledger(
        ACCOUNTS
        + """\
materials:
  BOLT: {cost: 0.05}
  STEEL: {cost: 2.50}
  BOLT: {cost: 0.06}
""",
        GOOD,
    )
    path = standards_path(book)
    first = line_of(path, "BOLT: {cost: 0.05}")
    standards_error(book, "BOLT: {cost: 0.06}", "duplicate key 'BOLT'", f"first at line {first}")
    assert_standards_unusable(book)


@pytest.mark.parametrize(
    "standards, needle, hint",
    [
        (ACCOUNTS + "materials:\n  BOLT: {cots: 0.05}\n", "cots", "did you mean 'cost'?"),
        (ACCOUNTS + "materails:\n  BOLT: 0.05\n", "materails", "did you mean 'materials'?"),
        (
            ACCOUNTS + "materials:\n  BOLT: 0.05\nproducts:\n  NUT: {bomm: {BOLT: 1}}\n",
            "bomm",
            "did you mean 'bom'?",
        ),
        (
            ACCOUNTS.replace("cogs:", "cosg:") + "materials:\n  BOLT: 0.05\n",
            "cosg",
            "did you mean 'cogs'?",
        ),
    ],
    ids=["material", "top-level", "product", "accounts"],
)
def test_unknown_keys_suggest_the_near_miss(ledger, standards, needle, hint):
    book = ledger(standards, GOOD)
    standards_error(book, needle, "unknown key", hint)
    assert_standards_unusable(book)


@pytest.mark.parametrize(
    "body, needle, words",
    [
        ("materials:\n  BOLT: {cost: five cents}\n", "BOLT", ("cost expects a number", "five")),
        ("materials:\n  BOLT: {cost: true}\n", "BOLT", ("cost expects a number", "boolean")),
        ("materials:\n  - BOLT\n  - STEEL\n", "materials", ("expects a mapping", "a list")),
        (
            "materials:\n  BOLT: 0.05\nproducts:\n  NUT: {bom: [BOLT]}\n",
            "NUT",
            ("bom expects a mapping", "a list"),
        ),
        (
            "materials:\n  BOLT: {cost: {2026-01-01: 0.05, later: 0.06}}\n",
            "BOLT",
            ("mixes effective dates",),
        ),
    ],
    ids=["string-cost", "bool-cost", "list-for-materials", "list-for-bom", "mixed-dates"],
)
def test_wrong_types(ledger, body, needle, words):
    book = ledger(ACCOUNTS + body, GOOD)
    standards_error(book, needle, *words)
    assert_standards_unusable(book)


@pytest.mark.parametrize(
    "body, needle, words",
    [
        ("materials:\n  BOLT: {cost: 0}\n", "BOLT", ("cost expects a positive number", "0")),
        ("materials:\n  BOLT: {cost: -0.05}\n", "BOLT", ("positive number", "-0.05")),
        (
            "materials:\n  BOLT: {cost: {2026-01-01: 0.05, 2026-06-01: -1}}\n",
            "BOLT",
            ("on 2026-06-01", "positive number"),
        ),
        (
            "materials:\n  BOLT: 0.05\nproducts:\n  NUT: {bom: {BOLT: 0}}\n",
            "NUT",
            ("quantity of BOLT expects a positive number",),
        ),
        (
            "materials:\n  BOLT: 0.05\nproducts:\n  NUT:\n    bom:\n      BOLT: -2\n",
            "BOLT: -2",
            ("quantity of BOLT expects a positive number", "-2"),
        ),
        (
            "conversion:\n  labor: {incurred: Expenses:Conversion:Labor}\n"
            "materials:\n  BOLT: 0.05\n"
            "products:\n  NUT: {bom: {BOLT: 1}, conversion: {labor: -3}}\n",
            "NUT",
            ("rate for labor expects a zero or positive number",),
        ),
    ],
    ids=["zero-cost", "negative-cost", "negative-dated-cost", "zero-bom", "negative-bom", "rate"],
)
def test_zero_or_negative_costs_and_quantities(ledger, body, needle, words):
    book = ledger(ACCOUNTS + body, GOOD)
    standards_error(book, needle, *words)
    assert_standards_unusable(book)


def test_unknown_item_in_a_bom(ledger):
    book = ledger(
        ACCOUNTS
        + """\
materials:
  BOLT: 0.05
  STEEL: 2.50
products:
  FRAME:
    bom:
      STEAL: 2
      BOLT: 8
""",
        GOOD,
    )
    standards_error(book, "STEAL", "unknown item 'STEAL'", "did you mean 'STEEL'?")
    assert_standards_unusable(book)


def test_bom_cycle_names_the_cycle(ledger):
    book = ledger(
        ACCOUNTS
        + """\
materials:
  BOLT: 0.05
products:
  WHEEL: {bom: {SPOKE: 36}}
  SPOKE: {bom: {NIPPLE: 1, BOLT: 1}}
  NIPPLE: {bom: {WHEEL: 1}}
""",
        GOOD,
    )
    message = standards_error(book, "WHEEL:", "BOM cycle")
    assert "WHEEL -> SPOKE -> NIPPLE -> WHEEL" in message
    assert_standards_unusable(book)


def test_bom_cycle_through_a_dated_bom(ledger):
    # From 2026-06-01 NUT is made from BOLT and a NUT: a cycle in one version is a cycle.
    book = ledger(
        ACCOUNTS
        + """\
materials:
  BOLT: 0.05
products:
  NUT: {bom: {2026-01-01: {BOLT: 1}, 2026-06-01: {BOLT: 1, CAP: 1}}}
  CAP: {bom: {NUT: 1}}
""",
        GOOD,
    )
    message = standards_error(book, "NUT:", "BOM cycle")
    assert "NUT -> CAP -> NUT" in message
    assert_standards_unusable(book)


def test_product_with_neither_bom_nor_conversion(ledger):
    book = ledger(
        ACCOUNTS + "materials:\n  BOLT: 0.05\nproducts:\n  NUT: {unit: pcs}\n",
        GOOD,
    )
    standards_error(book, "NUT", "neither a bom nor a conversion", "bom: {")
    assert_standards_unusable(book)


def test_invalid_account_name_in_the_standards(ledger):
    book = ledger(
        ACCOUNTS.replace("Expenses:COGS", "expenses:cogs") + "materials:\n  BOLT: 0.05\n",
        GOOD,
    )
    standards_error(book, "cogs:", "accounts.cogs expects a Beancount account name", "'expenses")
    assert_standards_unusable(book)


def test_required_account_for_the_triggers(ledger):
    standards = "triggers: [completion, sale]\n" + ACCOUNTS + "materials:\n  BOLT: 0.05\n"
    book = ledger(standards, GOOD)
    standards_error(book, "accounts:", "accounts.materials_clearing is required")
    assert_standards_unusable(book)


def test_yaml_1_1_pitfalls_are_read_as_written(ledger):
    # NO (Norway), ON and OFF are item codes, not booleans; 0123 is one hundred and
    # twenty-three, not octal 83; 2.50 is exactly Decimal("2.50"), never a float.
    book = ledger(
        ACCOUNTS
        + """\
materials:
  "NO": {cost: 2.50}
  ON: {cost: 0123}
  OFF: 0.10
""",
        """
2026-01-02 custom "backflush" "purchase" 4 NO 10.00 USD
2026-01-02 custom "backflush" "purchase" 1 ON 123.00 USD
2026-01-02 custom "backflush" "purchase" 10 OFF 1.00 USD
""",
    )
    assert book.errors == []
    lots = book.lots(RIP)
    costs = {item: cost.number for item, cost in lots}
    assert costs == {"NO": D("2.50"), "ON": D(123), "OFF": D("0.10")}
    assert all(type(n) is Decimal for n in costs.values())
    assert str(costs["NO"]) == "2.50"
    assert book.money(PPV) == 0


def test_yaml_bare_no_key_is_an_item_too():
    from beancount_backflush import yamlio

    tree = yamlio.load("NO: 1\nON: 0123\nOFF: 2.50\nyes: y\n")
    assert dict(tree) == {"NO": D(1), "ON": D(123), "OFF": D("2.50"), "yes": "y"}
    assert type(tree["OFF"]) is Decimal


# -- directives ---------------------------------------------------------------------------------


def test_unknown_event_suggests_the_near_miss(ledger):
    book = ledger(
        bike_standards(), GOOD + '2026-01-05 custom "backflush" "purchse" 10 STEEL 25.00 USD\n'
    )
    directive_error(book, '"purchse"', 'unknown backflush event "purchse"', "did you mean")
    assert_good_purchase_posted(book)


def test_unknown_event_lists_the_events(ledger):
    book = ledger(bike_standards(), GOOD + '2026-01-05 custom "backflush" "assemble" 10 FRAME\n')
    directive_error(book, '"assemble"', "unknown backflush event", "produce", "unbuild")
    assert_good_purchase_posted(book)


def test_directive_with_no_values(ledger):
    book = ledger(bike_standards(), GOOD + '2026-01-05 custom "backflush"\n')
    directive_error(book, '2026-01-05 custom "backflush"', "starts with the event name")
    assert_good_purchase_posted(book)


@pytest.mark.parametrize(
    "directive, words",
    [
        ('"purchase" 10 STEEL', ("expects QTY ITEM TOTAL CCY", "got 10 STEEL")),
        ('"purchase" 25.00 USD', ("expects QTY ITEM TOTAL CCY",)),
        ('"produce"', ('"produce" expects QTY ITEM', "got nothing")),
        ('"produce" 10 FRAME 3 FRAME', ('"produce" expects QTY ITEM', "got 10 FRAME 3 FRAME")),
        ('"sell" 1 FRAME 30.00 USD Assets:Bank "cash"', ("expects QTY ITEM [TOTAL CCY",)),
        ('"purchase" 10 STEEL 25.00 USD "the bank"', ("expects", "[ACCOUNT]", '"the bank"')),
        ('"close" 1.00 USD 2.00 USD', ('"close" expects [TOTAL CCY]',)),
        ('"count" "STEEL"', ('"count" expects QTY ITEM', 'got "STEEL"')),
    ],
    ids=[
        "purchase-no-total",
        "purchase-no-qty",
        "produce-nothing",
        "produce-extra",
        "sell-extra",
        "text-for-account",
        "close-extra",
        "count-text",
    ],
)
def test_missing_or_extra_values_show_the_signature(ledger, directive, words):
    book = ledger(bike_standards(), GOOD + f'2026-01-05 custom "backflush" {directive}\n')
    message = directive_error(book, directive, *words)
    assert 'e.g. custom "backflush"' in message
    assert_good_purchase_posted(book)


@pytest.mark.parametrize(
    "directive",
    ['"purchase" 0 STEEL 0.00 USD', '"produce" -2 FRAME', '"sell" 0 FRAME', '"scrap" -1 BOLT'],
)
def test_zero_or_negative_quantity(ledger, directive):
    book = ledger(bike_standards(), GOOD + f'2026-01-05 custom "backflush" {directive}\n')
    directive_error(book, directive, "expects a positive quantity")
    assert_good_purchase_posted(book)


def test_negative_total(ledger):
    book = ledger(
        bike_standards(), GOOD + '2026-01-05 custom "backflush" "purchase" 10 STEEL -25.00 USD\n'
    )
    directive_error(book, "-25.00 USD", "expects a zero or positive total", "-25.00 USD")
    assert_good_purchase_posted(book)


def test_count_of_zero_is_allowed(ledger):
    book = ledger(bike_standards(), GOOD + '2026-01-31 custom "backflush" "count" 0 BOLT\n')
    assert book.errors == []
    assert book.units(RIP, "BOLT") == 0
    assert book.money("Expenses:Variances:MaterialUsage") == D("50.00")


def test_unknown_item_in_a_directive(ledger):
    book = ledger(
        bike_standards(), GOOD + '2026-01-05 custom "backflush" "purchase" 10 STEAL 25.00 USD\n'
    )
    directive_error(book, "STEAL", "unknown item STEAL", "did you mean 'STEEL'?")
    assert_good_purchase_posted(book)


def test_unknown_item_far_from_any(ledger):
    book = ledger(bike_standards(), GOOD + '2026-01-05 custom "backflush" "produce" 1 QQQQQQQQ\n')
    directive_error(book, "QQQQQQQQ", "unknown item QQQQQQQQ", "standards.yaml")
    assert_good_purchase_posted(book)


@pytest.mark.parametrize("event", ["produce", "sell", "scrap", "count", "unbuild", "return"])
def test_phantom_used_directly(ledger, event):
    book = ledger(bike_standards(), GOOD + f'2026-01-05 custom "backflush" "{event}" 1 HUB\n')
    directive_error(book, f'"{event}" 1 HUB', "HUB is a phantom", "never stocked")
    assert_good_purchase_posted(book)


def test_purchase_of_a_product_and_produce_of_a_material(ledger):
    book = ledger(
        bike_standards(),
        GOOD
        + """
2026-01-05 custom "backflush" "purchase" 1 FRAME 9.90 USD
2026-01-05 custom "backflush" "produce" 1 STEEL
""",
    )
    directive_error(book, '"purchase" 1 FRAME', '"purchase" expects a material', "product")
    directive_error(book, '"produce" 1 STEEL', '"produce" expects a product', "material")
    assert_good_purchase_posted(book)


def test_currency_other_than_the_standards(ledger):
    book = ledger(
        bike_standards(), GOOD + '2026-01-05 custom "backflush" "purchase" 10 STEEL 25.00 EUR\n'
    )
    directive_error(book, "25.00 EUR", "in EUR", "standards are in USD")
    assert book.units(RIP, "STEEL") == 0
    assert_good_purchase_posted(book)


def test_sale_in_another_currency(ledger):
    book = ledger(
        bike_standards(),
        GOOD
        + """
2026-01-05 custom "backflush" "produce" 1 FRAME
2026-01-06 custom "backflush" "sell" 1 FRAME 30.00 CHF
""",
    )
    directive_error(book, "30.00 CHF", '"sell" total is in CHF', "USD")
    assert book.units(FG, "FRAME") == 0  # FRAME needs STEEL: nothing produced either
    assert_nothing_lost(book)


def test_no_standard_in_force_on_the_date(ledger):
    # STEEL's first standard takes effect on 2026-01-01.
    book = ledger(
        bike_standards(), GOOD + '2025-12-30 custom "backflush" "purchase" 10 STEEL 25.00 USD\n'
    )
    path = standards_path(book)
    steel = line_of(path, "STEEL: {cost")
    directive_error(
        book,
        "2025-12-30",
        "no standard for STEEL is in force on 2025-12-30",
        f"standards.yaml:{steel}",
    )
    assert_good_purchase_posted(book)


def test_no_standard_for_a_product_whose_component_is_not_in_force(ledger):
    book = ledger(bike_standards(), GOOD + '2025-12-30 custom "backflush" "produce" 1 FRAME\n')
    directive_error(book, "2025-12-30", "no standard for FRAME is in force on 2025-12-30")
    assert_good_purchase_posted(book)


def test_unopened_accounts_say_what_to_open(ledger):
    book = ledger(
        bike_standards(),
        """
2020-01-01 open Assets:Inventory:RawInProcess
2020-01-01 open Expenses:Variances:PurchasePrice
2026-01-02 custom "backflush" "purchase" 1000 BOLT 48.00 USD
""",
        opens=False,
    )
    path = standards_path(book)
    plugin_errors = [e for e in book.errors if e.source["filename"] == str(path)]
    assert len(plugin_errors) == 1, book.messages()
    message = plugin_errors[0].message
    assert "Liabilities:AccountsPayable" in message
    assert '"2026-01-02 open Liabilities:AccountsPayable"' in message
    assert "auto_open: true" in message
    assert plugin_errors[0].source["lineno"] == line_of(path, "accounts:")
    assert book.units(RIP, "BOLT") == 1000  # still posted: bean-check flags the account
    assert_nothing_lost(book)


def test_unopened_account_named_on_a_directive_points_at_the_directive(ledger):
    book = ledger(
        bike_standards(),
        GOOD + '2026-01-05 custom "backflush" "purchase" 10 STEEL 25.00 USD Liabilities:Nope\n',
    )
    line = line_of(book.path, "Liabilities:Nope")
    ours = [e for e in book.errors if "open Liabilities:Nope" in e.message]
    assert len(ours) == 1, book.messages()
    assert ours[0].source["filename"] == str(book.path)
    assert ours[0].source["lineno"] == line
    assert_good_purchase_posted(book)


def test_auto_open_opens_the_accounts(ledger):
    book = ledger(
        "auto_open: true\n" + bike_standards(),
        """
2026-01-02 custom "backflush" "purchase" 1000 BOLT 48.00 USD
2026-01-03 custom "backflush" "purchase" 10 STEEL 25.00 USD Liabilities:SteelCo
""",
        opens=False,
    )
    assert book.errors == []
    opened = {e.account: e for e in book.entries if isinstance(e, data.Open)}
    assert {RIP, PPV, "Liabilities:AccountsPayable", "Liabilities:SteelCo"} <= set(opened)
    assert str(opened[RIP].date) == "2026-01-02"
    # Fava offers to edit an entry's source lines: these must not point into the YAML.
    assert opened[RIP].meta["filename"] == "<backflush>"
    assert opened[RIP].meta["backflush_source"].startswith(str(standards_path(book)) + ":")
    assert book.money("Liabilities:SteelCo") == D("-25.00")


def test_consuming_more_than_on_hand(ledger):
    # 1,000 BOLT on hand; 200 FRAME need 400 kg STEEL (none) and 1,600 BOLT.
    book = ledger(bike_standards(), GOOD + '2026-01-05 custom "backflush" "produce" 200 FRAME\n')
    directive_error(
        book,
        "200 FRAME",
        "not enough stock",
        "1600 BOLT needed, 1000 on hand",
        "STEEL needed, 0 on hand",
        "negative_stock: allow",
    )
    assert book.units(FG, "FRAME") == 0
    assert_good_purchase_posted(book)


def test_selling_more_than_on_hand(ledger):
    book = ledger(
        bike_standards(),
        GOOD
        + """
2026-01-04 custom "backflush" "purchase" 10 STEEL 25.00 USD
2026-01-05 custom "backflush" "produce" 2 FRAME
2026-01-06 custom "backflush" "sell" 3 FRAME 90.00 USD
""",
    )
    directive_error(book, '"sell" 3 FRAME', "3 FRAME needed, 2 on hand", FG)
    assert book.units(FG, "FRAME") == 2
    assert book.money(COGS) == 0 and book.money("Income:Sales") == 0
    assert book.units(RIP, "BOLT") == 1000 - 2 * 8
    assert_nothing_lost(book)


def test_scrapping_more_than_on_hand(ledger):
    book = ledger(bike_standards(), GOOD + '2026-01-05 custom "backflush" "scrap" 1001 BOLT\n')
    directive_error(book, "1001 BOLT", "scrap: not enough stock", "1001 BOLT needed")
    assert_good_purchase_posted(book)


def test_unbuilding_more_than_on_hand(ledger):
    book = ledger(bike_standards(), GOOD + '2026-01-05 custom "backflush" "unbuild" 1 FRAME\n')
    directive_error(book, "unbuild", "not enough stock", "1 FRAME needed, 0 on hand")
    assert_good_purchase_posted(book)


def test_negative_stock_allow_lets_it_go_negative(ledger):
    book = ledger(
        bike_standards(negative_stock="allow"),
        GOOD + '2026-01-05 custom "backflush" "produce" 200 FRAME\n',
    )
    assert book.errors == []
    assert book.units(FG, "FRAME") == 200
    assert book.units(RIP, "BOLT") == 1000 - 1600
    assert book.units(RIP, "STEEL") == -400


def withdrawal_by_hand(bolts: int) -> str:
    return f"""
2026-01-05 * "Bolts taken for maintenance"
  Assets:Inventory:RawInProcess  -{bolts} BOLT {{0.05 USD, 2026-01-01}}
  Expenses:Maintenance
2026-01-01 open Expenses:Maintenance
"""


def test_withdrawal_by_hand_of_more_than_on_hand(ledger):
    book = ledger(
        bike_standards(),
        GOOD + withdrawal_by_hand(1200),
    )
    # The user's own transaction is never dropped: it stays as written, with an error.
    line = line_of(book.path, "Bolts taken")
    the_error(book, book.path, line, "withdrawal: not enough stock", "1200 BOLT needed")
    assert book.units(RIP, "BOLT") == -200
    assert_nothing_lost(book)


def test_withdrawal_by_hand_beyond_stock_under_backlog_is_an_error_not_a_negative_lot(ledger):
    # negative_stock: backlog keeps inventory from going negative: a backflush event's
    # shortage goes to the backlog; the user's own withdrawal cannot, so it is an error.
    book = ledger(
        bike_standards(negative_stock="backlog"),
        GOOD + withdrawal_by_hand(1200),
    )
    line = line_of(book.path, "Bolts taken")
    message = the_error(book, book.path, line, "withdrawal: not enough stock", "1200 BOLT needed")
    assert "1000 on hand" in message and "negative_stock: backlog" in message
    assert book.units(RIP, "BOLT") == -200  # the transaction stays as written
    assert_nothing_lost(book)


def test_withdrawal_by_hand_within_stock_under_backlog_is_fine(ledger):
    book = ledger(
        bike_standards(negative_stock="backlog"),
        GOOD + withdrawal_by_hand(100),
    )
    assert book.errors == []
    assert book.units(RIP, "BOLT") == 900


def test_close_assertion_that_does_not_match(ledger):
    # 100.00 of labor incurred against 6 FRAME x 3.00 = 18.00 allocated; overhead 6 x 1.50
    # = 9.00 allocated against nothing incurred.
    book = ledger(
        bike_standards(),
        GOOD
        + """
2026-01-04 custom "backflush" "purchase" 20 STEEL 50.00 USD
2026-01-05 custom "backflush" "produce" 6 FRAME
2026-01-31 custom "backflush" "close" 1.00 USD
""",
    )
    # Labor: 100.00 incurred - 18.00 allocated; overhead: -9.00 allocated: 73.00 to COGS.
    # Like a failed balance assertion, the close still posts (the books stay complete and
    # the next close does not dispose the same amounts twice); the error is at the close.
    line = line_of(book.path, '"close" 1.00 USD')
    message = the_error(
        book, book.path, line, "close asserts 1.00 USD", "disposes 73.00 USD", "closed period"
    )
    assert len(book.errors) == 1, message
    assert book.money(COGS) == D("73.00")
    assert_nothing_lost(book)


def test_close_assertion_that_matches(ledger):
    book = ledger(
        bike_standards(),
        GOOD
        + """
2026-01-04 custom "backflush" "purchase" 20 STEEL 50.00 USD
2026-01-05 custom "backflush" "produce" 6 FRAME
2026-01-31 custom "backflush" "close" 73.00 USD
""",
    )
    assert book.errors == []
    assert book.money(COGS) == D("73.00")


@pytest.mark.parametrize(
    "triggers, directive, words",
    [
        ("[completion, sale]", '"count" 10 BOLT', ("materials are not held in inventory",)),
        ("[completion, sale]", '"scrap" 10 BOLT', ("materials are not held in inventory",)),
        ("[purchase, sale]", '"scrap" 1 FRAME', ("finished goods are not held",)),
        ("[purchase, sale]", '"count" 1 FRAME', ("finished goods are not held",)),
    ],
)
def test_events_the_triggers_cannot_post(ledger, triggers, directive, words):
    book = ledger(
        bike_standards(triggers=triggers), GOOD + f'2026-01-31 custom "backflush" {directive}\n'
    )
    directive_error(book, directive, *words)
    assert book.money("Expenses:Conversion:Labor") == D("100.00")
    assert_nothing_lost(book)


def test_product_received_into_raw_and_in_process(ledger):
    book = ledger(
        bike_standards(),
        GOOD
        + """
2026-01-05 * "Frames bought in"
  Assets:Inventory:RawInProcess  2 FRAME {9.90 USD}
  Liabilities:AccountsPayable
""",
    )
    line = line_of(book.path, "Frames bought in")
    the_error(book, book.path, line, "FRAME belongs in Assets:Inventory:FinishedGoods")
    assert_good_purchase_posted(book)


def test_material_received_without_cost(ledger):
    book = ledger(
        bike_standards(),
        GOOD
        + """
2026-01-05 * "Steel, no cost"
  Assets:Inventory:RawInProcess  2 STEEL
  Equity:Opening
2020-01-01 open Equity:Opening
""",
    )
    line = line_of(book.path, "Steel, no cost")
    the_error(book, book.path, line, "must be held at cost", "{2.50 USD}")
    assert_good_purchase_posted(book)


def test_every_bad_directive_at_once(ledger):
    # Many mistakes in one ledger: one error each, all the good entries posted.
    bad = [
        '"purchse" 10 STEEL 25.00 USD',
        '"purchase" 10 STEEL',
        '"produce" 0 FRAME',
        '"produce" 1 HUB',
        '"purchase" 10 STEAL 25.00 USD',
        '"purchase" 10 STEEL 25.00 EUR',
        '"sell" 5 FRAME',
    ]
    text = GOOD + "".join(f'2026-01-05 custom "backflush" {d}\n' for d in bad)
    book = ledger(bike_standards(), text)
    for directive in bad:
        directive_error(book, directive)
    assert len(book.errors) == len(bad)
    assert_good_purchase_posted(book)


def test_no_error_points_nowhere(ledger):
    book = ledger(bike_standards(), GOOD + '2026-01-05 custom "backflush" "produce" 1 FRAME\n')
    for error in book.errors:
        assert os.path.exists(error.source["filename"]) and error.source["lineno"] >= 1


def test_unknown_conversion_pool_on_a_product(ledger):
    book = ledger(
        ACCOUNTS
        + """\
conversion:
  labor: {incurred: Expenses:Conversion:Labor}
materials:
  BOLT: 0.05
products:
  NUT:
    bom: {BOLT: 1}
    conversion: {labour: 0.10}
""",
        GOOD,
    )
    standards_error(book, "labour", "unknown conversion pool 'labour'", "did you mean 'labor'?")
    assert_standards_unusable(book)


def test_item_both_material_and_product(ledger):
    book = ledger(
        ACCOUNTS + "materials:\n  BOLT: 0.05\nproducts:\n  BOLT: {bom: {BOLT: 1}}\n",
        GOOD,
    )
    standards_error(book, "BOLT: {bom", "BOLT is both a material and a product")
    assert_standards_unusable(book)


def test_unbuilding_more_than_completed_under_purchase_sale(ledger):
    book = ledger(
        bike_standards(triggers="[purchase, sale]"),
        GOOD
        + """
2026-01-04 custom "backflush" "purchase" 10 STEEL 25.00 USD
2026-01-05 custom "backflush" "produce" 1 FRAME
2026-01-06 custom "backflush" "unbuild" 2 FRAME
""",
    )
    directive_error(book, '"unbuild" 2 FRAME', "unbuild: 2 FRAME", "1 completed and not yet sold")
    assert_good_purchase_posted(book)

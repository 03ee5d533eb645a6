"""Reports reconcile with the ledger: inventory with the inventory accounts, variances with
the variance and conversion accounts (bike standards, see standards_bike.py); and the
figures the issue tracker found wrong, with the amounts they must have."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from beancount.core import data
from beancount.core.amount import Amount
from beancount.core.position import Cost
from standards_bike import FG, RIP, bike_standards

from beancount_backflush import reports
from beancount_backflush.plugin import standards_for

D = Decimal
Date = datetime.date

MONTHS = """
2026-01-05 custom "backflush" "purchase" 100 STEEL 260.00 USD
  invoice: "A-1"
2026-01-05 custom "backflush" "purchase" 1000 BOLT 48.00 USD
2026-01-06 custom "backflush" "produce" 10 FRAME
2026-01-20 custom "backflush" "sell" 6 FRAME 300.00 USD
2026-01-25 * "Payroll"
  Expenses:Conversion:Labor     40.00 USD
  Liabilities:Wages
2026-01-31 custom "backflush" "close"
2026-02-03 custom "backflush" "scrap" 1 FRAME
2026-02-10 custom "backflush" "count" 75 STEEL
2026-02-11 * "Imported receipt"
  Assets:Inventory:RawInProcess  20 STEEL {2.60 USD}
  Liabilities:AccountsPayable
"""
# ...and the business goes on past February, so that a February view is a whole month.
LATER = """
2026-02-20 custom "backflush" "sell" 2 FRAME 110.00 USD
2026-03-02 custom "backflush" "purchase" 10 STEEL 25.00 USD
"""
FEBRUARY = reports.Scope(Date(2026, 2, 1), Date(2026, 2, 28))


def load(ledger, text=MONTHS, **kwargs):
    book = ledger(bike_standards(**kwargs), text)
    assert book.errors == []
    return book, standards_for(book.options)


def test_inventory_report_reconciles_with_the_inventory_accounts(ledger):
    book, standards = load(ledger, disposition="prorate")
    report = reports.inventory_report(book.entries, book.options, standards)
    for account in (RIP, FG, RIP + ":Adjustment", FG + ":Adjustment"):
        assert report.by_account.get(account, D(0)) == book.money(account)
    assert report.total == sum(
        book.money(a) for a in (RIP, FG, RIP + ":Adjustment", FG + ":Adjustment")
    )
    steel = next(r for r in report.rows if r.item == "STEEL")
    assert steel.quantity == 95 and steel.unit == "kg" and steel.unit_cost == D("2.50")
    assert steel.last_count == Date(2026, 2, 10)
    assert steel.count_difference == -5  # 80 on the books, 75 counted
    frame = next(r for r in report.rows if r.item == "FRAME")
    assert frame.quantity == 3 and frame.value == D("29.70")


def test_inventory_report_as_of_an_earlier_date(ledger):
    book, standards = load(ledger)
    report = reports.inventory_report(book.entries, book.options, standards, Date(2026, 1, 10))
    # 300.00 bought, 54.00 consumed by 10 frames (20 kg STEEL, 80 BOLT)
    assert report.by_account == {RIP: D("246.00"), FG: D("99.00")}


def test_days_on_hand_divides_by_the_average_daily_cogs(ledger):
    book, standards = load(ledger)
    report = reports.inventory_report(book.entries, book.options, standards)
    # Stock 283.50 RIP + 29.70 FG; COGS at standard 59.40 (6 frames; the close's disposal
    # of variances is not COGS at standard) over the 38 days from Jan 5 to Feb 11.
    assert report.total == D("313.20")
    assert report.cogs == D("59.40") and report.days == 38
    assert report.daily_cogs == D("1.56")
    assert report.days_on_hand == D("200.4")
    text = reports.render_inventory_text(report)
    assert "average daily COGS at standard of 1.56" in text
    assert "59.40 over 38 days" in text


def test_days_on_hand_in_a_february_view_counts_february_only(ledger):
    book, standards = load(ledger, MONTHS + LATER)
    report = reports.inventory_report(book.entries, book.options, standards, scope=FEBRUARY)
    assert report.begin_date == Date(2026, 2, 1) and report.end_date == Date(2026, 2, 28)
    assert report.days == 28  # not 29: nothing before February is counted
    assert report.cogs == D("19.80")  # the two frames sold on Feb 20
    assert report.total == D("293.40")  # 283.50 RIP + 1 FRAME
    assert report.daily_cogs == D("0.71")
    assert report.days_on_hand == D("414.9")  # 293.40 / (19.80 / 28)


def test_inventory_history_products_margin_and_month_comparison(ledger):
    book, standards = load(ledger, MONTHS + LATER)
    report = reports.inventory_report(
        book.entries, book.options, standards, scope=reports.Scope(end=Date(2026, 2, 28))
    )
    assert [(p.date, p.total) for p in report.history] == [
        (Date(2026, 1, 31), D("285.60")),  # 246.00 RIP + 4 FRAME 39.60
        (Date(2026, 2, 28), D("293.40")),
    ]
    frame = report.products[0]
    assert (frame.item, frame.made, frame.sold) == ("FRAME", 10, 8)
    assert frame.revenue == D("410.00") and frame.cogs == D("79.20")
    assert frame.margin == D("330.80") and frame.margin_share == D("0.8068")
    assert [(m, f.made, f.sold, f.revenue) for m, f in report.product_months] == [
        ("2026-01", 10, 6, D("300.00")),
        ("2026-02", 0, 2, D("110.00")),
    ]
    figures = {c.title: c for c in report.comparison}
    assert report.month == "2026-02"
    assert figures["Units sold"].month == 2 and figures["Units sold"].previous == 6
    assert figures["Units sold"].year_to_date == 8 and figures["Units sold"].change == -4
    assert figures["Revenue"].year_to_date == D("410.00")
    assert figures["Margin at standard"].month == D("90.20")  # 110.00 - 19.80
    assert figures["Inventory at month end"].previous == D("285.60")


def test_inventory_under_an_account_filter_lists_that_account_complete(ledger):
    book, standards = load(ledger)
    scope = reports.Scope(account=lambda a: a.startswith(FG), account_text=FG)
    report = reports.inventory_report(book.entries, book.options, standards, scope=scope)
    assert [(r.account, r.item, r.quantity, r.value) for r in report.rows] == [
        (FG, "FRAME", 3, D("29.70"))
    ]
    assert report.total == D("29.70")
    assert report.notes and FG in report.notes[0]


def test_inventory_under_the_filter_bar_lists_what_it_touches_at_full_balance(ledger):
    book, standards = load(ledger)
    purchases = {id(e) for e in book.transactions() if e.meta.get("backflush") == "purchase"}
    scope = reports.Scope(selected=purchases, filter_text='backflush:"purchase"')
    report = reports.inventory_report(book.entries, book.options, standards, scope=scope)
    assert {r.item: r.quantity for r in report.rows} == {"STEEL": 95, "BOLT": 920}
    assert all(r.quantity > 0 for r in report.rows)
    assert report.products == []  # no produce or sell among the selected entries
    assert any("purchase" in note for note in report.notes)


def test_variance_report_reconciles_with_the_accounts(ledger):
    book, standards = load(ledger)
    report = reports.variance_report(book.entries, book.options, standards)
    assert report.months == ["2026-01", "2026-02"]
    jan, feb = report.matrix["2026-01"], report.matrix["2026-02"]
    assert jan["purchase_price"] == D("8.00")
    assert jan["pool:labor"] == D("10.00")  # 40.00 incurred - 30.00 allocated
    assert jan["pool:overhead"] == D("-15.00")  # over-allocated: favourable
    assert feb["scrap"] == D("9.90") and feb["usage"] == D("12.50")
    assert feb["purchase_price"] == D("2.00")  # 20 kg re-priced 2.60 -> 2.50
    assert report.by_item["purchase_price"] == {"STEEL": D("12.00"), "BOLT": D("-2.00")}
    assert report.by_item["usage"] == {"STEEL": D("12.50")}
    assert report.by_item["scrap"] == {"FRAME": D("9.90")}
    for column in report.columns:
        balance = sum(book.money(a) for a in column.accounts)
        assert report.balances[column.key] == balance, column
    # January's close moved PPV, labor and overhead out: they were disposed of.
    assert report.disposed["purchase_price"] == D("-8.00")
    chart = report.chart()[0]
    assert chart["type"] == "bar" and [b["date"] for b in chart["data"]] == [
        Date(2026, 1, 31),
        Date(2026, 2, 28),
    ]
    assert chart["data"][1]["account_balances"]["Expenses:Variances:Scrap"] == {"USD": D("9.90")}
    assert chart["data"][0]["balance"] == {"USD": D("3.00")}


def test_variances_as_a_share_of_their_standard_base(ledger):
    book, standards = load(ledger)
    report = reports.variance_report(book.entries, book.options, standards)
    # PPV 10.00 on purchases at standard of 350.00 (250 + 50 bought, 50 re-priced).
    assert report.bases["purchase_price"] == D("350.00")
    assert report.share("purchase_price") == D("0.0286")
    # Labor 10.00 under-allocated on 30.00 allocated (10 frames x 3.00).
    assert report.bases["pool:labor"] == D("30.00")
    assert report.share("pool:labor") == D("0.3333")
    assert report.bases["usage"] == D("54.00")  # materials used by 10 frames
    assert report.bases["scrap"] == D("99.00")  # production at standard
    columns = {c.key: c for c in report.columns}
    assert columns["purchase_price"].base_title == "purchases at standard"
    assert columns["pool:labor"].title == "Labor under/(over)"


def test_variance_month_against_previous_month_and_year_to_date(ledger):
    book, standards = load(ledger)
    report = reports.variance_report(book.entries, book.options, standards)
    rows = {column.key: (c, share) for column, c, share in report.comparison()}
    ppv, share = rows["purchase_price"]
    assert (ppv.month, ppv.previous, ppv.change, ppv.year_to_date) == (
        D("2.00"),
        D("8.00"),
        D("-6.00"),
        D("10.00"),
    )
    assert share == D("0.0286")


def test_variances_in_a_february_view(ledger):
    book, standards = load(ledger, MONTHS + LATER)
    report = reports.variance_report(book.entries, book.options, standards, scope=FEBRUARY)
    assert report.months == ["2026-02"]
    assert report.arisen["purchase_price"] == D("2.00")
    assert report.disposed == {}
    # The balance at the end of February = what January left (closed: 0) + February's.
    assert report.balances["purchase_price"] == D("2.00")
    assert report.balances["scrap"] == D("9.90") and report.opening["scrap"] == D("0")
    # Year to date still counts January, the month before the view.
    ppv = next(c for column, c, _ in report.comparison() if column.key == "purchase_price")
    assert ppv.year_to_date == D("10.00") and ppv.previous == D("8.00")


def test_variances_under_an_account_filter_show_that_account_complete(ledger):
    book, standards = load(ledger)
    ppv = "Expenses:Variances:PurchasePrice"
    scope = reports.Scope(account=lambda a: a == ppv, account_text=ppv)
    report = reports.variance_report(book.entries, book.options, standards, scope=scope)
    assert [c.key for c in report.columns] == ["purchase_price"]
    assert report.arisen == {"purchase_price": D("10.00")}
    assert report.disposed == {"purchase_price": D("-8.00")}
    assert report.balances == {"purchase_price": D("2.00")}
    # An account filter on no variance account: everything, said so.
    scope = reports.Scope(account=lambda a: a == FG, account_text=FG)
    report = reports.variance_report(book.entries, book.options, standards, scope=scope)
    assert len(report.columns) == 8 and "matches no variance account" in report.notes[0]


def test_variances_under_the_filter_bar_are_the_selected_entries(ledger):
    book, standards = load(ledger)
    invoice = {id(e) for e in book.transactions() if e.meta.get("invoice") == "A-1"}
    scope = reports.Scope(selected=invoice, filter_text='invoice:"A-1"')
    report = reports.variance_report(book.entries, book.options, standards, scope=scope)
    assert report.arisen["purchase_price"] == D("10.00")  # the STEEL invoice only
    assert report.total == D("10.00") and report.disposed == {}
    assert not report.balances_shown
    assert "Balance" not in [row[0] for row in reports.variance_tables(report)[0].rows]
    assert 'invoice:"A-1"' in report.notes[0]


def _lot(account, qty, item, cost, date):
    return data.Posting(
        account, Amount(D(qty), item), Cost(D(cost), "USD", date, None), None, None, None
    )


def _cash(account, number):
    return data.Posting(account, Amount(D(number), "USD"), None, None, None, None)


REVALUATION = "Expenses:Variances:Revaluation"
OLD, NEW = Date(2026, 1, 1), Date(2026, 3, 1)
REVALUED = [  # (account, item, quantity, old standard, new standard, variance)
    (FG, "BIKE", "21", "249.90", "250.38", "-10.08"),
    (FG, "CARGO", "6", "320.15", "321.33", "-7.08"),
    (FG, "FRAME", "3", "94.80", "95.28", "-1.44"),
    (RIP, "STEEL", "407.5", "2.50", "2.70", "-81.50"),
]


@pytest.mark.parametrize("layout", ["each item's variance after its lots", "variances last"])
def test_a_revaluation_is_attributed_to_each_item_it_revalues(ledger, layout):
    book, standards = load(ledger, "")
    lots, money = [], []
    for account, item, qty, old, new, variance in REVALUED:
        lots.append([_lot(account, "-" + qty, item, old, OLD), _lot(account, qty, item, new, NEW)])
        money.append(_cash(REVALUATION, variance))
    if layout == "variances last":
        postings = [p for pair in lots for p in pair] + money
    else:
        postings = [p for pair, m in zip(lots, money, strict=True) for p in (*pair, m)]
    meta = {"filename": "standards.yaml", "lineno": 3, "backflush": "revalue"}
    txn = data.Transaction(meta, NEW, "*", None, "revalue", frozenset(), frozenset(), postings)
    report = reports.variance_report([txn], book.options, standards)
    assert report.arisen["revaluation"] == D("-100.10")
    assert report.by_item["revaluation"] == {
        "BIKE": D("-10.08"),
        "CARGO": D("-7.08"),
        "FRAME": D("-1.44"),
        "STEEL": D("-81.50"),
    }
    assert report.bases["revaluation"] == D("8572.05")  # the stock at its new standard


def test_a_receipt_of_several_materials_repriced_is_attributed_per_material(ledger):
    book, standards = load(ledger, "")
    ppv = "Expenses:Variances:PurchasePrice"
    postings = [
        _lot(RIP, "500", "STEEL", "2.50", OLD),
        _lot(RIP, "1000", "BOLT", "0.05", OLD),
        _cash("Liabilities:AccountsPayable", "-1370.00"),
        _cash(ppv, "50.00"),
        _cash(ppv, "10.00"),
    ]
    meta = {"filename": "ledger.beancount", "lineno": 9, "backflush": "reprice"}
    txn = data.Transaction(meta, NEW, "*", None, "receipt", frozenset(), frozenset(), postings)
    report = reports.variance_report([txn], book.options, standards)
    assert report.by_item["purchase_price"] == {"STEEL": D("50.00"), "BOLT": D("10.00")}


def test_health_report_flags_uncounted_items_and_variance_share(ledger):
    book, standards = load(ledger, materiality="0.01")
    report = reports.health_report(book.entries, book.options, standards)
    jan = report.months[0]
    assert jan.cogs == D("59.40")
    assert jan.variances == D("3.00")  # 8.00 + 10.00 - 15.00
    assert jan.variance_share == D("0.0505")
    assert any("above the materiality" in w for w in report.warnings)
    # The books are five weeks old: nothing is overdue for a count yet (90 days)...
    assert report.overdue_counts == []
    # ...but BOLT and FRAME were never counted, and the page says so.
    assert report.never_counted == ["BOLT", "FRAME"]
    assert any(
        "2 item(s) on hand have never been counted (BOLT, FRAME)" in line
        for line in report.information
    )


def test_health_in_a_february_view_has_february_only(ledger):
    book, standards = load(ledger, MONTHS + LATER)
    report = reports.health_report(book.entries, book.options, standards, scope=FEBRUARY)
    assert [m.month for m in report.months] == ["2026-02"]
    feb = report.months[0]
    assert (feb.inventory, feb.cogs, feb.days) == (D("293.40"), D("19.80"), 28)
    assert feb.days_on_hand == D("414.9")  # the same ratio as the Inventory page's
    assert feb.variances == D("24.40")  # scrap 9.90 + usage 12.50 + PPV 2.00
    assert report.end_date == Date(2026, 2, 28)
    status = {c.item: (c.last_count, c.days, c.status) for c in report.counts}
    assert status["STEEL"] == (Date(2026, 2, 10), 18, "due in 72 days")
    assert status["BOLT"] == (None, 54, "never counted: due in 36 days")


def test_health_never_claims_counts_are_current_when_items_were_never_counted(ledger):
    book, standards = load(
        ledger,
        """
2026-01-05 custom "backflush" "purchase" 100 STEEL 250.00 USD
2026-01-05 custom "backflush" "purchase" 1000 BOLT 50.00 USD
2026-01-06 custom "backflush" "produce" 10 FRAME
2026-01-06 custom "backflush" "sell" 10 FRAME 200.00 USD
""",
    )
    report = reports.health_report(book.entries, book.options, standards)
    assert report.warnings == []
    text = " ".join(report.information)
    assert text.startswith("No warnings")
    assert "counted in the last" not in text and "current" not in text
    assert "2 item(s) on hand have never been counted (BOLT, STEEL)" in text


def test_health_report_flags_items_not_counted_for_90_days(ledger):
    book, standards = load(
        ledger,
        MONTHS
        + """
2026-06-01 custom "backflush" "purchase" 10 BOLT 0.50 USD
""",
    )
    report = reports.health_report(book.entries, book.options, standards)
    overdue = dict(report.overdue_counts)
    # STEEL was counted on Feb 10: 111 days before Jun 1; BOLT and FRAME never, since Jan.
    assert set(overdue) == {"BOLT", "FRAME", "STEEL"}
    assert overdue["STEEL"] == Date(2026, 2, 10) and overdue["BOLT"] is None
    assert any("3 item(s) on hand not counted" in w for w in report.warnings)


MALFORMED = (
    MONTHS
    + """
2026-02-12 * "Hand-written entries that borrow the plugin's metadata names"
  backflush: "count"
  backflush_quantity: "many"
  Expenses:COGS  1.00 USD
  Assets:Bank
2026-02-13 * "A close by hand"
  backflush: "close"
  backflush_uninventoried: "x"
  backflush_cogs: "y"
  Expenses:COGS  1.00 USD
  Assets:Bank
2026-02-14 * "A sale by hand"
  backflush: "sell"
  backflush_item: 42
  backflush_quantity: 3
  Income:Sales  -5.00 USD
  Assets:Bank
2026-02-15 * "Odd event"
  backflush: 7
  backflush_item: "STEEL"
  Expenses:Variances:Scrap  1.00 USD
  Assets:Bank
"""
)


def test_reports_survive_hand_written_entries_with_the_plugins_metadata_names(ledger):
    book = ledger(bike_standards(), MALFORMED)  # the plugin may flag them; reports cope
    standards = standards_for(book.options)
    inventory = reports.inventory_report(book.entries, book.options, standards)
    assert inventory.total == D("313.20")
    variances = reports.variance_report(book.entries, book.options, standards)
    assert variances.arisen["scrap"] == D("10.90")
    health = reports.health_report(book.entries, book.options, standards)
    assert health.months[-1].uninventoried is None
    for report in (inventory, variances, health, reports.standards_report(standards, OLD)):
        assert reports.tables_of(report)
        json.dumps(reports.report_json(report), default=str)
    reports.render_inventory_text(inventory)
    reports.render_variances_text(variances)
    reports.render_health_text(health)


def test_standards_report_tree_history_and_names_in_words(ledger):
    book, standards = load(ledger)
    report = reports.standards_report(standards, Date(2026, 7, 1))
    bike = next(p for p in report.products if p.product == "BIKE")
    assert bike.total == D("20.70")
    assert [(n.item, n.kind) for n in bike.bom] == [("FRAME", "subassembly"), ("HUB", "phantom")]
    assert [c.item for c in bike.bom[1].children] == ["BOLT"]
    assert bike.bom[1].children[0].path == "BIKE:HUB:BOLT"
    assert bike.bom[1].extended == D("0.40")  # 2 HUB x 0.20
    assert ("BOLT", D("0.05"), "units", ["FRAME", "HUB"]) in report.materials
    steel_changes = [(c.date, c.value) for c in report.history if c.item == "STEEL"]
    assert steel_changes == [(Date(2026, 1, 1), "2.50"), (Date(2026, 7, 1), "2.70")]
    assert report.triggers == "purchase, completion and sale"
    assert report.pool_titles == {"labor": "Labor", "overhead": "Overhead"}
    assert report.pool_accounts["labor"] == "Expenses:Conversion:Labor"
    assert reports.words("machine_time") == "Machine time"


def test_tables_csv_json_and_text(ledger):
    book, standards = load(ledger)
    inventory = reports.inventory_report(book.entries, book.options, standards)
    table = reports.inventory_tables(inventory)[0]
    csv_text = reports.render_csv(table)
    assert csv_text.splitlines()[0] == (
        "Account,Item,Quantity,Unit,Standard cost,Value,Last count,Counted - book"
    )
    assert "Assets:Inventory:RawInProcess,STEEL,95,kg,2.50,237.50,2026-02-10,-5" in csv_text
    variances = reports.variance_report(book.entries, book.options, standards)
    matrix = reports.render_csv(reports.variance_tables(variances)[0]).splitlines()
    assert matrix[1].startswith("2026-01,8.00,0,0,0,0,0,10.00,-15.00,3.00")
    payload = reports.report_json(variances)
    assert payload["tables"]["matrix"]["rows"][0][0] == "2026-01"
    text = reports.render_variances_text(variances)
    assert "2026-01" in text and "Balance" in text and "2.9 % of purchases at standard" in text
    text = reports.render_inventory_text(inventory)
    assert "STEEL" in text and "Total" in text


def test_variance_kinds_beyond_the_six_appear_once_posted_to(ledger):
    book, standards = load(ledger)
    spending = standards.variance_accounts.get("spending")
    if spending is None:
        pytest.skip("these standards have no spending variance account")
    report = reports.variance_report(book.entries, book.options, standards)
    assert "spending" not in {c.key for c in report.columns}
    postings = [_cash(spending, "5.00"), _cash("Assets:Bank", "-5.00")]
    txn = data.Transaction(
        {"filename": "x", "lineno": 1},
        Date(2026, 2, 12),
        "*",
        None,
        "spend",
        frozenset(),
        frozenset(),
        postings,
    )
    report = reports.variance_report([*book.entries, txn], book.options, standards)
    column = next(c for c in report.columns if c.key == "spending")
    assert column.title == "Spending" and report.arisen["spending"] == D("5.00")


def test_a_completion_with_actual_quantities_attributes_usage_to_each_component(ledger):
    book, standards = load(
        ledger,
        """
2026-01-05 custom "backflush" "purchase" 100 STEEL 250.00 USD
2026-01-05 custom "backflush" "purchase" 1000 BOLT 50.00 USD
2026-01-06 custom "backflush" "produce" 10 FRAME 21.5 STEEL 78 BOLT
""",
    )
    report = reports.variance_report(book.entries, book.options, standards)
    # 1.5 kg of steel over the standard 20 kg at 2.50; 2 bolts under the standard 80 at 0.05.
    assert report.by_item["usage"] == {"STEEL": D("3.75"), "BOLT": D("-0.10")}


def test_health_warnings_without_months_are_about_the_whole_period():
    # A report built by a tool without warning_months: every warning is shown, none dated.
    report = reports.HealthReport("USD", [], Decimal(0), [], ["check the counts"], "steady")
    assert report.warnings_for(["2026-01"]) == (["check the counts"], [])
    assert reports.health_tables(report)[-1].rows == [["", "check the counts"]]

"""example-brewery/: loads with no errors, and its figures are the ones worked out by hand
in example-brewery/README.md (to the cent)."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from beancount.core import data

from beancount_backflush import reports
from beancount_backflush.plugin import standards_for

D = Decimal
Date = datetime.date
ROOT = Path(__file__).resolve().parent.parent
LEDGER = ROOT / "example-brewery" / "ledger.beancount"
RIP = "Assets:Inventory:RawInProcess"
FG = "Assets:Inventory:FinishedGoods"
BACKLOG = "Liabilities:Backflush:Backlog"
MONTHS = ("2026-01", "2026-02", "2026-03")


@pytest.fixture(scope="module")
def loaded():
    os.environ["BEANCOUNT_DISABLE_LOAD_CACHE"] = "1"
    entries, errors, options = loader.load_file(str(LEDGER))
    assert errors == [], [e.message for e in errors]
    return entries, options, standards_for(options)


def transactions(entries, until=None):
    return [
        e for e in entries if isinstance(e, data.Transaction) and (until is None or e.date <= until)
    ]


def value(entries, account, until=None) -> Decimal:
    """Book value: lots at cost, money as it is (USD only)."""
    total = D(0)
    for txn in transactions(entries, until):
        for p in txn.postings:
            if p.account == account:
                if p.cost is not None:
                    total += p.units.number * p.cost.number
                elif p.units.currency == "USD":
                    total += p.units.number
    return total


def by_month(entries, account) -> dict[str, Decimal]:
    """What arose in an account each month, the closes' disposals left out."""
    months: dict[str, Decimal] = defaultdict(D)
    for txn in transactions(entries):
        if txn.meta.get("backflush") == "close":
            continue
        for p in txn.postings:
            if p.account == account:
                months[f"{txn.date:%Y-%m}"] += p.units.number
    return {m: months.get(m, D(0)) for m in MONTHS}


def test_bean_check_passes_with_no_errors():
    result = subprocess.run(
        [str(Path(sys.executable).parent / "bean-check"), str(LEDGER)],
        capture_output=True,
        text=True,
        env={**os.environ, "BEANCOUNT_DISABLE_LOAD_CACHE": "1"},
        check=False,
    )
    assert result.returncode == 0 and result.stdout == result.stderr == "", result


def test_stock_at_the_end_worked_out_from_the_recipes(loaded):
    entries, _, _ = loaded
    # MALT 3,000 + 2,000 + 2,500 bought, 6,540 used at standard (+5 on I-003, -4 on L-008),
    # 12 kg short at the January count: 947 kg x 1.10. HOPS 210 bought, 204.4 used (+0.6,
    # +0.4): 5 kg x 28.00. YEAST 380 bought, 20 returned, 330 used: 30 packs x 6.50.
    assert value(entries, RIP) == D("1041.70") + D("140.00") + D("195.00") == D("1376.70")
    # Kegs: LAGER 360 made, 330 sold, 1 leaked: 29 x 84.85; IPA 300 made, 265 sold: 35 x 119.35.
    assert value(entries, FG) == D("2460.65") + D("4177.25") == D("6637.90")
    assert value(entries, "Income:Sales") == D("-118700.00")  # 330 x 175.00 + 265 x 230.00
    assert value(entries, "Assets:Bank:Checking") == D("28267.00")


def test_purchase_price_variances_of_usd_and_eur_invoices(loaded):
    entries, _, _ = loaded
    # January: malt +40.00 (2,240.00 for 2,200.00) and -20.00 (1,080.00 for 1,100.00); hops
    # 1,500.00 EUR at 1.08 = 1,620.00 for 1,680.00: -60.00; yeast 792.00 for 780.00: +12.00.
    # February: malt +100.00; hops 2,000.00 EUR at 1.10 = 2,200.00 for 2,240.00: -40.00;
    # yeast +36.00; the 20 packs returned for 136.00 (130.00 at standard): -6.00.
    # March: malt +50.00; hops 780.00 EUR at 1.07 = 834.60 for 840.00: -5.40, and
    # 1,040.00 EUR = 1,112.80 for 1,120.00: -7.20.
    assert by_month(entries, "Expenses:Variances:PurchasePrice") == {
        "2026-01": D("-28.00"),
        "2026-02": D("90.00"),
        "2026-03": D("37.40"),
    }
    eur = sum(
        (
            p.units.number
            for t in transactions(entries)
            for p in t.postings
            if p.account == "Liabilities:AccountsPayable" and p.units.currency == "EUR"
        ),
        D(0),
    )
    assert eur == D("-3820.00")  # 5,320.00 EUR invoiced, 1,500.00 EUR paid


def test_usage_from_actual_consumption_and_counts(loaded):
    entries, _, _ = loaded
    # January: I-003 used 225 kg malt (220: +5.50) and 10.6 kg hops (10: +16.80); the count
    # found 12 kg of malt short (+13.20). February: L-008 176 kg (180: -4.40). March: I-010
    # 10.4 kg of hops (10: +11.20).
    assert by_month(entries, "Expenses:Variances:MaterialUsage") == {
        "2026-01": D("35.50"),
        "2026-02": D("-4.40"),
        "2026-03": D("11.20"),
    }
    assert value(entries, "Expenses:Variances:Shrinkage") == D("84.85")  # the leaking keg


def test_conversion_variances_split_at_each_close(loaded):
    entries, _, _ = loaded
    # Brewing labor, 30.00 an hour. Standard hours: LAGER 1.5 and IPA 2.0 a keg.
    #   Jan: 100 x 1.5 + 80 x 2 = 310 allowed; 330 worked for 10,230.00 (31.00):
    #        spending 10,230 - 330 x 30 = 330.00; efficiency (330 - 310) x 30 = 600.00.
    #   Feb: 380 allowed; 370 worked for 11,100.00: spending 0; efficiency -300.00.
    #   Mar: 450 allowed; 462 worked for 14,091.00 (30.50): spending 231.00; efficiency 360.00.
    # Fixed overhead, budget 6,000.00 a month, 15.00 a brewhouse-hour:
    #   Jan: 6,200.00 incurred, 310 x 15 = 4,650.00 absorbed: spending 200.00, volume 1,350.00.
    #   Feb: 5,900.00, 5,700.00: spending -100.00, volume 300.00.
    #   Mar: 6,250.00, 6,750.00: spending 250.00, volume -750.00.
    expected = {
        "Spending:BrewingLabor": ("330.00", "0", "231.00"),
        "Efficiency:BrewingLabor": ("600.00", "-300.00", "360.00"),
        "Spending:FixedOverhead": ("200.00", "-100.00", "250.00"),
        "Volume:FixedOverhead": ("1350.00", "300.00", "-750.00"),
    }
    for account, amounts in expected.items():
        arisen = by_month(entries, "Expenses:Variances:" + account)
        assert arisen == dict(zip(MONTHS, map(D, amounts), strict=True)), account
        assert value(entries, "Expenses:Variances:" + account) == 0  # disposed of by the closes


def test_the_late_hops_are_owed_then_cleared_before_the_close(loaded):
    entries, _, standards = loaded
    # I-013 on March 18th needs 10 kg; 4 kg on the books: 6 kg owed at 28.00.
    assert value(entries, BACKLOG, Date(2026, 3, 18)) == D("-168.00")
    assert value(entries, BACKLOG, Date(2026, 3, 20)) == 0  # the delivery clears it
    inventory = reports.inventory_report(entries, {}, standards, Date(2026, 3, 19))
    (row,) = inventory.backlog
    assert (row.item, row.quantity, row.value, row.since) == (
        "HOPS",
        D("6"),
        D("168.00"),
        Date(2026, 3, 18),
    )
    health = reports.health_report(entries, {}, standards, Date(2026, 3, 19))
    early = "backlog open at 2026-03-19, before the month-end close"
    assert any(early in w for w in health.warnings)
    # At the month end nothing is owed: no backlog warning, nothing in the health table.
    health = reports.health_report(entries, {}, standards)
    assert not any("backlog" in w for w in health.warnings)
    assert [m.backlog for m in health.months] == [0, 0, 0]
    assert reports.inventory_report(entries, {}, standards).backlog == []


def test_variances_page_figures_and_shares(loaded):
    entries, options, standards = loaded
    report = reports.variance_report(entries, options, standards)
    sections = {s.key: {r.title: r for r in s.rows} for s in report.analysis}
    labor = sections["pool:brewing_labor"]
    assert labor["Spending"].months == {"2026-01": D("330.00"), "2026-03": D("231.00")}
    # January: 330 / (330 hours x 30.00 = 9,900.00) = 3.33 %; 600 / 9,300.00 = 6.45 %.
    assert labor["Spending"].month_share("2026-01") == D("0.0333")
    assert labor["Efficiency"].month_share("2026-01") == D("0.0645")
    # The quarter: 561 / 34,860 (1,162 hours) and 660 / 34,200 (1,140 hours allowed).
    assert labor["Spending"].share == D("0.0161") and labor["Efficiency"].share == D("0.0193")
    assert labor["Under/(over)-allocated"].months == {
        "2026-01": D("930.00"),
        "2026-02": D("-300.00"),
        "2026-03": D("591.00"),
    }
    fixed = sections["pool:fixed_overhead"]
    assert fixed["Production volume"].month_share("2026-01") == D("0.2250")  # 1,350 / 6,000
    assert fixed["Production volume"].share == D("0.0500")  # 900 / 18,000
    assert fixed["Under/(over)-allocated"].total == D("1250.00")
    materials = sections["materials"]
    # Purchases at standard, net of the yeast returned: 7,500 kg malt, 210 kg hops and 360
    # packs of yeast = 8,250.00 + 5,880.00 + 2,340.00.
    assert materials["Purchase price"].base == D("16470.00")
    # Hops allowed: 360 lager x 0.15 + 300 IPA x 0.5 = 204 kg x 28.00.
    hops = materials["Usage (efficiency): HOPS"]
    assert hops.total == D("28.00") and hops.base == D("5712.00") and hops.share == D("0.0049")
    assert materials["Usage (efficiency): MALT"].total == D("14.30")


def test_health_flows_are_the_periods_part_of_a_month(loaded):
    entries, options, standards = loaded
    # March 1st to 19th: the kegs sold on the 13th, 60 x 84.85 + 45 x 119.35.
    scope = reports.Scope(Date(2026, 3, 1), Date(2026, 3, 19))
    (march,) = reports.health_report(entries, options, standards, scope=scope).months
    assert march.cogs == D("10461.75") and march.backlog == D("168.00")
    # The 19th alone sold nothing: no COGS, no days on hand (not the month's COGS over a day).
    scope = reports.Scope(Date(2026, 3, 19), Date(2026, 3, 19))
    (day,) = reports.health_report(entries, options, standards, scope=scope).months
    assert day.cogs == 0 and day.days_on_hand is None and day.variances == 0


def test_the_command_line_prints_the_split_and_the_backlog(capsys):
    from beancount_backflush import cli

    assert cli.main(["report", "variances", str(LEDGER), "--table", "analysis"]) == 0
    out = capsys.readouterr().out
    assert "Brewing labor,Spending" not in out  # text, not CSV
    assert "Price, efficiency and volume variances by month" in out
    assert (
        cli.main(["report", "variances", str(LEDGER), "--format", "csv", "--table", "analysis"])
        == 0
    )
    csv_text = capsys.readouterr().out
    assert "Brewing labor,Spending,330.00,0,231.00,561.00,0.0161,34860.00," in csv_text
    assert "Fixed overhead,Production volume,1350.00,300.00,-750.00,900.00,0.0500,18000.00" in (
        csv_text
    )
    assert cli.main(["report", "inventory", str(LEDGER), "--date", "2026-03-19"]) == 0
    out = capsys.readouterr().out
    assert "HOPS              6  kg            28.00             168.00  2026-03-18" in out
    assert cli.main(["rollup", str(LEDGER.parent / "standards.yaml"), "--date", "2026-03-01"]) == 0
    out = capsys.readouterr().out
    assert "conversion brewing_labor: 1.50 hours x 30.00 =" in out
    assert (
        "fixed_overhead: 15.00 USD per brewhouse-hour, fixed: budget 6,000.00 a month "
        "over 400 brewhouse-hours" in out
    )

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


def units(entries, account, item, until=None) -> Decimal:
    return sum(
        (
            p.units.number
            for t in transactions(entries, until)
            for p in t.postings
            if p.account == account and p.units.currency == item
        ),
        D(0),
    )


def test_standards_carry_planned_scrap_yield_and_the_spent_grain(loaded):
    _, _, standards = loaded
    day = Date(2026, 3, 1)
    lager, ipa = standards.rollup("LAGER", day), standards.rollup("IPA", day)
    # LAGER, per keg brewed: 9 kg malt + 2 % milling loss = 9.18 kg, 0.135 kg hops, 0.45
    # pack of yeast, 1.35 hours of each pool; yield 0.9. Per good keg: 9.18 / 0.9 = 10.2 kg
    # (11.22), 0.15 kg (4.20), 0.5 pack (3.25), 1.5 hours (45.00 + 22.50), less 12 kg of
    # spent grain at 0.05 (0.60): materials 11.22 + 4.20 + 3.25 - 0.60 = 18.07, total 85.57.
    assert lager.direct == {"MALT": D("10.2"), "HOPS": D("0.15"), "YEAST": D("0.5")}
    assert lager.byproducts == {"SPENT_GRAIN": D("12")}
    assert (lager.material, lager.total) == (D("18.07"), D("85.57"))
    # Planned loss: the inputs of a good keg (85.57 + the 0.60 credited) less those of a
    # keg brewed without milling loss: 9 x 1.10 + 0.135 x 28.00 + 0.45 x 6.50 + 1.35 x
    # 45.00 = 9.90 + 3.78 + 2.925 + 60.75 = 77.355; 86.17 - 77.355 = 8.815. That is 1.32
    # malt (0.18 kg of milling loss and 1.02 kg of beer lost, at 1.10) + 0.42 hops + 0.325
    # yeast + 6.75 conversion.
    assert lager.planned_loss == D("8.815")
    # IPA: 10.5 kg + 2 % = 10.71 / 0.9 = 11.9 kg (13.09), 0.45 / 0.9 = 0.5 kg (14.00), 0.5
    # pack (3.25), 1.8 / 0.9 = 2 hours (60.00 + 30.00), less 14 kg of grain (0.70): 29.64
    # and 119.64. Planned loss: 120.34 - (11.55 + 12.60 + 2.925 + 81.00) = 12.265.
    assert ipa.direct == {"MALT": D("11.9"), "HOPS": D("0.5"), "YEAST": D("0.5")}
    assert (ipa.material, ipa.total, ipa.planned_loss) == (
        D("29.64"),
        D("119.64"),
        D("12.265"),
    )
    # The parti-gyle, per brew: 500 kg + 2 % = 510 kg (561.00), 5 kg hops (140.00), 10 packs
    # (65.00), less 600 kg of grain (30.00): 736.00; 30 hours of each pool (900.00 +
    # 450.00): 2,086.00, of which the 10 kg of milling loss (11.00) is planned loss.
    brew = standards.rollup("PARTI_GYLE", day)
    assert (brew.material, brew.total, brew.planned_loss) == (
        D("736.00"),
        D("2086.00"),
        D("11.00"),
    )
    assert standards.is_process("PARTI_GYLE")
    # Its co-products: 0.7 x 2,086.00 / 10 = 146.02 and 0.3 x 2,086.00 / 10 = 62.58 a keg;
    # by element 0.7 x 736.00 / 10 = 51.52, 0.7 x 900.00 / 10 = 63.00, 0.7 x 450 / 10 = 31.50.
    strong, small = standards.rollup("STRONG_ALE", day), standards.rollup("SMALL_BEER", day)
    assert (strong.total, strong.material, strong.planned_loss) == (
        D("146.02"),
        D("51.52"),
        D("0.77"),  # 0.7 x 11.00 / 10
    )
    assert strong.conversion == {"brewing_labor": D("63.00"), "fixed_overhead": D("31.50")}
    assert (small.total, small.material, small.planned_loss) == (
        D("62.58"),
        D("22.08"),
        D("0.33"),  # 0.3 x 11.00 / 10
    )


def test_stock_at_the_end_worked_out_from_the_recipes(loaded):
    entries, _, _ = loaded
    # MALT 3,000 + 2,000 + 3,500 bought = 8,500 kg; used at standard 340 lager x 10.2 =
    # 3,468 + 300 IPA x 11.9 = 3,570 + the parti-gyle's 510 = 7,548, +5 on I-003, -4 on
    # L-008; 12 kg short at the January count: 8,500 - 7,549 - 12 = 939 kg x 1.10.
    # HOPS 210 bought; used 340 x 0.15 + 300 x 0.5 + 5 = 206, +0.6 and +0.4: 3 kg x 28.00.
    # YEAST 380 bought, 20 returned, used 340 x 0.5 + 300 x 0.5 + 10 = 330: 30 x 6.50.
    # SPENT_GRAIN: every kilo received has been sold.
    assert units(entries, RIP, "MALT") == 939
    assert units(entries, RIP, "HOPS") == 3
    assert units(entries, RIP, "SPENT_GRAIN") == 0
    assert value(entries, RIP) == D("1032.90") + D("84.00") + D("195.00") == D("1311.90")
    # Kegs: LAGER 340 made, 310 sold, 1 leaked: 29 x 85.57 = 2,481.53; IPA 300 made, 265
    # sold: 35 x 119.64 = 4,187.40; STRONG_ALE 10 made, 3 sold: 7 x 146.02 = 1,022.14;
    # SMALL_BEER 10 made, 8 sold: 2 x 62.58 = 125.16.
    assert units(entries, FG, "STRONG_ALE") == 7 and units(entries, FG, "SMALL_BEER") == 2
    assert units(entries, FG, "PARTI_GYLE") == 0  # a process is never stocked
    assert value(entries, FG) == D("2481.53") + D("4187.40") + D("1022.14") + D("125.16")
    assert value(entries, FG) == D("7816.23")
    # 310 x 175.00 + 265 x 230.00 + 3 x 260.00 + 8 x 110.00 + 8,880 kg of grain x 0.05 =
    # 54,250.00 + 60,950.00 + 780.00 + 880.00 + 444.00.
    assert value(entries, "Income:Sales") == D("-117304.00")
    assert value(entries, "Assets:Bank:Checking") == D("28267.00")


def test_spent_grain_is_received_with_every_brew_and_sold(loaded):
    entries, _, _ = loaded
    received: dict[str, Decimal] = defaultdict(D)
    for txn in transactions(entries):
        if txn.meta.get("backflush") == "produce":
            for p in txn.postings:
                if p.units.currency == "SPENT_GRAIN":
                    assert (p.account, p.cost.number) == (RIP, D("0.05"))
                    received[f"{txn.date:%Y-%m}"] += p.units.number
    # January 5 lager x 240 kg (20 kegs x 12) + 4 IPA x 280 kg (20 x 14) = 2,320; February
    # 6 x 240 + 5 x 280 = 2,840; March 6 x 240 + 6 x 280 + the parti-gyle's 600 = 3,720.
    assert received == {"2026-01": 2320, "2026-02": 2840, "2026-03": 3720}
    sales = [
        t
        for t in transactions(entries)
        if t.meta.get("backflush") == "sell" and t.meta.get("backflush_item") == "SPENT_GRAIN"
    ]
    # Sold to the farmer at the month ends at 0.05 a kg: revenue = COGS at standard
    # (116.00, 142.00, 186.00): by-products carry no margin under the NRV method.
    for txn, amount in zip(sales, ("116.00", "142.00", "186.00"), strict=True):
        money = {p.account: p.units.number for p in txn.postings if p.cost is None}
        assert money == {
            "Expenses:COGS": D(amount),
            "Assets:AccountsReceivable": D(amount),
            "Income:Sales": -D(amount),
        }


def test_the_parti_gyle_brew_makes_two_beers_sold_and_counted(loaded):
    entries, _, _ = loaded
    (brew,) = [t for t in transactions(entries) if t.meta.get("backflush_item") == "PARTI_GYLE"]
    lots = {
        (p.account, p.units.currency): (p.units.number, p.cost.number)
        for p in brew.postings
        if p.cost is not None
    }
    assert lots == {
        (FG, "STRONG_ALE"): (D("10"), D("146.02")),
        (FG, "SMALL_BEER"): (D("10"), D("62.58")),
        (RIP, "MALT"): (D("-510"), D("1.10")),
        (RIP, "HOPS"): (D("-5"), D("28.00")),
        (RIP, "YEAST"): (D("-10"), D("6.50")),
        (RIP, "SPENT_GRAIN"): (D("600"), D("0.05")),
    }
    # 10 x 146.02 + 10 x 62.58 = 2,086.00 into the cold room, the pools credited 900.00
    # and 450.00 (30 hours each, like the lager brew it replaced).
    money = {p.account: p.units.number for p in brew.postings if p.cost is None}
    assert money == {
        "Expenses:Conversion:BrewingLabor:Allocated": D("-900.00"),
        "Expenses:Conversion:FixedOverhead:Allocated": D("-450.00"),
    }
    cogs = {
        t.meta["backflush_item"]: value([t], "Expenses:COGS")
        for t in transactions(entries)
        if t.meta.get("backflush") == "sell" and t.date == Date(2026, 3, 27)
    }
    # 3 STRONG_ALE x 146.02 and 8 SMALL_BEER x 62.58.
    assert cogs["STRONG_ALE"] == D("438.06") and cogs["SMALL_BEER"] == D("500.64")
    counts = [
        t
        for t in transactions(entries)
        if t.meta.get("backflush") == "count" and t.date == Date(2026, 3, 31)
    ]
    # The counts of 7 and 2 find the books right: only the leaking LAGER keg is shrinkage.
    assert sorted(t.meta["backflush_item"] for t in counts) == ["LAGER", "SMALL_BEER", "STRONG_ALE"]
    assert value(entries, "Expenses:Variances:Shrinkage") == D("85.57")


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
    assert value(entries, "Expenses:Variances:Shrinkage") == D("85.57")  # the leaking keg


def test_conversion_variances_split_at_each_close(loaded):
    entries, _, _ = loaded
    # Brewing labor, 30.00 an hour. Standard hours: LAGER 1.5 and IPA 2.0 a keg.
    #   Jan: 100 x 1.5 + 80 x 2 = 310 allowed; 330 worked for 10,230.00 (31.00):
    #        spending 10,230 - 330 x 30 = 330.00; efficiency (330 - 310) x 30 = 600.00.
    #   Feb: 380 allowed; 370 worked for 11,100.00: spending 0; efficiency -300.00.
    #   Mar: 450 allowed; 462 worked for 14,091.00 (30.50): spending 231.00; efficiency 360.00.
    # (The yield is in these hours: 1.35 hours per keg brewed / 0.9 = 1.5 per good keg; the
    # parti-gyle, 30 hours, replaced a 20-keg lager brew, 20 x 1.5 = 30 hours.)
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
    # Purchases at standard, net of the yeast returned: 8,500 kg malt, 210 kg hops and 360
    # packs of yeast = 9,350.00 + 5,880.00 + 2,340.00 = 17,570.00; 99.40 of it is 0.57 %.
    assert materials["Purchase price"].base == D("17570.00")
    assert materials["Purchase price"].share == D("0.0057")
    # Hops allowed: 340 lager x 0.15 + 300 IPA x 0.5 + 5 for the parti-gyle = 206 kg x 28.00.
    hops = materials["Usage (efficiency): HOPS"]
    assert hops.total == D("28.00") and hops.base == D("5768.00") and hops.share == D("0.0049")
    # Malt allowed, planned losses included: 3,468 + 3,570 + 510 = 7,548 kg x 1.10 =
    # 8,302.80; 14.30 of it is 0.17 %.
    malt = materials["Usage (efficiency): MALT"]
    assert malt.total == D("14.30") and malt.base == D("8302.80") and malt.share == D("0.0017")


def test_the_march_close_prorates_to_the_adjustment_accounts(loaded):
    entries, _, _ = loaded
    # At the March close, the element content of what is held and of the month's sales:
    #   FG: 29 LAGER, 35 IPA, 7 STRONG_ALE, 2 SMALL_BEER; sold: 115 LAGER, 110 IPA, 3 STRONG,
    #   8 SMALL, 3,720 kg of grain.
    #   labor: FG 29 x 45 + 35 x 60 + 7 x 63 + 2 x 27 = 3,900; sold 5,175 + 6,600 + 189 +
    #     216 = 12,180. Fixed overhead: half of it, 1,950 and 6,090.
    #   materials: FG 524.03 + 1,037.40 + 360.64 + 44.16 = 1,966.23; sold 2,078.05 +
    #     3,260.40 + 154.56 + 176.64 + 186.00 = 5,855.65; RIP 1,311.90.
    # What the February close had capitalised (the same computation a month earlier) is
    # released and split again with March's variances:
    #   labor (-17.50 + 591.00) x 3,900 / (3,900 + 12,180) = 573.50 x 0.24254 = 139.10;
    #   fixed overhead, spending only (volume goes to COGS): (-10.66 + 250.00) x 1,950 /
    #     8,040 = 58.05;
    #   price variance (13.12 + 12.51 + 37.40 = 63.03) over RIP, FG, COGS and the month's
    #     usage (11.20): base 9,144.98; RIP 63.03 x 1,311.90 / 9,144.98 = 9.04, FG 13.55,
    #     and 0.08 onto the usage variance;
    #   usage (0.65 + 11.20 + 0.08 = 11.93) over FG and COGS: 11.93 x 1,966.23 / 7,821.88 =
    #     3.00.
    assert value(entries, RIP + ":Adjustment") == D("9.04")
    assert value(entries, FG + ":Adjustment") == D("139.10") + D("58.05") + D("13.55") + D("3.00")
    assert value(entries, FG + ":Adjustment") == D("213.70")


def test_health_flows_are_the_periods_part_of_a_month(loaded):
    entries, options, standards = loaded
    # March 1st to 19th: the kegs sold on the 13th, 60 x 85.57 + 45 x 119.64.
    scope = reports.Scope(Date(2026, 3, 1), Date(2026, 3, 19))
    (march,) = reports.health_report(entries, options, standards, scope=scope).months
    assert march.cogs == D("5134.20") + D("5383.80") and march.backlog == D("168.00")
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
    words = [" ".join(line.split()) for line in out.splitlines()]
    # LAGER's lines: the credit 12 x 0.05, and the 8.815 of planned loss worked out above.
    assert "by-product SPENT_GRAIN -12 0.05 -0.60" in words
    assert "of which planned scrap and yield loss 8.815" in words
    assert "co-product STRONG_ALE: 10 per PARTI_GYLE, cost share 70 % = 146.02 USD each" in out
    assert (
        "fixed_overhead: 15.00 USD per brewhouse-hour, fixed: budget 6,000.00 a month "
        "over 400 brewhouse-hours" in out
    )

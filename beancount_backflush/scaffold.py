"""``bean-backflush init DIR [--month YYYY-MM]``: a starter ledger that passes bean-check.

Writes ``DIR/ledger.beancount`` (the plugin line, the Fava extension line, every account the
plugin can post to opened, and one month of events: purchases, a completion, a sale, a
physical count and a close with its asserted total) and ``DIR/standards.yaml`` (two
materials, one product, two conversion pools, every setting with its default spelled out).
Existing files are never overwritten: if either exists, nothing is written.

The month's figures, worked by hand (they are the close's asserted total):
standard ROAST = 1.25 kg BEANS x 6.00 + 1 BAG x 0.20 + labor 1.50 + overhead 1.00 = 10.20.
PPV 30.00 (beans) - 5.00 (bags) = 25.00; the count finds 48 kg of beans where the books
say 50: usage 2 x 6.00 = 12.00; labor 183.00 incurred - 180.00 allocated = 3.00 and overhead
126.00 - 120.00 = 6.00 under-allocated. The close disposes 25 + 12 + 3 + 6 = 46.00 to COGS.
"""

from __future__ import annotations

import datetime
import os

from .toolbox import ToolError

LEDGER = "ledger.beancount"
STANDARDS = "standards.yaml"

STANDARDS_TEXT = """\
# Standard costs for beancount_backflush: what each item SHOULD cost.
# The ledger records what happened; the plugin posts it at these standards, and every
# difference between actual and standard lands in a variance account.
# Numbers are exact decimals. `bean-backflush rollup standards.yaml` prints each
# product's rolled-up standard.

currency: USD
precision: 2

# Trigger points (the textbook variants of backflush costing):
#   [purchase, completion, sale]  materials into RIP when bought, finished goods on
#                                 completion, COGS on sale (the default)
#   [purchase, sale]              no finished-goods inventory
#   [completion, sale]            no materials inventory (bought into a clearing account)
# `bean-backflush compare-policies ledger.beancount` shows your books under each.
triggers: [purchase, completion, sale]

accounts:
  raw_in_process: Assets:Inventory:RawInProcess
  finished_goods: Assets:Inventory:FinishedGoods
  materials_clearing: Expenses:Materials:Clearing   # used by [completion, sale] only
  cogs: Expenses:COGS
  payable: Liabilities:AccountsPayable
  receivable: Assets:AccountsReceivable
  revenue: Income:Sales
  variances:
    purchase_price: Expenses:Variances:PurchasePrice
    usage: Expenses:Variances:MaterialUsage
    shrinkage: Expenses:Variances:Shrinkage
    scrap: Expenses:Variances:Scrap
    revaluation: Expenses:Variances:Revaluation
    rounding: Expenses:Variances:Rounding

# Conversion cost pools. Post actual costs (payroll, rent, power) to `incurred` with
# ordinary transactions; completions credit `allocated` at each product's rate.
conversion:
  labor:
    incurred: Expenses:Conversion:Labor
    allocated: Expenses:Conversion:Labor:Allocated
  overhead:
    incurred: Expenses:Conversion:Overhead
    allocated: Expenses:Conversion:Overhead:Allocated

close:
  disposition: cogs              # or prorate: split across RIP, FG and COGS (IAS 2)
  materiality: 0                 # with prorate: variances under this share of COGS go to COGS
  variances: [purchase_price, usage]
  schedule: explicit             # or monthly: a close at every month end

negative_stock: error            # or allow
warn_uninventoried: 0.05         # two-trigger variants: warn above this share of COGS
auto_open: false                 # every account is opened in the ledger

materials:
  BEANS: {cost: 6.00, unit: kg}  # green coffee
  BAG: {cost: 0.20, unit: pcs}   # 1 kg valve bag

products:
  ROAST:                         # a 1 kg bag of roasted coffee; 20% weight loss in the roaster
    unit: pcs
    bom: {BEANS: 1.25, BAG: 1}
    conversion: {labor: 1.50, overhead: 1.00}
"""

LEDGER_TEXT = """\
; A starter ledger for beancount_backflush (written by `bean-backflush init`).
;
; A small coffee roaster: it buys green BEANS and BAGs, roasts and packs ROAST (a 1 kg bag,
; standard cost 10.20 USD: see standards.yaml) and sells it. One month of business:
; purchases, a roasting batch, a sale, a physical count and the month-end close.
;
;   bean-check ledger.beancount                   no output: all is well
;   fava ledger.beancount                         the Backflush reports are in the sidebar
;   bean-backflush expand ledger.beancount        the postings the plugin generates
;   bean-backflush check ledger.beancount --max-days-since-count 90
;                                                 bean-check plus health thresholds (for CI)

option "title" "Starter roastery (beancount_backflush)"
option "operating_currency" "USD"

plugin "beancount_backflush" "standards.yaml"
{start} custom "fava-extension" "beancount_backflush.fava"

;; Accounts: everything the plugin can post to is opened, so that switching triggers or
;; disposition in standards.yaml needs no new account.
{start} open Assets:Bank:Checking                      USD
{start} open Equity:Owner:Contributions                USD
{start} open Assets:Inventory:RawInProcess
{start} open Assets:Inventory:RawInProcess:Adjustment  USD
{start} open Assets:Inventory:FinishedGoods
{start} open Assets:Inventory:FinishedGoods:Adjustment USD
{start} open Assets:AccountsReceivable                 USD
{start} open Liabilities:AccountsPayable               USD
{start} open Income:Sales                              USD
{start} open Expenses:COGS                             USD
{start} open Expenses:Materials:Clearing               USD
{start} open Expenses:Conversion:Labor                 USD
{start} open Expenses:Conversion:Labor:Allocated       USD
{start} open Expenses:Conversion:Overhead              USD
{start} open Expenses:Conversion:Overhead:Allocated    USD
{start} open Expenses:Variances:PurchasePrice          USD
{start} open Expenses:Variances:MaterialUsage          USD
{start} open Expenses:Variances:Shrinkage              USD
{start} open Expenses:Variances:Scrap                  USD
{start} open Expenses:Variances:Revaluation            USD
{start} open Expenses:Variances:Rounding               USD

{start} * "Owner's contribution"
  Assets:Bank:Checking           5000.00 USD
  Equity:Owner:Contributions

; Materials in at standard (200 kg x 6.00 = 1200.00); the invoice's 30.00 above standard
; goes to the purchase price variance.
{d02} custom "backflush" "purchase" 200 BEANS 1230.00 USD
  invoice: "GB-001"

; 500 bags at 0.19 against a 0.20 standard: 5.00 favourable.
{d02} custom "backflush" "purchase" 500 BAG 95.00 USD
  invoice: "PK-001"

; 120 bags roasted and packed: 150 kg of beans and 120 bags out of RIP, 120 ROAST into
; finished goods at 10.20, labor 180.00 and overhead 120.00 allocated.
{d09} custom "backflush" "produce" 120 ROAST

; 100 bags sold: COGS 1020.00 at standard, revenue 2400.00.
{d15} custom "backflush" "sell" 100 ROAST 2400.00 USD
  invoice: "S-001"

; Actual conversion costs are ordinary transactions to the pools' incurred accounts.
{d20} * "Payroll"
  Expenses:Conversion:Labor      183.00 USD
  Assets:Bank:Checking

{d21} * "Power and roaster gas"
  Expenses:Conversion:Overhead   126.00 USD
  Assets:Bank:Checking

; Physical count of green beans: the books say 50 kg, the sacks hold 48 kg.
; 2 kg x 6.00 = 12.00 to the usage variance.
{d28} custom "backflush" "count" 48 BEANS

; Month-end close: PPV 25.00 + usage 12.00 + labor 3.00 + overhead 6.00 under-allocated,
; all to COGS. The total asserts it: a back-dated change to this month fails bean-check.
{end} custom "backflush" "close" 46.00 USD

; Stock at the start of next month.
{next} balance Assets:Inventory:RawInProcess    48 BEANS
{next} balance Assets:Inventory:RawInProcess    380 BAG
{next} balance Assets:Inventory:FinishedGoods   20 ROAST
"""


def default_month(today: datetime.date | None = None) -> datetime.date:
    """The first day of the previous month: a complete month of books."""
    today = today or datetime.date.today()
    return (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def parse_month(text: str) -> datetime.date:
    try:
        return datetime.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise ToolError(f"not a month (YYYY-MM): {text!r}") from None


def ledger_text(month: datetime.date) -> str:
    start = month.replace(day=1)
    following = (start + datetime.timedelta(days=32)).replace(day=1)
    end = following - datetime.timedelta(days=1)

    def day(n: int) -> str:
        return start.replace(day=n).isoformat()

    return LEDGER_TEXT.format(
        start=start.isoformat(),
        d02=day(2),
        d09=day(9),
        d15=day(15),
        d20=day(20),
        d21=day(21),
        d28=day(28),
        end=end.isoformat(),
        next=following.isoformat(),
    )


def init(directory: str, month: datetime.date) -> list[str]:
    """Write the starter files; returns their paths. Refuses to overwrite anything."""
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise ToolError(f"{directory}: exists and is not a directory")
    targets = {
        os.path.join(directory, LEDGER): ledger_text(month),
        os.path.join(directory, STANDARDS): STANDARDS_TEXT,
    }
    existing = [path for path in targets if os.path.lexists(path)]
    if existing:
        raise ToolError(
            f"{', '.join(existing)}: already exists; init never overwrites (nothing written)"
        )
    os.makedirs(directory, exist_ok=True)
    written = []
    try:
        for path, text in targets.items():
            # "x": fail rather than overwrite a file created meanwhile.
            with open(path, "x", encoding="utf-8") as file:
                file.write(text)
            written.append(path)
    except OSError as exc:
        for path in written:
            os.remove(path)
        raise ToolError(f"cannot write the starter ledger: {exc}") from None
    return written

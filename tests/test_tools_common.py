"""Shared by the plain-text tools' tests: a one-month workshop small enough to work by hand,
and a runner for ``bean-backflush`` that captures its output.

Standards: STEEL 2.00/kg, BOLT 0.10; FRAME = 2 STEEL + 4 BOLT (4.40) + labor 3.00 +
overhead 1.00 = 8.40.

January 2026, under [purchase, completion, sale] with disposition cogs:
  purchase 100 STEEL 210.00  RIP 200.00, PPV 10.00
  purchase 100 BOLT 10.00    RIP 10.00
  produce 10 FRAME           FG 84.00; RIP -40.00 STEEL (20 kg), -4.00 BOLT (40); labor -30,
                             overhead -10
  sell 6 FRAME 120.00        COGS 50.40
  payroll 33.00, power 12.00 labor 3.00 and overhead 2.00 under-allocated
  count 78 STEEL             book 80: usage 2 x 2.00 = 4.00
  close 19.00 USD            3 + 2 + PPV 10 + usage 4 = 19.00 to COGS
End of January: RIP 78 STEEL (156.00) + 60 BOLT (6.00), FG 4 FRAME (33.60): inventory 195.60;
COGS 50.40 + 19.00 = 69.40. Costs incurred: 220.00 bought + 45.00 conversion = 265.00 =
inventory + COGS.
"""

from __future__ import annotations

import contextlib
import io
import os
import textwrap
from pathlib import Path

from beancount_backflush import cli

os.environ.setdefault("BEANCOUNT_DISABLE_LOAD_CACHE", "1")

STANDARDS = """\
currency: USD
triggers: {triggers}
accounts:
  raw_in_process: Assets:Inventory:RawInProcess
  finished_goods: Assets:Inventory:FinishedGoods
  materials_clearing: Expenses:Materials:Clearing
  cogs: Expenses:COGS
conversion:
  labor: {{incurred: Expenses:Conversion:Labor, allocated: Expenses:Conversion:Labor:Allocated}}
  overhead:
    incurred: Expenses:Conversion:Overhead
    allocated: Expenses:Conversion:Overhead:Allocated
close:
  disposition: {disposition}
  variances: [purchase_price, usage]
warn_uninventoried: {warn}
materials:
  STEEL: {{cost: {steel}, unit: kg}}
  BOLT: {{cost: 0.10}}
products:
  FRAME:
    unit: pcs
    bom: {{STEEL: 2, BOLT: 4}}
    conversion: {{labor: {labor}, overhead: 1.00}}
"""

OPENS = """\
2026-01-01 open Assets:Bank
2026-01-01 open Assets:AccountsReceivable
2026-01-01 open Liabilities:AccountsPayable
2026-01-01 open Income:Sales
2026-01-01 open Assets:Inventory:RawInProcess
2026-01-01 open Assets:Inventory:RawInProcess:Adjustment
2026-01-01 open Assets:Inventory:FinishedGoods
2026-01-01 open Assets:Inventory:FinishedGoods:Adjustment
2026-01-01 open Expenses:Materials:Clearing
2026-01-01 open Expenses:COGS
2026-01-01 open Expenses:Conversion:Labor
2026-01-01 open Expenses:Conversion:Labor:Allocated
2026-01-01 open Expenses:Conversion:Overhead
2026-01-01 open Expenses:Conversion:Overhead:Allocated
2026-01-01 open Expenses:Variances:PurchasePrice
2026-01-01 open Expenses:Variances:MaterialUsage
2026-01-01 open Expenses:Variances:Shrinkage
2026-01-01 open Expenses:Variances:Scrap
2026-01-01 open Expenses:Variances:Revaluation
2026-01-01 open Expenses:Variances:Rounding
"""

EVENTS = """\
2026-01-02 custom "backflush" "purchase" 100 STEEL 210.00 USD
2026-01-02 custom "backflush" "purchase" 100 BOLT 10.00 USD
2026-01-05 custom "backflush" "produce" 10 FRAME
2026-01-10 custom "backflush" "sell" 6 FRAME 120.00 USD
2026-01-20 * "Payroll"
  Expenses:Conversion:Labor  33.00 USD
  Assets:Bank
2026-01-21 * "Power"
  Expenses:Conversion:Overhead  12.00 USD
  Assets:Bank
2026-01-31 custom "backflush" "count" 78 STEEL
2026-01-31 custom "backflush" "close" 19.00 USD
"""


def standards_text(
    triggers: str = "[purchase, completion, sale]",
    disposition: str = "cogs",
    steel: str = "2.00",
    labor: str = "3.00",
    warn: str = "0.05",
) -> str:
    return STANDARDS.format(
        triggers=triggers, disposition=disposition, steel=steel, labor=labor, warn=warn
    )


def write_workshop(
    directory: Path, events: str = EVENTS, standards: str | None = None, **options: str
) -> Path:
    """ledger.beancount + standards.yaml in ``directory``; returns the ledger's path."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "standards.yaml").write_text(standards or standards_text(**options))
    ledger = directory / "ledger.beancount"
    ledger.write_text(
        'plugin "beancount_backflush" "standards.yaml"\n\n' + OPENS + "\n" + textwrap.dedent(events)
    )
    return ledger


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def run_cli(*argv: str) -> tuple[int, str, str]:
    """``bean-backflush ARGV`` in-process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(list(argv))
    return status, out.getvalue(), err.getvalue()


EXAMPLE = Path(__file__).resolve().parent.parent / "example-ledger" / "ledger.beancount"

"""The SPEC's example standards: FRAME (stocked subassembly), HUB (phantom), BIKE.

FRAME = 2 kg STEEL x 2.50 + 8 BOLT x 0.05 = 5.40 materials + labor 3.00 + overhead 1.50 = 9.90
BIKE  = FRAME 9.90 + 2 HUB (phantom: 4 BOLT each = 0.40) + labor 6.00 + overhead 4.00 = 20.30
From 2026-07-01 STEEL is 2.70: FRAME 10.30, BIKE 20.70.
"""

STANDARDS = """
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
  materiality: {materiality}
  variances: [purchase_price, usage]
  schedule: {schedule}
negative_stock: {negative_stock}
materials:
  STEEL: {{cost: {{2026-01-01: 2.50, 2026-07-01: 2.70}}, unit: kg}}
  BOLT: {{cost: 0.05}}
products:
  FRAME:
    bom: {{STEEL: 2.0, BOLT: 8}}
    conversion: {{labor: 3.00, overhead: 1.50}}
  HUB: {{phantom: true, bom: {{BOLT: 4}}}}
  BIKE:
    bom: {{FRAME: 1, HUB: 2}}
    conversion: {{labor: 6.00, overhead: 4.00}}
"""


def bike_standards(triggers: str = "[purchase, completion, sale]", disposition: str = "cogs",
                   materiality: str = "0", schedule: str = "explicit",
                   negative_stock: str = "error") -> str:
    return STANDARDS.format(triggers=triggers, disposition=disposition,
                            materiality=materiality, schedule=schedule,
                            negative_stock=negative_stock)


RIP = "Assets:Inventory:RawInProcess"
FG = "Assets:Inventory:FinishedGoods"
COGS = "Expenses:COGS"
PPV = "Expenses:Variances:PurchasePrice"
LABOR_ALLOCATED = "Expenses:Conversion:Labor:Allocated"
OVERHEAD_ALLOCATED = "Expenses:Conversion:Overhead:Allocated"

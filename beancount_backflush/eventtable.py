"""The table of events: one declaration per event, one handler each.

To add an event: write its handler (a function ``(book, event) -> None`` that builds a
``book.txn()`` and commits it), and add one ``EventType`` here. Binding, item checks, the
order within the day, error reporting and all-or-nothing application come from the table.
"""

from __future__ import annotations

from . import closing, conversion, counting, production, receiving, selling
from . import contract as c
from .events import (
    ACCOUNT,
    ACTUALS,
    ANY_ITEM,
    END_OF_DAY_CLOSE,
    END_OF_DAY_COUNT,
    IN_ORDER,
    MATERIAL,
    MONEY,
    NAME,
    NUMBER,
    PRODUCT,
    QTY_ITEM,
    EventType,
)

EVENT_TYPES: dict[str, EventType] = {
    spec.name: spec
    for spec in (
        EventType(
            c.PURCHASE,
            ((QTY_ITEM, True), (MONEY, True), (ACCOUNT, False)),
            '"purchase" 500 STEEL 1290.00 USD',
            MATERIAL,
            IN_ORDER,
            receiving.purchase,
            foreign_total=True,
        ),
        EventType(
            c.RETURN_TO_SUPPLIER,
            ((QTY_ITEM, True), (MONEY, True), (ACCOUNT, False)),
            '"return-to-supplier" 10 STEEL 26.00 USD',
            MATERIAL,
            IN_ORDER,
            receiving.return_to_supplier,
            foreign_total=True,
        ),
        EventType(
            c.PRODUCE,
            ((QTY_ITEM, True), (ACTUALS, False)),
            '"produce" 10 FRAME 21.5 STEEL',
            PRODUCT,
            IN_ORDER,
            production.produce,
        ),
        EventType(
            c.SELL,
            ((QTY_ITEM, True), (MONEY, False), (ACCOUNT, False)),
            '"sell" 15 BIKE 7500.00 USD',
            ANY_ITEM,
            IN_ORDER,
            selling.sell,
        ),
        EventType(
            c.SCRAP, ((QTY_ITEM, True),), '"scrap" 2 FRAME', ANY_ITEM, IN_ORDER, counting.scrap
        ),
        EventType(
            c.COUNT,
            ((QTY_ITEM, True),),
            '"count" 480 STEEL',
            ANY_ITEM,
            END_OF_DAY_COUNT,
            counting.count,
            zero_quantity=True,
        ),
        EventType(
            c.UNBUILD,
            ((QTY_ITEM, True),),
            '"unbuild" 1 BIKE',
            PRODUCT,
            IN_ORDER,
            production.unbuild,
        ),
        EventType(
            c.RETURN,
            ((QTY_ITEM, True), (MONEY, False), (ACCOUNT, False)),
            '"return" 1 BIKE 500.00 USD',
            ANY_ITEM,
            IN_ORDER,
            selling.customer_return,
        ),
        EventType(
            c.ACTIVITY,
            ((NAME, True), (NUMBER, True)),
            '"activity" "labor" 130',
            None,
            IN_ORDER,
            conversion.activity,
            zero_quantity=True,
        ),
        EventType(
            c.CLOSE,
            ((MONEY, False),),
            '"close" 1234.56 USD',
            None,
            END_OF_DAY_CLOSE,
            closing.close_event,
        ),
    )
}

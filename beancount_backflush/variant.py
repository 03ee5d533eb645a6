"""The trigger variant: which events put costs into inventory, answered in one place.

Horngren, Datar & Rajan, *Cost Accounting*, "Backflush costing" give three variants by
their trigger points (the SPEC's ``triggers`` table):

===========================  =================  ================  ============================
triggers                      materials held     products held     sale relieves
===========================  =================  ================  ============================
purchase, completion, sale    RIP at standard    FG at standard    FG (the product)
purchase, sale                RIP at standard    not inventoried   RIP by the exploded BOM
completion, sale              not inventoried    FG at standard    FG (the product)
===========================  =================  ================  ============================

Under ``[completion, sale]`` materials go to a clearing account at their invoice amount and
are relieved from it at standard on completion; under ``[purchase, sale]`` completion posts
nothing (a memo) and the sale allocates conversion through every level.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Variant:
    name: str
    label: str
    materials_in_stock: bool  # purchase is a trigger: RIP holds materials at standard
    products_in_stock: bool  # completion is a trigger: FG holds products at standard
    # Derived answers, asked on every event (plain fields, not properties, for speed).
    completion_posts: bool = field(init=False)
    sale_explodes_bom: bool = field(init=False)  # sale meets materials and conversion
    purchases_to_clearing: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "completion_posts", self.products_in_stock)
        object.__setattr__(self, "sale_explodes_bom", not self.products_in_stock)
        object.__setattr__(self, "purchases_to_clearing", not self.materials_in_stock)

    def holds(self, is_material: bool) -> bool:
        """Whether items of this kind are held in an inventory account."""
        return self.materials_in_stock if is_material else self.products_in_stock

    def refuses(self, event: str, item: str, is_material: bool) -> str | None:
        """Why ``event`` cannot be applied to ``item`` under this variant, or None."""
        kind = "material" if is_material else "product"
        if event in ("count", "scrap") and not self.holds(is_material):
            held = "materials" if is_material else "finished goods"
            return (
                f'"{event}" of {kind} {item} is not possible with triggers {self.label}: '
                f"{held} are not held in inventory"
            )
        if event in ("sell", "return") and is_material and not self.materials_in_stock:
            return (
                f'"{event}" of {kind} {item} is not possible with triggers {self.label}: '
                "materials are not held in inventory"
            )
        return None


VARIANTS: dict[str, Variant] = {
    "purchase-completion-sale": Variant(
        "purchase-completion-sale", "[purchase, completion, sale]", True, True
    ),
    "purchase-sale": Variant("purchase-sale", "[purchase, sale]", True, False),
    "completion-sale": Variant("completion-sale", "[completion, sale]", False, True),
}


def variant_of(name: str) -> Variant:
    return VARIANTS[name]

"""Inventory: warehouses, stock levels, the stock ledger and stock-takes."""

from hom.core.domain import Domain

# What the domain brings to the app (see hom.core.domain); hom.domains gathers it.
DOMAIN = Domain(
    __name__,
    queries=("schema:InventoryQuery",),
    mutations=("schema:InventoryMutation",),
    models="models",
    demo="demo:seed",
)

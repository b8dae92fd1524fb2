"""The inventory's root fields: InventoryQuery (warehouses, stock, the ledger, stock-takes)."""

from hom.inventory.schema.queries import InventoryQuery

__all__ = ["InventoryQuery"]

"""The inventory's root fields: InventoryQuery (warehouses, stock, the ledger, stock-takes)
and InventoryMutation (receipts, adjustments, transfers, stock-takes)."""

from hom.inventory.schema.mutations import InventoryMutation
from hom.inventory.schema.queries import InventoryQuery

__all__ = ["InventoryMutation", "InventoryQuery"]

"""Inputs and payloads of the inventory's mutations (InventoryMutation)."""

from __future__ import annotations

import strawberry

from hom.core.graphql.payloads import Payload
from hom.inventory.types import InventoryCheckType, StockLevelType, WarehouseType


@strawberry.input
class CreateWarehouseInput:
    name: str
    code: str = strawberry.field(description='Capital letters and digits, words joined by "-".')
    low_stock_threshold: int = strawberry.field(
        default=5, description="A level with this many or fewer available is low stock."
    )


@strawberry.input(description="Only the fields given change.")
class UpdateWarehouseInput:
    id: strawberry.ID
    name: str | None = None
    code: str | None = None
    is_active: bool | None = strawberry.field(
        default=None, description="An inactive warehouse supplies no reservation."
    )
    low_stock_threshold: int | None = None


@strawberry.input
class ReceiveStockInput:
    product_id: strawberry.ID
    warehouse_id: strawberry.ID
    quantity: int = strawberry.field(description="1 to 1000000.")
    reason: str | None = strawberry.field(default=None, description="A delivery note, say.")


@strawberry.input
class AdjustStockInput:
    product_id: strawberry.ID
    warehouse_id: strawberry.ID
    quantity: int = strawberry.field(
        description="The signed change of on hand: -1000000 to 1000000, not 0."
    )
    reason: str = strawberry.field(description="Why (required): damaged, found, miscounted…")


@strawberry.input
class TransferStockInput:
    product_id: strawberry.ID
    from_warehouse_id: strawberry.ID
    to_warehouse_id: strawberry.ID
    quantity: int = strawberry.field(description="1 to 1000000, at most what is available.")


@strawberry.input
class RecordInventoryCountInput:
    check_id: strawberry.ID
    product_id: strawberry.ID
    counted_quantity: int = strawberry.field(
        description="0 to 1000000; counting a product again replaces its count."
    )


@strawberry.type
class WarehousePayload(Payload):
    warehouse: WarehouseType | None = None


@strawberry.type
class CreateWarehousePayload(WarehousePayload):
    pass


@strawberry.type
class UpdateWarehousePayload(WarehousePayload):
    pass


@strawberry.type
class StockLevelPayload(Payload):
    stock_level: StockLevelType | None = None


@strawberry.type
class ReceiveStockPayload(StockLevelPayload):
    pass


@strawberry.type
class AdjustStockPayload(StockLevelPayload):
    pass


@strawberry.type(description="`stockLevel` is the source warehouse's level after the transfer.")
class TransferStockPayload(StockLevelPayload):
    pass


@strawberry.type
class InventoryCheckPayload(Payload):
    inventory_check: InventoryCheckType | None = None


@strawberry.type
class StartInventoryCheckPayload(InventoryCheckPayload):
    pass


@strawberry.type
class RecordInventoryCountPayload(InventoryCheckPayload):
    pass


@strawberry.type
class CloseInventoryCheckPayload(InventoryCheckPayload):
    pass

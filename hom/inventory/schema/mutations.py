"""Inventory mutations: warehouses, receipts, adjustments, transfers and stock-takes, for
operators and admins. Quantities out of range are BAD_USER_INPUT, before anything runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry

from hom.core.graphql.errors import arguments_checked
from hom.core.graphql.payloads import mutate
from hom.core.graphql.permissions import has_role, require_viewer
from hom.core.graphql.relay import decode_id
from hom.core.graphql.visibility import present
from hom.core.roles import Role
from hom.core.viewer import Reader
from hom.inventory import checks, service, warehouses
from hom.inventory.models import StockLevel
from hom.inventory.mutation_types import (
    AdjustStockInput,
    AdjustStockPayload,
    CloseInventoryCheckPayload,
    CreateWarehouseInput,
    CreateWarehousePayload,
    ReceiveStockInput,
    ReceiveStockPayload,
    RecordInventoryCountInput,
    RecordInventoryCountPayload,
    StartInventoryCheckPayload,
    TransferStockInput,
    TransferStockPayload,
    UpdateWarehouseInput,
    UpdateWarehousePayload,
)
from hom.inventory.types import InventoryCheckType, StockLevelType, WarehouseType

RunsWarehouse = has_role(Role.OPERATOR)
PayloadT = TypeVar("PayloadT")


def warehouse_id_of(global_id: str, argument: str) -> int:
    return decode_id(global_id, "Warehouse", argument=argument)


def product_id_of(global_id: str, argument: str = "input.productId") -> int:
    return decode_id(global_id, "Product", argument=argument)


def check_id_of(global_id: str, argument: str) -> int:
    return decode_id(global_id, "InventoryCheck", argument=argument)


def shown(reader: Reader, type_: type[Any]) -> Callable[[Any], Any]:
    return lambda model: present(reader, type_, model)


async def change_level(
    info: strawberry.Info,
    payload: type[PayloadT],
    input: ReceiveStockInput | AdjustStockInput,
    change: Callable[..., Awaitable[StockLevel]],
) -> PayloadT:
    """receiveStock and adjustStock: the quantity checked first (BAD_USER_INPUT), then one
    level changed by the service function `change`."""
    viewer = await require_viewer(info)
    with arguments_checked("input"):
        quantity = service.check_quantity(
            input.quantity, signed=isinstance(input, AdjustStockInput)
        )
    product_id = product_id_of(input.product_id)
    warehouse_id = warehouse_id_of(input.warehouse_id, "input.warehouseId")
    return await mutate(
        info,
        payload,
        lambda s: change(
            s,
            product_id=product_id,
            warehouse_id=warehouse_id,
            quantity=quantity,
            reason=input.reason,
            actor=viewer,
        ),
        shown(viewer.reader, StockLevelType),
    )


@strawberry.type
class InventoryMutation:
    @strawberry.mutation(permission_classes=[RunsWarehouse], description="Add a warehouse.")
    async def create_warehouse(
        self, info: strawberry.Info, input: CreateWarehouseInput
    ) -> CreateWarehousePayload:
        viewer = await require_viewer(info)
        new = warehouses.NewWarehouse(
            name=input.name, code=input.code, low_stock_threshold=input.low_stock_threshold
        )
        return await mutate(
            info,
            CreateWarehousePayload,
            lambda s: warehouses.create_warehouse(s, new=new, actor=viewer),
            shown(viewer.reader, WarehouseType),
        )

    @strawberry.mutation(
        permission_classes=[RunsWarehouse],
        description="Rename a warehouse, change its code or threshold, (de)activate it.",
    )
    async def update_warehouse(
        self, info: strawberry.Info, input: UpdateWarehouseInput
    ) -> UpdateWarehousePayload:
        viewer = await require_viewer(info)
        changes = warehouses.WarehouseChanges(
            warehouse_id=warehouse_id_of(input.id, "input.id"),
            name=input.name,
            code=input.code,
            is_active=input.is_active,
            low_stock_threshold=input.low_stock_threshold,
        )
        return await mutate(
            info,
            UpdateWarehousePayload,
            lambda s: warehouses.update_warehouse(s, changes=changes, actor=viewer),
            shown(viewer.reader, WarehouseType),
        )

    @strawberry.mutation(
        permission_classes=[RunsWarehouse], description="Goods arrived: on hand goes up."
    )
    async def receive_stock(
        self, info: strawberry.Info, input: ReceiveStockInput
    ) -> ReceiveStockPayload:
        return await change_level(info, ReceiveStockPayload, input, service.receive_stock)

    @strawberry.mutation(
        permission_classes=[RunsWarehouse],
        description="Correct on hand by a signed amount, with a reason (INSUFFICIENT_STOCK "
        "when it would fall below what is reserved).",
    )
    async def adjust_stock(
        self, info: strawberry.Info, input: AdjustStockInput
    ) -> AdjustStockPayload:
        return await change_level(info, AdjustStockPayload, input, service.adjust_stock)

    @strawberry.mutation(
        permission_classes=[RunsWarehouse],
        description="Move available stock between warehouses: both sides or neither.",
    )
    async def transfer_stock(
        self, info: strawberry.Info, input: TransferStockInput
    ) -> TransferStockPayload:
        viewer = await require_viewer(info)
        with arguments_checked("input"):
            quantity = service.check_quantity(input.quantity)
        product_id = product_id_of(input.product_id)
        source = warehouse_id_of(input.from_warehouse_id, "input.fromWarehouseId")
        target = warehouse_id_of(input.to_warehouse_id, "input.toWarehouseId")
        return await mutate(
            info,
            TransferStockPayload,
            lambda s: service.transfer_stock(
                s,
                product_id=product_id,
                from_warehouse_id=source,
                to_warehouse_id=target,
                quantity=quantity,
                actor=viewer,
            ),
            shown(viewer.reader, StockLevelType),
        )

    @strawberry.mutation(
        permission_classes=[RunsWarehouse],
        description="Open a stock-take of a warehouse (INVENTORY_CHECK_OPEN when one is open).",
    )
    async def start_inventory_check(
        self, info: strawberry.Info, warehouse_id: strawberry.ID
    ) -> StartInventoryCheckPayload:
        viewer = await require_viewer(info)
        warehouse = warehouse_id_of(warehouse_id, "warehouseId")
        return await mutate(
            info,
            StartInventoryCheckPayload,
            lambda s: checks.start_inventory_check(s, warehouse_id=warehouse, actor=viewer),
            shown(viewer.reader, InventoryCheckType),
        )

    @strawberry.mutation(
        permission_classes=[RunsWarehouse],
        description="Record what was counted of a product in an open stock-take.",
    )
    async def record_inventory_count(
        self, info: strawberry.Info, input: RecordInventoryCountInput
    ) -> RecordInventoryCountPayload:
        viewer = await require_viewer(info)
        with arguments_checked("input"):
            counted = checks.check_count(input.counted_quantity)
        check_id = check_id_of(input.check_id, "input.checkId")
        product_id = product_id_of(input.product_id)
        return await mutate(
            info,
            RecordInventoryCountPayload,
            lambda s: checks.record_inventory_count(
                s, check_id=check_id, product_id=product_id, counted_quantity=counted, actor=viewer
            ),
            shown(viewer.reader, InventoryCheckType),
        )

    @strawberry.mutation(
        permission_classes=[RunsWarehouse],
        description="Close a stock-take: an ADJUSTMENT for every count that differed from on "
        "hand (INVALID_TRANSITION when it is closed already).",
    )
    async def close_inventory_check(
        self, info: strawberry.Info, id: strawberry.ID
    ) -> CloseInventoryCheckPayload:
        viewer = await require_viewer(info)
        check_id = check_id_of(id, "id")
        return await mutate(
            info,
            CloseInventoryCheckPayload,
            lambda s: checks.close_inventory_check(s, check_id=check_id, actor=viewer),
            shown(viewer.reader, InventoryCheckType),
        )

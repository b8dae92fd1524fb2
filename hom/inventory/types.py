"""Strawberry types of the inventory: warehouses, stock levels, the ledger, stock-takes.

Every type here is for operators and admins only (`rules.STOCK`): lists, `node(id:)`,
relations (`product.stockLevels`) and mutation payloads all build their objects through
`present(reader, XType, model)`, which calls `XType.from_model(model)` for readers who
may see it and answers None for everyone else; the compiled path and the declared
loaders apply the same rule in SQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay

from hom.accounts.types import PersonType
from hom.catalog.types import ProductType
from hom.core.graphql.relations import derived, nodes_by_id, to_many, to_one
from hom.core.graphql.relay import decode_id
from hom.core.graphql.visibility import rows_of, visible_to
from hom.inventory import reads
from hom.inventory.loaders import (
    check_by_id,
    counts_by_check,
    movement_by_id,
    stock_level_by_id,
    warehouse_by_id,
)
from hom.inventory.models import (
    CheckStatus,
    InventoryCheck,
    InventoryCount,
    MovementKind,
    StockLevel,
    StockMovement,
    Warehouse,
)
from hom.inventory.rules import STOCK

strawberry.enum(
    MovementKind,
    name="StockMovementKind",
    description="What a movement did: RECEIPT, SHIPMENT, ADJUSTMENT and TRANSFER_IN/OUT "
    "move what is on hand; RESERVATION and RELEASE what is reserved (a SHIPMENT both).",
)
strawberry.enum(CheckStatus, name="InventoryCheckStatus", description="OPEN, then CLOSED.")


# Relation fields several types share (each call makes a field of its own).


def _product() -> Any:
    return to_one(key="product_id", target=lambda: ProductType)


def _warehouse() -> Any:
    return to_one(key="warehouse_id", target=lambda: WarehouseType)


def _person(key: str, description: str) -> Any:
    return to_one(key=key, target=lambda: PersonType, description=description)


@rows_of(Warehouse, visible=STOCK)
@strawberry.type(name="Warehouse", description="A place stock is kept (operators, admins).")
class WarehouseType(relay.Node):
    warehouse_id: relay.NodeID[int]
    name: str
    code: str = strawberry.field(description="Unique; capitals, digits and inner hyphens.")
    is_active: bool = strawberry.field(
        description="An inactive warehouse's stock does not count as available."
    )
    low_stock_threshold: int = strawberry.field(
        description="A level with this many or fewer available is low stock."
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, warehouse: Warehouse) -> WarehouseType:
        """The API object of a row (use `present` so visibility applies)."""
        assert warehouse.id is not None
        assert warehouse.created_at is not None
        assert warehouse.updated_at is not None
        return cls(
            warehouse_id=warehouse.id,
            name=warehouse.name,
            code=warehouse.code,
            is_active=warehouse.is_active,
            low_stock_threshold=warehouse.low_stock_threshold,
            created_at=warehouse.created_at,
            updated_at=warehouse.updated_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[WarehouseType | None]:
        return await nodes_by_id(info, cls, warehouse_by_id, node_ids)


@rows_of(StockLevel, visible=STOCK)
@strawberry.type(name="StockLevel", description="One product in one warehouse.")
class StockLevelType(relay.Node):
    level_id: relay.NodeID[int]
    product_id: strawberry.Private[int]
    warehouse_id: strawberry.Private[int]
    product: ProductType = _product()
    warehouse: WarehouseType = _warehouse()
    on_hand: int = strawberry.field(description="Physically there.")
    reserved: int = strawberry.field(description="Held for orders (part of on hand).")
    available: int = derived(
        python=lambda level: level.on_hand - level.reserved,
        sql=lambda level, _: reads.available(level),
        description="On hand minus reserved: what can be ordered.",
    )
    updated_at: datetime

    @classmethod
    def from_model(cls, level: StockLevel) -> StockLevelType:
        """The API object of a row (use `present` so visibility applies)."""
        assert level.id is not None
        assert level.updated_at is not None
        return cls(
            level_id=level.id,
            product_id=level.product_id,
            warehouse_id=level.warehouse_id,
            on_hand=level.on_hand,
            reserved=level.reserved,
            updated_at=level.updated_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[StockLevelType | None]:
        return await nodes_by_id(info, cls, stock_level_by_id, node_ids)


@visible_to(STOCK)
@strawberry.type(name="StockMovement", description="One entry of the append-only stock ledger.")
class StockMovementType(relay.Node):
    movement_id: relay.NodeID[int]
    kind: MovementKind
    quantity: int = strawberry.field(
        description="Signed: what it added to (or, negative, took from) on hand or reserved."
    )
    reason: str | None
    created_at: datetime
    product_id: strawberry.Private[int]
    warehouse_id: strawberry.Private[int]
    actor_id: strawberry.Private[int | None]
    product: ProductType = _product()
    warehouse: WarehouseType = _warehouse()
    actor: PersonType | None = _person("actor_id", "Who made it (null: the system).")

    @classmethod
    def from_model(cls, movement: StockMovement) -> StockMovementType:
        """The API object of a row (use `present` so visibility applies)."""
        assert movement.id is not None
        assert movement.created_at is not None
        return cls(
            movement_id=movement.id,
            kind=MovementKind(movement.kind),
            quantity=movement.quantity,
            reason=movement.reason,
            created_at=movement.created_at,
            product_id=movement.product_id,
            warehouse_id=movement.warehouse_id,
            actor_id=movement.actor_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[StockMovementType | None]:
        return await nodes_by_id(info, cls, movement_by_id, node_ids)


@visible_to(STOCK)
@strawberry.type(name="InventoryCount", description="What was counted of one product.")
class InventoryCountType:
    counted_quantity: int
    expected_quantity: int = strawberry.field(description="On hand when it was counted.")
    difference: int = strawberry.field(
        description="Counted minus expected: the ADJUSTMENT closing the check writes."
    )
    counted_at: datetime
    product_id: strawberry.Private[int]
    counted_by_id: strawberry.Private[int | None]
    product: ProductType = _product()
    counted_by: PersonType | None = _person("counted_by_id", "Who counted it.")

    @classmethod
    def from_model(cls, count: InventoryCount) -> InventoryCountType:
        assert count.counted_at is not None
        return cls(
            counted_quantity=count.counted_quantity,
            expected_quantity=count.expected_quantity,
            difference=count.difference,
            counted_at=count.counted_at,
            product_id=count.product_id,
            counted_by_id=count.counted_by_id,
        )


@visible_to(STOCK)
@strawberry.type(name="InventoryCheck", description="A stock-take of one warehouse.")
class InventoryCheckType(relay.Node):
    check_id: relay.NodeID[int]
    status: CheckStatus
    opened_at: datetime
    closed_at: datetime | None
    warehouse_id: strawberry.Private[int]
    opened_by_id: strawberry.Private[int | None]
    closed_by_id: strawberry.Private[int | None]
    warehouse: WarehouseType = _warehouse()
    opened_by: PersonType | None = _person("opened_by_id", "Who started it.")
    closed_by: PersonType | None = _person("closed_by_id", "Who closed it (null while open).")
    counts: list[InventoryCountType] = to_many(
        key="check_id",
        loader=counts_by_check,
        target=lambda: InventoryCountType,
        estimate=100,
        description="What was counted so far, by product.",
    )

    @classmethod
    def from_model(cls, check: InventoryCheck) -> InventoryCheckType:
        """The API object of a row (use `present` so visibility applies)."""
        assert check.id is not None
        assert check.opened_at is not None
        return cls(
            check_id=check.id,
            status=CheckStatus(check.status),
            opened_at=check.opened_at,
            closed_at=check.closed_at,
            warehouse_id=check.warehouse_id,
            opened_by_id=check.opened_by_id,
            closed_by_id=check.closed_by_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[InventoryCheckType | None]:
        return await nodes_by_id(info, cls, check_by_id, node_ids)


# --- filters of InventoryQuery ------------------------------------------------------------


def _optional_id(global_id: strawberry.ID | None, type_name: str, argument: str) -> int | None:
    return None if global_id is None else decode_id(global_id, type_name, argument=argument)


@strawberry.input(name="StockLevelFilter", description="Levels matching every condition given.")
class StockLevelFilterInput:
    product_id: strawberry.ID | None = None
    warehouse_id: strawberry.ID | None = None
    low_stock: bool | None = strawberry.field(
        default=None,
        description="Available at or below the warehouse's lowStockThreshold (true) or above.",
    )

    def to_filter(self) -> reads.StockLevelFilter:
        return reads.StockLevelFilter(
            product_id=_optional_id(self.product_id, "Product", "filter.productId"),
            warehouse_id=_optional_id(self.warehouse_id, "Warehouse", "filter.warehouseId"),
            low_stock=self.low_stock,
        )


@strawberry.input(name="StockMovementFilter", description="Movements matching every condition.")
class StockMovementFilterInput:
    product_id: strawberry.ID | None = None
    warehouse_id: strawberry.ID | None = None
    kind: MovementKind | None = None
    from_: datetime | None = strawberry.field(
        default=None, name="from", description="Made at or after (inclusive)."
    )
    to: datetime | None = strawberry.field(default=None, description="Made before (exclusive).")

    def to_filter(self) -> reads.MovementFilter:
        return reads.MovementFilter(
            product_id=_optional_id(self.product_id, "Product", "filter.productId"),
            warehouse_id=_optional_id(self.warehouse_id, "Warehouse", "filter.warehouseId"),
            kind=self.kind,
            from_=self.from_,
            to=self.to,
        )


@strawberry.input(name="InventoryCheckFilter", description="Stock-takes matching every condition.")
class InventoryCheckFilterInput:
    warehouse_id: strawberry.ID | None = None
    status: CheckStatus | None = None

    def to_filter(self) -> reads.CheckFilter:
        return reads.CheckFilter(
            warehouse_id=_optional_id(self.warehouse_id, "Warehouse", "filter.warehouseId"),
            status=self.status,
        )

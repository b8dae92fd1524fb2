"""Inventory root fields to read: warehouses, stock levels, the ledger and stock-takes, for
operators and admins (SPEC §6)."""

from __future__ import annotations

import strawberry

from hom.core.graphql import compiled
from hom.core.graphql.cost import estimate
from hom.core.graphql.permissions import has_role
from hom.core.graphql.reading import read_counted_page, read_list, read_page
from hom.core.graphql.relations import present_one
from hom.core.graphql.relay import Connection, CountedConnection, decode_id
from hom.core.roles import Role
from hom.inventory import reads
from hom.inventory.loaders import warehouse_by_id
from hom.inventory.types import (
    InventoryCheckFilterInput,
    InventoryCheckType,
    StockLevelFilterInput,
    StockLevelType,
    StockMovementFilterInput,
    StockMovementType,
    WarehouseType,
)

ReadsStock = has_role(Role.OPERATOR)


@strawberry.type
class InventoryQuery:
    @strawberry.field(
        permission_classes=[ReadsStock],
        description="Every warehouse (inactive ones too), by code.",
        metadata={
            **compiled.source(
                compiled.ListSource(lambda reader, features: reads.warehouses_query())
            ),
            **estimate(10),
        },
    )
    async def warehouses(self, info: strawberry.Info) -> list[WarehouseType]:
        return await read_list(info, WarehouseType, reads.list_warehouses)

    @strawberry.field(permission_classes=[ReadsStock], description="A warehouse by its id.")
    async def warehouse(self, info: strawberry.Info, id: strawberry.ID) -> WarehouseType | None:
        warehouse_id = decode_id(id, "Warehouse")
        found = await info.context.loaders.get(warehouse_by_id).load(warehouse_id)
        return await present_one(info, WarehouseType, found)

    @strawberry.field(
        permission_classes=[ReadsStock], description="Stock levels matching the filter, by id."
    )
    async def stock_levels(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        filter: StockLevelFilterInput | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[StockLevelType]:
        criteria = (filter or StockLevelFilterInput()).to_filter()
        levels: Connection[StockLevelType] = await read_page(
            info,
            StockLevelType,
            reads.LEVEL_KEYS,
            (first, after, last, before),
            lambda session, request: reads.stock_levels_page(
                session, filter=criteria, request=request
            ),
        )
        return levels

    @strawberry.field(
        permission_classes=[ReadsStock],
        description="The stock ledger, newest first: movements matching the filter.",
    )
    async def stock_movements(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        filter: StockMovementFilterInput | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[StockMovementType]:
        criteria = (filter or StockMovementFilterInput()).to_filter()
        movements: Connection[StockMovementType] = await read_page(
            info,
            StockMovementType,
            reads.MOVEMENT_KEYS,
            (first, after, last, before),
            lambda session, request: reads.movements_page(
                session, filter=criteria, request=request
            ),
        )
        return movements

    @strawberry.field(
        permission_classes=[ReadsStock],
        description="Stock-takes matching the filter, newest first; `totalCount`: how many "
        "match it.",
    )
    async def inventory_checks(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        filter: InventoryCheckFilterInput | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> CountedConnection[InventoryCheckType]:
        criteria = (filter or InventoryCheckFilterInput()).to_filter()
        checks: CountedConnection[InventoryCheckType] = await read_counted_page(
            info,
            InventoryCheckType,
            reads.CHECK_KEYS,
            (first, after, last, before),
            lambda session, request: reads.checks_page(session, filter=criteria, request=request),
            lambda session: reads.count_checks(session, filter=criteria),
        )
        return checks

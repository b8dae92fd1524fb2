"""DataLoaders of the inventory: one per relation and per value, named for what they load.

Stock is for operators and admins (SPEC §6): the loaders a product's fields use for
everyone (`stock_levels_by_product`) answer other readers without a query.
"""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from hom.context import Context, session_loader
from hom.core.roles import Role
from hom.core.viewer import Reader
from hom.inventory import reads
from hom.inventory.models import (
    InventoryCheck,
    InventoryCount,
    StockLevel,
    StockMovement,
    Warehouse,
)

STOCK_READERS = (Role.OPERATOR, Role.ADMIN)


def reads_stock(reader: Reader, _model: object = None) -> bool:
    """Warehouses, stock, the ledger and stock-takes are for operators and admins."""
    return reader.has_role(*STOCK_READERS)


def warehouse_by_id(context: Context) -> DataLoader[int, Warehouse | None]:
    return session_loader(context, lambda session, ids: reads.warehouses_by_ids(session, ids=ids))


def stock_level_by_id(context: Context) -> DataLoader[int, StockLevel | None]:
    return session_loader(context, lambda session, ids: reads.levels_by_ids(session, ids=ids))


def movement_by_id(context: Context) -> DataLoader[int, StockMovement | None]:
    return session_loader(context, lambda session, ids: reads.movements_by_ids(session, ids=ids))


def check_by_id(context: Context) -> DataLoader[int, InventoryCheck | None]:
    return session_loader(context, lambda session, ids: reads.checks_by_ids(session, ids=ids))


def counts_by_check(context: Context) -> DataLoader[int, list[InventoryCount]]:
    return session_loader(
        context, lambda session, ids: reads.counts_by_check_ids(session, check_ids=ids)
    )


def available_quantity_by_product(context: Context) -> DataLoader[int, int]:
    """What each product has available over active warehouses (public: `availableQuantity`)."""
    return session_loader(
        context, lambda session, ids: reads.available_by_product_ids(session, product_ids=ids)
    )


def stock_levels_by_product(context: Context) -> DataLoader[int, list[StockLevel]]:
    """Each product's levels, by warehouse code; nothing (and no query) for other readers,
    who could not see them anyway."""

    async def load(ids: Sequence[int]) -> list[list[StockLevel]]:
        if not reads_stock(await context.reader()):
            return [[] for _ in ids]
        async with context.db.session() as session:
            return await reads.stock_levels_by_product_ids(session, product_ids=ids)

    return DataLoader(load_fn=load)

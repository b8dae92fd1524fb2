"""DataLoaders of the inventory: one per relation and per value, named for what they load.

Stock is for operators and admins (SPEC §6, `rules.STOCK`); a product's stock levels
and available quantity are declared on its type (hom.catalog.types).
"""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from hom.context import Context, session_loader
from hom.core.graphql.relations import by_id_loader
from hom.inventory import reads
from hom.inventory.models import (
    InventoryCheck,
    InventoryCount,
    StockLevel,
    StockMovement,
    Warehouse,
)

warehouse_by_id = by_id_loader(Warehouse)


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

"""Batch reads and lists of the inventory: what its loaders and root fields fetch.

Plain async functions over a session (no strawberry), like the service. Batch reads
take one statement per batch and answer in the order asked; page functions take a
checked `PageRequest` (`hom.core.pagination.page_request` with this module's keys).
`in_stock_condition` is the catalog listing's `inStock` filter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import FromClause, Integer, Select, cast, exists, func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.catalog.service import Product
from hom.core.batch_reads import Ordered
from hom.core.pagination import (
    Page,
    PageRequest,
    SortKey,
    count_rows,
    keyset_select,
    make_page,
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

ModelT = TypeVar("ModelT", bound=SQLModel)
KeyT = TypeVar("KeyT")

LEVEL_KEYS = [SortKey(col(StockLevel.id))]
# The ledger and stock-takes read newest first: what an operator looks for.
MOVEMENT_KEYS = [SortKey(col(StockMovement.id), descending=True)]
CHECK_KEYS = [SortKey(col(InventoryCheck.id), descending=True)]


def available(level: FromClause | None = None) -> ColumnElement[int]:
    """A level's available quantity: on hand minus reserved (of `level`, a row of the
    stock_level table or an alias of it)."""
    row: Any = StockLevel.__table__ if level is None else level  # type: ignore[attr-defined]
    return row.c.on_hand - row.c.reserved  # type: ignore[no-any-return]


def by_warehouse_code(level: FromClause) -> Ordered:
    """Levels by their warehouse's code: the order of a product's stock levels."""
    warehouse = Warehouse.__table__.alias()  # type: ignore[attr-defined]
    return Ordered([warehouse.c.code], [(warehouse, warehouse.c.id == level.c.warehouse_id)])


@dataclass(frozen=True, kw_only=True)
class StockLevelFilter:
    """`low_stock`: available at or below the warehouse's threshold (true) or above (false)."""

    product_id: int | None = None
    warehouse_id: int | None = None
    low_stock: bool | None = None


@dataclass(frozen=True, kw_only=True)
class MovementFilter:
    """`from_` inclusive, `to` exclusive, on `created_at`."""

    product_id: int | None = None
    warehouse_id: int | None = None
    kind: MovementKind | None = None
    from_: datetime | None = None
    to: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class CheckFilter:
    warehouse_id: int | None = None
    status: CheckStatus | None = None


# --- batches -----------------------------------------------------------------------------


def _grouped(
    rows: Sequence[ModelT], keys: Sequence[KeyT], key_of: Callable[[ModelT], KeyT]
) -> list[list[ModelT]]:
    """Rows (already in their order) grouped under each key asked, in the order asked."""
    grouped: dict[KeyT, list[ModelT]] = {}
    for row in rows:
        grouped.setdefault(key_of(row), []).append(row)
    return [grouped.get(key, []) for key in keys]


async def _by_ids(session: AsyncSession, model: type[ModelT], ids: Sequence[int]) -> list[Any]:
    id_column: Any = model.id  # type: ignore[attr-defined]
    rows = await session.exec(select(model).where(col(id_column).in_(ids)))
    found = {row.id: row for row in rows}  # type: ignore[attr-defined]
    return [found.get(key) for key in ids]


async def levels_by_ids(session: AsyncSession, *, ids: Sequence[int]) -> list[StockLevel | None]:
    return await _by_ids(session, StockLevel, ids)


async def movements_by_ids(
    session: AsyncSession, *, ids: Sequence[int]
) -> list[StockMovement | None]:
    return await _by_ids(session, StockMovement, ids)


async def checks_by_ids(
    session: AsyncSession, *, ids: Sequence[int]
) -> list[InventoryCheck | None]:
    return await _by_ids(session, InventoryCheck, ids)


def available_quantity(product_id: ColumnElement[int]) -> ColumnElement[int]:
    """What a product has available (on hand - reserved) over active warehouses; 0 if none
    (a correlated subquery)."""
    total = (
        select(func.sum(available()))
        .join(Warehouse, col(Warehouse.id) == col(StockLevel.warehouse_id))
        .where(col(StockLevel.product_id) == product_id, col(Warehouse.is_active))
        .scalar_subquery()
    )
    return cast(func.coalesce(total, 0), Integer)


async def counts_by_check_ids(
    session: AsyncSession, *, check_ids: Sequence[int]
) -> list[list[InventoryCount]]:
    """Each check's count lines, by product id."""
    statement = (
        select(InventoryCount)
        .where(col(InventoryCount.check_id).in_(check_ids))
        .order_by(col(InventoryCount.check_id), col(InventoryCount.product_id))
    )
    rows = (await session.exec(statement)).all()
    return _grouped(rows, check_ids, lambda count: count.check_id)


def in_stock_condition() -> ColumnElement[bool]:
    """On `product`: it has something available in an active warehouse."""
    return exists(
        select(col(StockLevel.id))
        .join(Warehouse, col(Warehouse.id) == col(StockLevel.warehouse_id))
        .where(
            col(StockLevel.product_id) == col(Product.id),
            col(Warehouse.is_active),
            available() > 0,
        )
    )


# --- lists -------------------------------------------------------------------------------


def warehouses_query() -> Any:
    """Every warehouse (inactive ones too), by code."""
    return select(Warehouse).order_by(col(Warehouse.code))


async def list_warehouses(session: AsyncSession) -> list[Warehouse]:
    return list(await session.exec(warehouses_query()))


async def _page(
    session: AsyncSession, statement: Select[Any], keys: Sequence[SortKey], request: PageRequest
) -> Page[Any]:
    """One keyset page of a statement over one model, keyed by its id."""
    rows = (await session.exec(keyset_select(statement, keys, request))).all()  # type: ignore[call-overload]
    return make_page(rows, request, lambda row: (row.id,))


def _equal(column: Any, value: Any) -> list[ColumnElement[bool]]:
    """`column = value` when a filter gives the value, else no condition."""
    return [] if value is None else [col(column) == value]


def _low_stock(low_stock: bool | None) -> list[ColumnElement[bool]]:
    if low_stock is None:
        return []
    threshold = (
        select(col(Warehouse.low_stock_threshold))
        .where(col(Warehouse.id) == col(StockLevel.warehouse_id))
        .scalar_subquery()
    )
    return [available() <= threshold if low_stock else available() > threshold]


async def stock_levels_page(
    session: AsyncSession, *, filter: StockLevelFilter, request: PageRequest
) -> Page[StockLevel]:
    """Levels matching the filter, by id."""
    statement = select(StockLevel).where(
        *_equal(StockLevel.product_id, filter.product_id),
        *_equal(StockLevel.warehouse_id, filter.warehouse_id),
        *_low_stock(filter.low_stock),
    )
    return await _page(session, statement, LEVEL_KEYS, request)


def _created_between(start: datetime | None, end: datetime | None) -> list[ColumnElement[bool]]:
    created_at = col(StockMovement.created_at)
    return [
        *([] if start is None else [created_at >= start]),
        *([] if end is None else [created_at < end]),
    ]


async def movements_page(
    session: AsyncSession, *, filter: MovementFilter, request: PageRequest
) -> Page[StockMovement]:
    """Movements matching the filter, newest first."""
    kind = None if filter.kind is None else filter.kind.value
    statement = select(StockMovement).where(
        *_equal(StockMovement.product_id, filter.product_id),
        *_equal(StockMovement.warehouse_id, filter.warehouse_id),
        *_equal(StockMovement.kind, kind),
        *_created_between(filter.from_, filter.to),
    )
    return await _page(session, statement, MOVEMENT_KEYS, request)


async def checks_page(
    session: AsyncSession, *, filter: CheckFilter, request: PageRequest
) -> Page[InventoryCheck]:
    """Stock-takes matching the filter, newest first."""
    return await _page(session, checks_listing(filter), CHECK_KEYS, request)


def checks_listing(filter: CheckFilter) -> Any:
    status = None if filter.status is None else filter.status.value
    return select(InventoryCheck).where(
        *_equal(InventoryCheck.warehouse_id, filter.warehouse_id),
        *_equal(InventoryCheck.status, status),
    )


async def count_checks(session: AsyncSession, *, filter: CheckFilter) -> int:
    """How many stock-takes `checks_page` pages through."""
    return await count_rows(session, checks_listing(filter))

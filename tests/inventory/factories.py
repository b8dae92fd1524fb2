"""Factories of the inventory: real rows, inserted directly (the service is not needed).

Every level they make equals the sum of its movements: `stock` writes a RECEIPT for what
is on hand and a RESERVATION for what is reserved, `move` writes one movement and moves
its level by it (on hand and/or reserved, as `hom.inventory.models` says per kind).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select

from hom.catalog.models import Product
from hom.core.unit_of_work import SessionMaker, unit_of_work
from hom.inventory.models import (
    ON_HAND_KINDS,
    RESERVED_KINDS,
    CheckStatus,
    InventoryCheck,
    InventoryCount,
    MovementKind,
    StockLevel,
    StockMovement,
    Warehouse,
)


async def create_warehouse(
    session_maker: SessionMaker, code: str, *, active: bool = True, low_stock_threshold: int = 5
) -> Warehouse:
    warehouse = Warehouse(
        name=f"Warehouse {code}",
        code=code,
        is_active=active,
        low_stock_threshold=low_stock_threshold,
    )
    async with unit_of_work(session_maker) as session:
        session.add(warehouse)
    return warehouse


async def move(
    session_maker: SessionMaker,
    level: StockLevel,
    kind: MovementKind,
    quantity: int,
    *,
    actor_id: int | None = None,
    at: datetime | None = None,
    reason: str | None = None,
) -> StockMovement:
    """One movement of `level`, and the level moved by it (as the ledger would)."""
    movement = StockMovement(
        product_id=level.product_id,
        warehouse_id=level.warehouse_id,
        kind=kind.value,
        quantity=quantity,
        actor_id=actor_id,
        reason=reason,
        created_at=at,
    )
    async with unit_of_work(session_maker) as session:
        stored = (
            await session.exec(select(StockLevel).where(col(StockLevel.id) == level.id))
        ).one()
        stored.on_hand += quantity if kind in ON_HAND_KINDS else 0
        stored.reserved += quantity if kind in RESERVED_KINDS else 0
        session.add_all([stored, movement])
    level.on_hand, level.reserved = stored.on_hand, stored.reserved
    return movement


async def stock(
    session_maker: SessionMaker,
    product: Product,
    warehouse: Warehouse,
    on_hand: int,
    reserved: int = 0,
    *,
    actor_id: int | None = None,
) -> StockLevel:
    """A level of `product` in `warehouse`, received (and reserved) through the ledger."""
    level = StockLevel(product_id=product.id, warehouse_id=warehouse.id)
    async with unit_of_work(session_maker) as session:
        session.add(level)
    if on_hand:
        await move(session_maker, level, MovementKind.RECEIPT, on_hand, actor_id=actor_id)
    if reserved:
        await move(session_maker, level, MovementKind.RESERVATION, reserved, actor_id=actor_id)
    return level


async def create_check(
    session_maker: SessionMaker,
    warehouse: Warehouse,
    *,
    counts: Sequence[tuple[Product, int, int]] = (),
    opened_by_id: int | None = None,
    closed_at: datetime | None = None,
) -> InventoryCheck:
    """A stock-take with its (product, counted, expected) lines; closed when `closed_at`."""
    check = InventoryCheck(
        warehouse_id=warehouse.id,
        status=(CheckStatus.OPEN if closed_at is None else CheckStatus.CLOSED).value,
        opened_by_id=opened_by_id,
        closed_by_id=None if closed_at is None else opened_by_id,
        closed_at=closed_at,
    )
    async with unit_of_work(session_maker) as session:
        session.add(check)
        await session.flush()
        session.add_all(
            InventoryCount(
                check_id=check.id,
                product_id=product.id,
                counted_quantity=counted,
                expected_quantity=expected,
                counted_by_id=opened_by_id,
            )
            for product, counted, expected in counts
        )
    return check

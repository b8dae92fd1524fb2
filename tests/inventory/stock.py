"""Stock made through the inventory service, so the ledger and the levels always agree."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import col, select

from hom.audit.models import AuditEntry
from hom.core.db import SessionMaker
from hom.core.roles import Role
from hom.core.unit_of_work import unit_of_work
from hom.core.viewer import Viewer
from hom.inventory import service, warehouses
from hom.inventory.models import StockLevel, StockMovement
from tests.catalog.factories import create_category, create_product
from tests.factories import create_user

Levels = dict[tuple[int, int], tuple[int, int]]


async def an_operator(session_maker: SessionMaker) -> Viewer:
    user = await create_user(session_maker, role=Role.OPERATOR)
    assert user.id is not None
    return Viewer(user_id=user.id, role=Role.OPERATOR, sid="s", jti="j", expires_at=0)


async def a_warehouse(session_maker: SessionMaker, code: str, actor: Viewer) -> int:
    async with unit_of_work(session_maker) as session:
        new = warehouses.NewWarehouse(name=f"Warehouse {code}", code=code)
        warehouse = await warehouses.create_warehouse(session, new=new, actor=actor)
    assert warehouse.id is not None
    return warehouse.id


async def some_products(
    session_maker: SessionMaker, count: int, name: str = "Stocked"
) -> list[int]:
    category = await create_category(session_maker, name)
    ids = []
    for index in range(count):
        product = await create_product(session_maker, category, index=index)
        assert product.id is not None
        ids.append(product.id)
    return ids


async def receive(
    session_maker: SessionMaker, product_id: int, warehouse_id: int, quantity: int
) -> None:
    async with unit_of_work(session_maker) as session:
        await service.receive_stock(
            session,
            product_id=product_id,
            warehouse_id=warehouse_id,
            quantity=quantity,
            reason=None,
            actor=None,
        )


async def stock_levels(session_maker: SessionMaker) -> Levels:
    """Every level as {(product, warehouse): (on hand, reserved)}."""
    async with unit_of_work(session_maker) as session:
        rows = (await session.exec(select(StockLevel))).all()
    return {(r.product_id, r.warehouse_id): (r.on_hand, r.reserved) for r in rows}


async def ledger_state(session_maker: SessionMaker) -> tuple[Levels, int, int]:
    """The levels, how many movements and how many audit entries exist: what a refused
    operation must leave exactly as it was."""
    async with unit_of_work(session_maker) as session:
        movements = await session.scalar(select(func.count()).select_from(StockMovement))
        entries = await session.scalar(select(func.count()).select_from(AuditEntry))
    return await stock_levels(session_maker), int(movements or 0), int(entries or 0)


async def movements(session_maker: SessionMaker) -> list[tuple[str, int, int, str | None]]:
    """Every movement as (kind, quantity, warehouse id, reason), oldest first."""
    async with unit_of_work(session_maker) as session:
        rows = (await session.exec(select(StockMovement).order_by(col(StockMovement.id)))).all()
    return [(row.kind, row.quantity, row.warehouse_id, row.reason) for row in rows]

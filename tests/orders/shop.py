"""A shop to order from: products with stock, customers, operators, and what the orders
left behind (orders, lines, movements, mail, notifications, audit entries)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from hom.audit.models import AuditEntry
from hom.core.roles import Role
from hom.core.unit_of_work import SessionMaker, unit_of_work
from hom.core.viewer import Viewer
from hom.inventory.models import StockLevel, StockMovement
from hom.notifications.models import Notification, OutboxMessage
from hom.orders import service
from hom.orders.models import Order, OrderLine
from tests.factories import create_user
from tests.inventory.stock import a_warehouse, an_operator, receive, some_products


@dataclass
class Shop:
    """Products (ids) stocked in one warehouse, and an operator."""

    session_maker: SessionMaker
    operator: Viewer
    warehouse_id: int
    products: list[int]


async def a_shop(session_maker: SessionMaker, *stock: int) -> Shop:
    """One product per number in `stock`, that many of it on hand."""
    operator = await an_operator(session_maker)
    warehouse_id = await a_warehouse(session_maker, "MAIN", operator)
    products = await some_products(session_maker, len(stock))
    for product_id, quantity in zip(products, stock, strict=True):
        if quantity:
            await receive(session_maker, product_id, warehouse_id, quantity)
    return Shop(session_maker, operator, warehouse_id, products)


async def a_customer(session_maker: SessionMaker, *, verified: bool = True) -> Viewer:
    user = await create_user(session_maker, verified=verified)
    assert user.id is not None
    return Viewer(user_id=user.id, role=Role.CUSTOMER, sid="s", jti="j", expires_at=0)


async def customers(session_maker: SessionMaker, count: int) -> list[Viewer]:
    return [await a_customer(session_maker) for _ in range(count)]


async def place(
    session_maker: SessionMaker, customer: Viewer, lines: Mapping[int, int], key: str = "k-1"
) -> Order:
    async with unit_of_work(session_maker) as session:
        return await service.place_order(
            session, user_id=customer.user_id, lines=lines, idempotency_key=key
        )


async def levels(session_maker: SessionMaker) -> dict[int, tuple[int, int]]:
    """{product id: (on hand, reserved)} (one warehouse)."""
    async with unit_of_work(session_maker) as session:
        rows = (await session.exec(select(StockLevel))).all()
    return {row.product_id: (row.on_hand, row.reserved) for row in rows}


async def count(session_maker: SessionMaker, model: Any, *where: Any) -> int:
    async with unit_of_work(session_maker) as session:
        statement = select(func.count()).select_from(model).where(*where)
        return int((await session.exec(statement)).one())


@dataclass(frozen=True)
class Traces:
    """Everything an order's placing or change writes."""

    orders: int
    lines: int
    movements: int
    mail: int
    notifications: int
    audit: int


async def traces(session_maker: SessionMaker) -> Traces:
    return Traces(
        orders=await count(session_maker, Order),
        lines=await count(session_maker, OrderLine),
        movements=await count(
            session_maker, StockMovement, col(StockMovement.order_id).is_not(None)
        ),
        mail=await count(session_maker, OutboxMessage),
        notifications=await count(session_maker, Notification),
        audit=await count(session_maker, AuditEntry),
    )


async def movements_of(session_maker: SessionMaker, order_id: int) -> list[tuple[str, int, int]]:
    """The order's movements as (kind, product id, quantity), oldest first."""
    async with unit_of_work(session_maker) as session:
        statement = (
            select(StockMovement)
            .where(col(StockMovement.order_id) == order_id)
            .order_by(col(StockMovement.id))
        )
        rows = (await session.exec(statement)).all()
    return [(row.kind, row.product_id, row.quantity) for row in rows]


async def mails(session_maker: SessionMaker) -> list[OutboxMessage]:
    async with unit_of_work(session_maker) as session:
        statement = select(OutboxMessage).order_by(col(OutboxMessage.id))
        return list((await session.exec(statement)).all())


async def notification_kinds(session_maker: SessionMaker, user_id: int) -> list[str]:
    async with unit_of_work(session_maker) as session:
        statement = (
            select(Notification)
            .where(col(Notification.user_id) == user_id)
            .order_by(col(Notification.id))
        )
        return [row.kind for row in (await session.exec(statement)).all()]


async def audit_actions(session_maker: SessionMaker) -> list[tuple[str, str]]:
    async with unit_of_work(session_maker) as session:
        statement = select(AuditEntry).order_by(col(AuditEntry.id))
        return [(row.action, row.entity_id) for row in (await session.exec(statement)).all()]


async def stored_order(session_maker: SessionMaker, order_id: int) -> Order:
    async with unit_of_work(session_maker) as session:
        order = await service.get_order(session, order_id=order_id)
    assert order is not None
    return order

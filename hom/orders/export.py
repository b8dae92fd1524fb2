"""The orders' part of `exportMyData`: every order of the caller, newest first, with its
lines as they were sold.

Plain async functions over a session; they never commit and never import strawberry.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.core.clock import iso_utc
from hom.core.export import ExportRequest
from hom.orders.models import Order, OrderLine

STAMPS = ("placed_at", "paid_at", "fulfilled_at", "shipped_at", "delivered_at", "cancelled_at")


def _iso(value: datetime | None) -> str | None:
    return iso_utc(value) if value else None


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _money(amount: Decimal, currency: str) -> dict[str, str]:
    """Money as the API shows it: `{amount, currency}`."""
    return {"amount": str(amount), "currency": currency}


def _line(line: OrderLine) -> dict[str, Any]:
    return {
        "sku": line.sku,
        "name": line.name,
        "quantity": line.quantity,
        "unitPrice": _money(line.unit_price, line.currency),
        "lineTotal": _money(line.line_total, line.currency),
    }


def _order(order: Order, lines: list[dict[str, Any]]) -> dict[str, Any]:
    stamps = {_camel(name): _iso(getattr(order, name)) for name in STAMPS}
    return {
        "number": order.number,
        "status": order.status,
        "total": _money(order.total, order.currency),
        **stamps,
        "cancelReason": order.cancel_reason,
        "lines": lines,
    }


async def export_section(session: AsyncSession, *, request: ExportRequest) -> dict[str, Any]:
    return {"orders": await export_orders(session, user_id=request.user_id)}


async def export_orders(session: AsyncSession, *, user_id: int) -> list[dict[str, Any]]:
    """The user's orders, newest first, each with its lines."""
    orders = (
        await session.exec(
            select(Order)
            .where(col(Order.user_id) == user_id)
            .order_by(col(Order.placed_at).desc(), col(Order.id).desc())
        )
    ).all()
    statement = (
        select(OrderLine)
        .join(Order, col(Order.id) == col(OrderLine.order_id))
        .where(col(Order.user_id) == user_id)
        .order_by(col(OrderLine.id))
    )
    lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for line in (await session.exec(statement)).all():
        lines[line.order_id].append(_line(line))
    return [_order(order, lines[order.id or 0]) for order in orders]

"""The SQL the orders are read with: the lists (`myOrders`, `orders`) as statements both
read paths run, and the order of an order's lines.

Plain functions (no strawberry), like the service. A list's statement is built once
(`my_orders_query`, `orders_query`): the executor runs it (`run_orders_query`), the
compiled read path selects its JSON from the same statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import FromClause
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.accounts import service as accounts
from hom.core.pagination import (
    EMPTY_PAGE,
    Page,
    PageQuery,
    SortKey,
    count_rows,
    count_select,
    keyset_select,
    page_direction,
    page_request,
)
from hom.orders.models import Order, OrderStatus

# Newest first; the id breaks ties (both in the indexes the lists read).
ORDER_KEYS = [
    SortKey(col(Order.placed_at), descending=True),
    SortKey(col(Order.id), descending=True),
]
# A client's `first`, `after`, `last` and `before`, as given.
PageArguments = tuple[int | None, str | None, int | None, str | None]


@dataclass(frozen=True, kw_only=True)
class OrderFilter:
    """Orders matching every condition given; `placed_from` inclusive, `placed_to`
    exclusive, on `placed_at`."""

    status: OrderStatus | None = None
    customer_id: int | None = None
    placed_from: datetime | None = None
    placed_to: datetime | None = None


def by_id(line: FromClause) -> list[ColumnElement[Any]]:
    """An order's lines in the order they were written."""
    return [line.c.id]


def customer_email(order: FromClause) -> ColumnElement[str]:
    """The email of an order's customer, now (a correlated subquery on an order row)."""
    user = accounts.User
    email: ColumnElement[str] = (
        select(col(user.email)).where(col(user.id) == order.c.user_id).scalar_subquery()
    )
    return email


def orders_listing(filter: OrderFilter, *, owner: Any = None) -> Any:
    """The orders matching `filter` (of `owner` when given: a user id, or the compiled
    path's `viewer_id()` parameter), unordered."""
    placed_at = col(Order.placed_at)
    conditions = [
        *([] if owner is None else [col(Order.user_id) == owner]),
        *([] if filter.status is None else [col(Order.status) == filter.status.value]),
        *([] if filter.customer_id is None else [col(Order.user_id) == filter.customer_id]),
        *([] if filter.placed_from is None else [placed_at >= filter.placed_from]),
        *([] if filter.placed_to is None else [placed_at < filter.placed_to]),
    ]
    return select(Order).where(*conditions)


def orders_query(filter: OrderFilter, arguments: PageArguments, *, owner: Any = None) -> PageQuery:
    """One page of `orders_listing`, newest first, for a client's page arguments
    (checked: InvalidInput)."""
    first, after, last, before = arguments
    page_direction(first, after, last, before)
    request = page_request(first, after, ORDER_KEYS, last=last, before=before)
    listed = orders_listing(filter, owner=owner)
    paged = keyset_select(listed, ORDER_KEYS, request)
    return PageQuery(paged, ORDER_KEYS, request, count=count_select(listed))


async def run_orders_query(session: AsyncSession, *, query: PageQuery | None) -> Page[Order]:
    if query is None:
        return EMPTY_PAGE
    rows = (await session.exec(query.statement)).all()  # type: ignore[call-overload]
    return query.page(rows, lambda order: (order.placed_at, order.id))


async def count_orders(session: AsyncSession, *, filter: OrderFilter, owner: Any = None) -> int:
    """How many orders `orders_query` pages through."""
    return await count_rows(session, orders_listing(filter, owner=owner))


def order_lookup(*, order_id: int) -> Any:
    """The order with this id (a statement of one row at most)."""
    return select(Order).where(col(Order.id) == order_id)

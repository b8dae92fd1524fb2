"""Product views: one view per viewer, product and hour counts; a user's recently viewed.

A viewer is "user:<id>" when signed in, else a hash of the client's address and
user agent (the address itself is never stored). Plain async functions over a
session; they never commit and never import strawberry.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, String, func, literal, literal_column
from sqlalchemy import select as select_columns
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.catalog.models import Product, ProductView
from hom.catalog.shared import product_page, require_active_product
from hom.core.pagination import (
    Page,
    PageRequest,
    SortKey,
    count_rows,
    keyset_select,
    make_page,
)
from hom.core.rate_limit import anonymized

VIEW_KEYS = ("product_id", "viewer", "viewed_hour")
# Each user's last view of each product; PostgreSQL pushes the user condition down into it.
LAST_VIEWS = (
    select_columns(
        col(ProductView.user_id),
        col(ProductView.product_id),
        func.max(col(ProductView.viewed_at)).label("last_viewed_at"),
    )
    .where(col(ProductView.user_id).isnot(None))
    .group_by(col(ProductView.user_id), col(ProductView.product_id))
    .subquery("last_view")
)
RECENTLY_VIEWED_KEYS = [
    SortKey(LAST_VIEWS.c.last_viewed_at, descending=True),
    SortKey(LAST_VIEWS.c.product_id, descending=True),
]


def viewer_key(user_id: int | None, client_ip: str, user_agent: str) -> str:
    """Who viewed: the user, else a client hash (never the raw address)."""
    if user_id is not None:
        return f"user:{user_id}"
    return f"client:{anonymized(f'{client_ip}|{user_agent}')}"


def view_hour(at: datetime) -> datetime:
    """The UTC hour `at` falls in (a naive `at` is taken as UTC)."""
    moment = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return moment.replace(minute=0, second=0, microsecond=0)


async def record_view(
    session: AsyncSession, *, product_id: int, viewer: str, user_id: int | None, at: datetime
) -> bool:
    """Count a view of an active product; False when this viewer was counted this hour.

    One statement in the usual case: the INSERT reads the product itself. A repeated
    view by a signed-in user only moves `viewed_at` on (their recently viewed order).
    """
    moment = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    timestamp = DateTime(timezone=True)
    source = select_columns(
        col(Product.id),
        literal(user_id, BigInteger),
        literal(viewer, String),
        literal(view_hour(at), timestamp),
        literal(moment, timestamp),
    ).where(col(Product.id) == product_id, col(Product.is_active))
    inserting = insert(ProductView).from_select(
        ["product_id", "user_id", "viewer", "viewed_hour", "viewed_at"], source
    )
    proposed = inserting.excluded
    statement: Any = inserting.on_conflict_do_update(
        index_elements=list(VIEW_KEYS),
        set_={"viewed_at": proposed.viewed_at},
        where=proposed.user_id.isnot(None) & (col(ProductView.viewed_at) < proposed.viewed_at),
    ).returning(literal_column("xmax = 0"))  # true for a new row, false for an update
    written = (await session.exec(statement)).scalar_one_or_none()
    if written is None:  # no row: a repeated view, or no such (active) product
        await require_active_product(session, product_id=product_id)
    return bool(written)


async def view_counts(session: AsyncSession, *, product_ids: Sequence[int]) -> dict[int, int]:
    """Counted views of each product (0 for none), in one statement."""
    if not product_ids:
        return {}
    statement = (
        select(col(ProductView.product_id), func.count())
        .where(col(ProductView.product_id).in_(product_ids))
        .group_by(col(ProductView.product_id))
    )
    counted = dict((await session.exec(statement)).all())
    return {product_id: counted.get(product_id, 0) for product_id in product_ids}


def recently_viewed_listing(user_id: int) -> Any:
    """The user's distinct active viewed products with their last view (unordered)."""
    return (
        select(Product, LAST_VIEWS.c.last_viewed_at)
        .join(LAST_VIEWS, LAST_VIEWS.c.product_id == col(Product.id))
        .where(LAST_VIEWS.c.user_id == user_id, col(Product.is_active))
    )


async def count_recently_viewed(session: AsyncSession, *, user_id: int) -> int:
    """How many products `recently_viewed` pages through."""
    return await count_rows(session, recently_viewed_listing(user_id))


async def recently_viewed(
    session: AsyncSession, *, user_id: int, request: PageRequest
) -> Page[Product]:
    """The user's distinct active products, the most recently viewed first."""
    statement = recently_viewed_listing(user_id)
    paged = keyset_select(statement, RECENTLY_VIEWED_KEYS, request)
    rows = (await session.exec(paged)).all()
    return product_page(make_page(rows, request, lambda row: (row[1], row[0].id)))

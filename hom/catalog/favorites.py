"""Favorites: a user's starred products, and the counts every product list shows.

Plain async functions over a session; they never commit and never import strawberry.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.catalog.models import Favorite, Product
from hom.catalog.shared import product_page, require_active_product
from hom.core.pagination import (
    Page,
    PageRequest,
    SortKey,
    count_rows,
    keyset_select,
    make_page,
)

# Newest favorite first; the product id breaks ties within one transaction's now().
FAVORITE_KEYS = [
    SortKey(col(Favorite.created_at), descending=True),
    SortKey(col(Favorite.product_id), descending=True),
]


async def add_favorite(session: AsyncSession, *, user_id: int, product_id: int) -> Product:
    """Star an active product; starring it again changes nothing."""
    product = await require_active_product(session, product_id=product_id)
    statement = (
        insert(Favorite)
        .values(user_id=user_id, product_id=product_id)
        .on_conflict_do_nothing(index_elements=["user_id", "product_id"])
    )
    await session.exec(statement)
    return product


async def remove_favorite(session: AsyncSession, *, user_id: int, product_id: int) -> Product:
    """Unstar an active product; unstarring one that is not starred changes nothing."""
    product = await require_active_product(session, product_id=product_id)
    statement = delete(Favorite).where(
        col(Favorite.user_id) == user_id, col(Favorite.product_id) == product_id
    )
    await session.exec(statement)
    return product


def favorites_listing(user_id: int) -> Any:
    """The user's active favorite products with the time each was starred (unordered)."""
    return (
        select(Product, col(Favorite.created_at))
        .join(Favorite, col(Favorite.product_id) == col(Product.id))
        .where(col(Favorite.user_id) == user_id, col(Product.is_active))
    )


async def list_favorites(
    session: AsyncSession, *, user_id: int, request: PageRequest
) -> Page[Product]:
    """The user's active favorite products, the most recently starred first."""
    paged = keyset_select(favorites_listing(user_id), FAVORITE_KEYS, request)
    rows = (await session.exec(paged)).all()
    return product_page(make_page(rows, request, _favorite_key))


def _favorite_key(row: tuple[Product, datetime]) -> tuple[datetime, int | None]:
    product, created_at = row
    return created_at, product.id


async def count_favorites(session: AsyncSession, *, user_id: int) -> int:
    """How many products `list_favorites` pages through."""
    return await count_rows(session, favorites_listing(user_id))


async def favorite_counts(session: AsyncSession, *, product_ids: Sequence[int]) -> dict[int, int]:
    """How many users starred each product (0 for none), in one statement."""
    if not product_ids:
        return {}
    statement = (
        select(col(Favorite.product_id), func.count())
        .where(col(Favorite.product_id).in_(product_ids))
        .group_by(col(Favorite.product_id))
    )
    counted = dict((await session.exec(statement)).all())
    return {product_id: counted.get(product_id, 0) for product_id in product_ids}


async def favorited_by(
    session: AsyncSession, *, user_id: int, product_ids: Sequence[int]
) -> set[int]:
    """Which of `product_ids` the user starred (`viewerHasFavorited` for a whole page)."""
    if not product_ids:
        return set()
    statement = select(col(Favorite.product_id)).where(
        col(Favorite.user_id) == user_id, col(Favorite.product_id).in_(product_ids)
    )
    return set((await session.exec(statement)).all())

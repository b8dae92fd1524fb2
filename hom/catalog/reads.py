"""Batch reads of the catalog: what its loaders fetch, one statement per batch, in the
order asked. Plain async functions over a session (no strawberry), like the service.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import exists, func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.catalog.models import Category, Favorite, Product, ProductView
from hom.core.pagination import Page, PageRequest, SortKey, pages_by_parent

# Newest first: what a shopper browsing a category wants to see.
CATEGORY_PRODUCT_KEYS = [
    SortKey(col(Product.created_at), descending=True),
    SortKey(col(Product.id), descending=True),
]


def _in_order(found: dict[Any, Any], ids: Sequence[Any], default: Any = None) -> list[Any]:
    return [found.get(key, default) for key in ids]


async def categories_by_ids(session: AsyncSession, *, ids: Sequence[int]) -> list[Category | None]:
    rows = await session.exec(select(Category).where(col(Category.id).in_(ids)))
    return _in_order({category.id: category for category in rows}, ids)


async def categories_by_slugs(
    session: AsyncSession, *, slugs: Sequence[str]
) -> list[Category | None]:
    rows = await session.exec(select(Category).where(col(Category.slug).in_(slugs)))
    return _in_order({category.slug: category for category in rows}, slugs)


async def children_by_parent_ids(
    session: AsyncSession, *, parent_ids: Sequence[int]
) -> list[list[Category]]:
    """Each category's children, by name."""
    statement = (
        select(Category)
        .where(col(Category.parent_id).in_(parent_ids))
        .order_by(col(Category.name), col(Category.id))
    )
    grouped: dict[int, list[Category]] = {}
    for category in await session.exec(statement):
        assert category.parent_id is not None
        grouped.setdefault(category.parent_id, []).append(category)
    return _in_order(grouped, parent_ids, [])


async def products_by_ids(session: AsyncSession, *, ids: Sequence[int]) -> list[Product | None]:
    rows = await session.exec(select(Product).where(col(Product.id).in_(ids)))
    return _in_order({product.id: product for product in rows}, ids)


def product_count(category_id: ColumnElement[int], *, include_archived: bool) -> Any:
    """Products directly in the category, archived ones only when asked (correlated)."""
    statement = select(func.count()).where(col(Product.category_id) == category_id)
    if not include_archived:
        statement = statement.where(col(Product.is_active))
    return statement.scalar_subquery()


async def product_counts_by_category_ids(
    session: AsyncSession, *, category_ids: Sequence[int], include_archived: bool
) -> list[int]:
    """`product_count` of each category, in the order of `category_ids` (0 for no such)."""
    category_id: Any = col(Category.id)
    count = product_count(category_id, include_archived=include_archived)
    statement = select(category_id, count).where(category_id.in_(category_ids))
    return _in_order(dict((await session.exec(statement)).all()), category_ids, 0)


def product_lookup(*, product_id: int | None = None, slug: str | None = None) -> Any:
    """The product with this id, or else this slug (a statement of one row at most)."""
    if product_id is not None:
        return select(Product).where(col(Product.id) == product_id)
    return select(Product).where(col(Product.slug) == slug)


def category_lookup(*, slug: str) -> Any:
    return select(Category).where(col(Category.slug) == slug)


async def product_by_key(
    session: AsyncSession, *, product_id: int | None = None, slug: str | None = None
) -> Product | None:
    """The product with this id, or else this slug."""
    statement = product_lookup(product_id=product_id, slug=slug)
    return (await session.exec(statement)).first()  # type: ignore[no-any-return]


def favorite_count(product_id: ColumnElement[int]) -> ColumnElement[int]:
    """How many users have the product among their favorites (a correlated subquery)."""
    return select(func.count()).where(col(Favorite.product_id) == product_id).scalar_subquery()


def view_count(product_id: ColumnElement[int]) -> ColumnElement[int]:
    """Counted views: one per viewer, product and hour (a correlated subquery)."""
    return select(func.count()).where(col(ProductView.product_id) == product_id).scalar_subquery()


def has_favorited(user_id: ColumnElement[int], product_id: ColumnElement[int]) -> Any:
    """Whether the user (null: nobody) has the product among their favorites."""
    return exists().where(col(Favorite.user_id) == user_id, col(Favorite.product_id) == product_id)


async def favorite_counts_by_product_ids(
    session: AsyncSession, *, product_ids: Sequence[int]
) -> list[int]:
    return await _per_product(session, favorite_count, product_ids)


async def view_counts_by_product_ids(
    session: AsyncSession, *, product_ids: Sequence[int]
) -> list[int]:
    return await _per_product(session, view_count, product_ids)


async def _per_product(
    session: AsyncSession,
    value: Callable[[ColumnElement[int]], ColumnElement[int]],
    product_ids: Sequence[int],
) -> list[int]:
    """`value(product.id)` of each product, in the order of `product_ids` (0 for no such)."""
    product_id: Any = col(Product.id)
    statement = select(product_id, value(product_id)).where(product_id.in_(product_ids))
    return _in_order(dict((await session.exec(statement)).all()), product_ids, 0)


async def favorited_by_user(
    session: AsyncSession, *, user_id: int, product_ids: Sequence[int]
) -> list[bool]:
    """Which of the products the user has favorited, in one query."""
    statement = select(col(Favorite.product_id)).where(
        col(Favorite.user_id) == user_id, col(Favorite.product_id).in_(product_ids)
    )
    favorited = set((await session.exec(statement)).all())
    return [product_id in favorited for product_id in product_ids]


async def product_pages_by_category_ids(
    session: AsyncSession,
    *,
    category_ids: Sequence[int],
    request: PageRequest,
    include_archived: bool,
) -> list[Page[Product] | None]:
    """A page of each category's products, newest first, in one statement."""
    statement = select(Product).where(col(Product.category_id).in_(category_ids))
    if not include_archived:
        statement = statement.where(col(Product.is_active))
    pages = await pages_by_parent(
        session, Product, statement, col(Product.category_id), CATEGORY_PRODUCT_KEYS, request
    )
    return [pages.get(category_id) for category_id in category_ids]

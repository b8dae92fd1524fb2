"""Batch reads of the catalog: what its loaders fetch, one statement per batch, in the
order asked. Plain async functions over a session (no strawberry), like the service.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnCollection, FromClause, exists, func
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.catalog import tree
from hom.catalog.models import Category, Favorite, Product, ProductView
from hom.core.pagination import Page, PageRequest, SortKey, pages_by_parent


def newest_first(products: ColumnCollection[str, Any]) -> list[SortKey]:
    """Newest first (the id breaks ties): what a shopper browsing a category wants to see;
    `products`: the columns of product rows (the table's, or a subquery's)."""
    return [
        SortKey(products.created_at, descending=True),
        SortKey(products.id, descending=True),
    ]


CATEGORY_PRODUCT_KEYS = newest_first(Product.__table__.c)  # type: ignore[attr-defined]


def _in_order(found: dict[Any, Any], ids: Sequence[Any], default: Any = None) -> list[Any]:
    return [found.get(key, default) for key in ids]


async def categories_by_ids(session: AsyncSession, *, ids: Sequence[int]) -> list[Category | None]:
    rows = await session.exec(select(Category).where(col(Category.id).in_(ids)))
    return _in_order({category.id: category for category in rows}, ids)


def by_name(row: FromClause) -> list[ColumnElement[Any]]:
    """Categories by name (the id breaks ties): the order of a category's children."""
    return [row.c.name, row.c.id]


async def categories_by_slugs(
    session: AsyncSession, *, slugs: Sequence[str]
) -> list[Category | None]:
    rows = await session.exec(select(Category).where(col(Category.slug).in_(slugs)))
    return _in_order({category.slug: category for category in rows}, slugs)


def product_count(category_id: ColumnElement[int], *, include_archived: bool) -> Any:
    """Products in the category and in every category below it, archived ones only when
    asked (correlated: the subtree is walked from the row's id, in the same statement)."""
    in_subtree = col(Product.category_id).in_(tree.subtree_ids(category_id))
    statement = select(func.count()).where(in_subtree)
    if not include_archived:
        statement = statement.where(col(Product.is_active))
    # Its own FROM product even inside a statement that reads the product table itself
    # (`product { category { productCount } }`), where it would be correlated away.
    return statement.correlate_except(Product).scalar_subquery()


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


async def product_pages_by_category_ids(
    session: AsyncSession,
    *,
    category_ids: Sequence[int],
    request: PageRequest,
    include_archived: bool,
) -> list[Page[Product] | None]:
    """A page of each category's products (its subcategories' included, at any depth),
    newest first, in one statement: a product is paged under every asked category above it."""
    visible = [] if include_archived else [col(Product.is_active).is_(True)]
    roots = tree.subtree_pages(
        lambda id: id.in_(category_ids), visible, CATEGORY_PRODUCT_KEYS, request
    ).subquery()
    keys = newest_first(roots.c)
    statement = select(aliased(Product, roots)).add_columns(roots.c.root_id)
    pages = await pages_by_parent(session, Product, statement, roots.c.root_id, keys, request)
    return [pages.get(category_id) for category_id in category_ids]

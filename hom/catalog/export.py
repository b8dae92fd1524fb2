"""The catalog's part of `exportMyData`: the caller's favorites, collections (with their
products) and product views, archived products included (they are still stored).

Plain async functions over a session; they never commit and never import strawberry.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.catalog.models import Collection, CollectionItem, Favorite, Product, ProductView
from hom.core.clock import iso_utc
from hom.core.export import ExportRequest


def _iso(value: datetime | None) -> str | None:
    return iso_utc(value) if value else None


def _product(product: Product) -> dict[str, Any]:
    return {"sku": product.sku, "slug": product.slug, "name": product.name}


async def export_section(session: AsyncSession, *, request: ExportRequest) -> dict[str, Any]:
    return {
        "favorites": await export_favorites(session, user_id=request.user_id),
        "collections": await export_collections(session, user_id=request.user_id),
        "productViews": await export_views(session, user_id=request.user_id),
    }


async def export_favorites(session: AsyncSession, *, user_id: int) -> list[dict[str, Any]]:
    """The user's favorites, oldest first."""
    statement = (
        select(Product, col(Favorite.created_at))
        .join(Favorite, col(Favorite.product_id) == col(Product.id))
        .where(col(Favorite.user_id) == user_id)
        .order_by(col(Favorite.created_at), col(Product.id))
    )
    return [
        {"product": _product(product), "favoritedAt": _iso(at)}
        for product, at in await session.exec(statement)
    ]


async def export_collections(session: AsyncSession, *, user_id: int) -> list[dict[str, Any]]:
    """The user's collections, oldest first, each with its products in the order added."""
    statement = (
        select(CollectionItem.collection_id, Product, col(CollectionItem.added_at))
        .join(Product, col(Product.id) == col(CollectionItem.product_id))
        .join(Collection, col(Collection.id) == col(CollectionItem.collection_id))
        .where(col(Collection.owner_id) == user_id)
        .order_by(col(CollectionItem.added_at), col(Product.id))
    )
    items: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for collection_id, product, added_at in await session.exec(statement):
        items[collection_id].append({"product": _product(product), "addedAt": _iso(added_at)})
    owned = (
        select(Collection).where(col(Collection.owner_id) == user_id).order_by(col(Collection.id))
    )
    return [
        {
            "name": collection.name,
            "visibility": collection.visibility,
            "createdAt": _iso(collection.created_at),
            "updatedAt": _iso(collection.updated_at),
            "products": items[collection.id or 0],
        }
        for collection in await session.exec(owned)
    ]


async def export_views(session: AsyncSession, *, user_id: int) -> list[dict[str, Any]]:
    """The user's product views (one per product and hour), oldest first."""
    statement = (
        select(Product, col(ProductView.viewed_at))
        .join(ProductView, col(ProductView.product_id) == col(Product.id))
        .where(col(ProductView.user_id) == user_id)
        .order_by(col(ProductView.viewed_at), col(ProductView.id))
    )
    return [
        {"product": _product(product), "viewedAt": _iso(at)}
        for product, at in await session.exec(statement)
    ]

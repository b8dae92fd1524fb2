"""Factories of the catalog: real rows, inserted directly (fast, deterministic timestamps)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from strawberry.relay import to_base64

from hom.catalog.models import Category, Favorite, Product, ProductView
from hom.core.unit_of_work import SessionMaker, unit_of_work

EPOCH = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)


def global_id(type_name: str, database_id: int | None) -> str:
    assert database_id is not None
    return to_base64(type_name, database_id)


async def create_category(
    session_maker: SessionMaker,
    name: str,
    *,
    slug: str | None = None,
    parent: Category | None = None,
) -> Category:
    category = Category(
        name=name,
        slug=slug or name.lower().replace(" ", "-"),
        parent_id=None if parent is None else parent.id,
    )
    async with unit_of_work(session_maker) as session:
        session.add(category)
    return category


def product_row(category: Category, index: int, **fields: Any) -> Product:
    """Product number `index`: later ones are newer."""
    at = EPOCH + timedelta(minutes=index)
    values: dict[str, Any] = {
        "sku": f"SKU-{category.slug}-{index}",
        "slug": f"{category.slug}-product-{index}",
        "name": f"{category.name} product {index}",
        "description": f"Description {index}",
        "price": Decimal("9.90") + index,
        "currency": "EUR",
        "category_id": category.id,
        "created_at": at,
        "updated_at": at,
        **fields,
    }
    return Product(**values)


async def create_product(
    session_maker: SessionMaker, category: Category, index: int = 0, **fields: Any
) -> Product:
    (product,) = await create_products(session_maker, category, 1, start=index, **fields)
    return product


async def create_products(
    session_maker: SessionMaker, category: Category, count: int, *, start: int = 0, **fields: Any
) -> list[Product]:
    products = [product_row(category, start + n, **fields) for n in range(count)]
    async with unit_of_work(session_maker) as session:
        session.add_all(products)
    return products


async def add_favorites(
    session_maker: SessionMaker, user_id: int | None, products: list[Product]
) -> None:
    assert user_id is not None
    async with unit_of_work(session_maker) as session:
        session.add_all(Favorite(user_id=user_id, product_id=product.id) for product in products)


async def add_views(session_maker: SessionMaker, product: Product, viewers: int) -> None:
    async with unit_of_work(session_maker) as session:
        session.add_all(
            ProductView(product_id=product.id, viewer=f"client:{n}", viewed_hour=EPOCH)
            for n in range(viewers)
        )

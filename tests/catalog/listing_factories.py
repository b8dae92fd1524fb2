"""Catalog rows for the listing tests, put straight into the database (no service involved)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import text

from hom.catalog.models import Category, Product
from hom.core.unit_of_work import SessionMaker, unit_of_work

# Letters g-w but o only: a generated sku or slug never starts with a digit, a-f or "or", so
# the search tests ("100%", "a & b | !c", "' OR 1=1 --") cannot match it by chance.
_LETTERS = str.maketrans("0123456789abcdef", "ghijklmnpqrstuvw")


def _tag() -> str:
    return uuid.uuid4().hex[:10].translate(_LETTERS)


async def create_category(
    session_maker: SessionMaker, *, name: str = "Kitchen", parent_id: int | None = None
) -> Category:
    category = Category(name=name, slug=f"category-{_tag()}", parent_id=parent_id)
    async with unit_of_work(session_maker) as session:
        session.add(category)
    return category


async def create_product(
    session_maker: SessionMaker,
    *,
    category_id: int,
    name: str = "Product",
    description: str = "",
    sku: str | None = None,
    price: str | Decimal = "9.90",
    is_active: bool = True,
    created_at: datetime | None = None,
) -> Product:
    tag = _tag()
    product = Product(
        sku=sku or f"SKU-{tag}",
        slug=f"product-{tag}",
        name=name,
        description=description,
        price=Decimal(price),
        category_id=category_id,
        is_active=is_active,
    )
    if created_at is not None:
        product.created_at = created_at
    async with unit_of_work(session_maker) as session:
        session.add(product)
    return product


# Many ties on purpose: 5 creation days, 7 prices, 13 names; every 4th one mentions the
# gadget twice in its description (another rank), every 3rd is about something else.
BULK_INSERT = """
INSERT INTO product (sku, slug, name, description, price, category_id, created_at)
SELECT 'BULK-' || i, 'bulk-' || i,
       CASE WHEN i % 3 = 0 THEN 'Widget ' ELSE 'Gadget ' END || (i % 13),
       CASE WHEN i % 4 = 0 THEN 'a gadget, the best gadget' ELSE 'plain' END,
       (i % 7) + 0.99,
       (ARRAY[:first_category, :second_category]::bigint[])[i % 2 + 1],
       timestamptz '2026-01-01 00:00:00+00' + (i % 5) * interval '1 day'
FROM generate_series(1, CAST(:count AS integer)) AS i
"""


async def insert_products(
    session_maker: SessionMaker, *, count: int, category_ids: tuple[int, int]
) -> None:
    """`count` products in one INSERT … SELECT (fast: no ORM object per row)."""
    parameters = {
        "count": count,
        "first_category": category_ids[0],
        "second_category": category_ids[1],
    }
    async with unit_of_work(session_maker) as session:
        connection = await session.connection()
        await connection.execute(text(BULK_INSERT), parameters)

"""Rows for the engagement tests (favorites, collections, views): plain async factories."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlmodel import func, select

from hom.catalog.models import Category, Product
from hom.core.unit_of_work import SessionMaker, unit_of_work


async def create_category(session_maker: SessionMaker, *, name: str = "Kitchen") -> Category:
    slug = f"c-{uuid.uuid4().hex[:10]}"
    async with unit_of_work(session_maker) as session:
        category = Category(name=name, slug=slug)
        session.add(category)
        await session.flush()
    return category


async def create_product(
    session_maker: SessionMaker,
    *,
    name: str = "Электрический чайник",
    price: str = "29.90",
    active: bool = True,
    category: Category | None = None,
) -> Product:
    category = category or await create_category(session_maker)
    token = uuid.uuid4().hex[:10]
    async with unit_of_work(session_maker) as session:
        product = Product(
            sku=f"T-{token}",
            slug=f"p-{token}",
            name=name,
            price=Decimal(price),
            category_id=category.id,
            is_active=active,
        )
        session.add(product)
        await session.flush()
    return product


async def count_rows(session_maker: SessionMaker, model: type) -> int:
    async with session_maker() as session:
        return (await session.exec(select(func.count()).select_from(model))).one()


def id_of(row: Any) -> int:
    """The id of a stored row (typed: rows have `id: int | None`)."""
    assert row.id is not None
    return int(row.id)

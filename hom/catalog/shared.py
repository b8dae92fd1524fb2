"""What favorites, collections and views share: the products customers may act on
(those that exist and are not archived), and pages of products sorted by another table."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.catalog.models import Product
from hom.core.errors import DomainError, ErrorCode
from hom.core.pagination import Page, PageRequest, make_page


async def require_active_product(session: AsyncSession, *, product_id: int) -> Product:
    """The product, else NOT_FOUND on `product_id` (an archived one does not exist here)."""
    statement = select(Product).where(col(Product.id) == product_id, col(Product.is_active))
    product = (await session.exec(statement)).first()
    if product is None:
        raise DomainError(ErrorCode.NOT_FOUND, "No such product", "product_id")
    return product


def product_page(page: Page[Any]) -> Page[Product]:
    """A page of (product, sort value, …) rows as a page of products, cursors kept."""
    return Page(
        rows=[row[0] for row in page.rows],
        cursors=page.cursors,
        has_next_page=page.has_next_page,
        has_previous_page=page.has_previous_page,
    )


def empty_page(request: PageRequest) -> Page[Product]:
    return make_page([], request, lambda row: None)

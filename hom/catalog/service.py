"""Catalog rules: the category tree and products, edited by operators and admins (audited).
The loaders' batch reads live in `hom.catalog.reads`.

Plain async functions over a session; they never commit (the caller's
transaction does) and never import strawberry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from decimal import Decimal
from enum import Enum
from typing import Any, Literal

from sqlalchemy import exists, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.audit import service as audit
from hom.catalog.models import SLUG_PATTERN, Category

# The product table, which other domains' SQL joins (stock levels, movements, counts).
from hom.catalog.models import Product as Product
from hom.core.clock import utcnow
from hom.core.db import save_unique, violated_constraint
from hom.core.errors import DomainError, ErrorCode
from hom.core.viewer import Viewer

# The skus `hom seed-demo` gives its products (the demo stock finds them by it).
DEMO_SKU_PREFIX = "DEMO-"
# The emails of its customers, numbered from 1 (the demo orders find them by it).
DEMO_CUSTOMER_EMAIL = "customer{number}@demo.example.com"
SLUG = re.compile(SLUG_PATTERN)
CURRENCY = re.compile(r"[A-Z]{3}")
CENT = Decimal("0.01")
MAX_PRICE = Decimal(10) ** 10  # NUMERIC(12,2)
MAX_DESCRIPTION = 10_000
# One lock for every re-parenting, so two concurrent moves cannot close a cycle together.
TREE_LOCK = 7_000_001
# Which unique index a refused INSERT/UPDATE broke, and the input field it is about.
UNIQUE_FIELDS = {
    "uq_category_slug": "slug",
    "uq_product_slug": "slug",
    "uq_product_sku_lower": "sku",
}
RESTRICTING = {"fk_product_category_id_category", "fk_category_parent_id_category"}


class Unchanged(Enum):
    """An update field the caller did not give (where null means something: no parent)."""

    UNCHANGED = "UNCHANGED"


UNCHANGED = Unchanged.UNCHANGED
KeepOr = int | None | Literal[Unchanged.UNCHANGED]


# --- checks --------------------------------------------------------------------------------


def check_text(value: str, *, field: str, label: str, longest: int) -> str:
    """Trimmed, 1 to `longest` characters."""
    trimmed = value.strip()
    if not trimmed or len(trimmed) > longest:
        raise DomainError(ErrorCode.INVALID, f"{label} must be 1-{longest} characters", field)
    return trimmed


def check_slug(slug: str, *, longest: int) -> str:
    if len(slug) > longest or not SLUG.fullmatch(slug):
        raise DomainError(
            ErrorCode.INVALID,
            f"A slug is lower-case letters and digits in words joined by '-', at most {longest}",
            "slug",
        )
    return slug


def check_price(price: Decimal) -> Decimal:
    """Not negative, at most two decimals, below 10^10; stored with exactly two."""
    if not price.is_finite() or price < 0 or price >= MAX_PRICE or price != price.quantize(CENT):
        raise DomainError(
            ErrorCode.INVALID,
            "Price must be at least 0 and below 10000000000, with at most two decimals",
            "price",
        )
    return price.quantize(CENT)


def check_currency(currency: str) -> str:
    if not CURRENCY.fullmatch(currency):
        raise DomainError(ErrorCode.INVALID, "Currency is three capital letters (EUR)", "currency")
    return currency


def check_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION:
        raise DomainError(
            ErrorCode.INVALID,
            f"Description must be at most {MAX_DESCRIPTION} characters",
            "description",
        )
    return description


# --- saving and auditing -------------------------------------------------------------------


async def _save(session: AsyncSession, row: Category | Product) -> None:
    await save_unique(session, row, UNIQUE_FIELDS)


async def _audit(
    session: AsyncSession,
    *,
    actor: Viewer,
    action: str,
    row: Category | Product,
    changes: dict[str, Any],
) -> None:
    assert row.id is not None
    entity = type(row).__name__
    await audit.record(
        session, actor=actor, action=action, entity=entity, entity_id=row.id, changes=changes
    )


def _category_audited(category: Category) -> dict[str, Any]:
    return {"name": category.name, "slug": category.slug, "parent_id": category.parent_id}


def _product_audited(product: Product) -> dict[str, Any]:
    return {
        "sku": product.sku,
        "slug": product.slug,
        "name": product.name,
        "description": product.description,
        "price": str(product.price),
        "currency": product.currency,
        "category_id": product.category_id,
        "is_active": product.is_active,
    }


# --- categories ----------------------------------------------------------------------------


async def get_category(session: AsyncSession, *, category_id: int) -> Category | None:
    return await session.get(Category, category_id)


async def get_category_by_slug(session: AsyncSession, *, slug: str) -> Category | None:
    return (await session.exec(select(Category).where(col(Category.slug) == slug))).one_or_none()


async def require_category(
    session: AsyncSession, *, category_id: int, field: str = "id"
) -> Category:
    category = await get_category(session, category_id=category_id)
    if category is None:
        raise DomainError(ErrorCode.NOT_FOUND, "No such category", field)
    return category


def root_categories_query() -> Any:
    """The top of the tree, by name."""
    return (
        select(Category)
        .where(col(Category.parent_id).is_(None))
        .order_by(col(Category.name), col(Category.id))
    )


async def root_categories(session: AsyncSession) -> list[Category]:
    return list((await session.exec(root_categories_query())).all())


@dataclass(frozen=True, kw_only=True)
class NewCategory:
    name: str
    slug: str
    parent_id: int | None = None


async def create_category(session: AsyncSession, *, new: NewCategory, actor: Viewer) -> Category:
    name = check_text(new.name, field="name", label="Name", longest=120)
    slug = check_slug(new.slug, longest=120)
    if new.parent_id is not None:
        await require_category(session, category_id=new.parent_id, field="parent_id")
    category = Category(name=name, slug=slug, parent_id=new.parent_id)
    await _save(session, category)
    changes = _category_audited(category)
    await _audit(session, actor=actor, action="category.create", row=category, changes=changes)
    return category


@dataclass(frozen=True, kw_only=True)
class CategoryChanges:
    category_id: int
    name: str | None = None
    slug: str | None = None
    parent_id: KeepOr = UNCHANGED  # None: make it a root


async def update_category(
    session: AsyncSession, *, changes: CategoryChanges, actor: Viewer
) -> Category:
    category = await require_category(session, category_id=changes.category_id)
    before = _category_audited(category)
    if changes.name is not None:
        category.name = check_text(changes.name, field="name", label="Name", longest=120)
    if changes.slug is not None:
        category.slug = check_slug(changes.slug, longest=120)
    if changes.parent_id is not UNCHANGED and changes.parent_id != category.parent_id:
        await _check_move(session, category_id=changes.category_id, parent_id=changes.parent_id)
        category.parent_id = changes.parent_id
    category.updated_at = utcnow()
    await _save(session, category)
    diff = audit.diff(before, _category_audited(category))
    await _audit(session, actor=actor, action="category.update", row=category, changes=diff)
    return category


async def _check_move(session: AsyncSession, *, category_id: int, parent_id: int | None) -> None:
    """The new parent exists and is not the category or one of its descendants."""
    if parent_id is None:
        return
    await session.exec(select(func.pg_advisory_xact_lock(TREE_LOCK)))
    await require_category(session, category_id=parent_id, field="parent_id")
    if category_id in await ancestor_ids(session, category_id=parent_id):
        raise DomainError(
            ErrorCode.INVALID, "A category cannot move under itself or its own subtree", "parent_id"
        )


async def ancestor_ids(session: AsyncSession, *, category_id: int) -> set[int]:
    """The category and every category above it."""
    tree = (
        select(col(Category.id), col(Category.parent_id))
        .where(col(Category.id) == category_id)
        .cte("ancestors", recursive=True)
    )
    parent = select(col(Category.id), col(Category.parent_id)).join(
        tree, col(Category.id) == tree.c.parent_id
    )
    tree = tree.union(parent)
    return set((await session.exec(select(tree.c.id))).all())


async def delete_category(session: AsyncSession, *, category_id: int, actor: Viewer) -> int:
    """Delete an empty category (no products, archived ones included, and no children)."""
    category = await require_category(session, category_id=category_id)
    if await _has_dependents(session, category_id=category_id):
        raise _not_empty()
    before = _category_audited(category)
    try:
        async with session.begin_nested():
            await session.delete(category)
            await session.flush()
    except IntegrityError as error:  # a product or child added meanwhile
        if violated_constraint(error) in RESTRICTING:
            raise _not_empty() from None
        raise
    await _audit(session, actor=actor, action="category.delete", row=category, changes=before)
    return category_id


def _not_empty() -> DomainError:
    return DomainError(
        ErrorCode.INVALID, "Only a category without products or subcategories can be deleted", "id"
    )


async def _has_dependents(session: AsyncSession, *, category_id: int) -> bool:
    products = exists().where(col(Product.category_id) == category_id)
    children = exists().where(col(Category.parent_id) == category_id)
    return bool((await session.exec(select(products | children))).one())


# --- products ------------------------------------------------------------------------------


async def get_product(session: AsyncSession, *, product_id: int) -> Product | None:
    return await session.get(Product, product_id)


async def get_product_by_slug(session: AsyncSession, *, slug: str) -> Product | None:
    return (await session.exec(select(Product).where(col(Product.slug) == slug))).one_or_none()


async def require_product(session: AsyncSession, *, product_id: int, field: str = "id") -> Product:
    product = await get_product(session, product_id=product_id)
    if product is None:
        raise DomainError(ErrorCode.NOT_FOUND, "No such product", field)
    return product


@dataclass(frozen=True, kw_only=True)
class NewProduct:
    sku: str
    slug: str
    name: str
    price: Decimal
    category_id: int
    description: str = ""
    currency: str = "EUR"
    is_active: bool = True


async def create_product(session: AsyncSession, *, new: NewProduct, actor: Viewer) -> Product:
    product = Product(
        sku=check_text(new.sku, field="sku", label="SKU", longest=64),
        slug=check_slug(new.slug, longest=160),
        name=check_text(new.name, field="name", label="Name", longest=200),
        description=check_description(new.description),
        price=check_price(new.price),
        currency=check_currency(new.currency),
        category_id=new.category_id,
        is_active=new.is_active,
    )
    await require_category(session, category_id=new.category_id, field="category_id")
    await _save(session, product)
    changes = _product_audited(product)
    await _audit(session, actor=actor, action="product.create", row=product, changes=changes)
    return product


@dataclass(frozen=True, kw_only=True)
class ProductChanges:
    """None: unchanged."""

    product_id: int
    sku: str | None = None
    slug: str | None = None
    name: str | None = None
    description: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    category_id: int | None = None
    is_active: bool | None = None


def _checked(changes: ProductChanges) -> dict[str, Any]:
    """The given fields, each checked."""
    checks: dict[str, Any] = {
        "sku": lambda v: check_text(v, field="sku", label="SKU", longest=64),
        "slug": lambda v: check_slug(v, longest=160),
        "name": lambda v: check_text(v, field="name", label="Name", longest=200),
        "description": check_description,
        "price": check_price,
        "currency": check_currency,
    }
    given = {
        f.name: getattr(changes, f.name)
        for f in fields(changes)
        if f.name != "product_id" and getattr(changes, f.name) is not None
    }
    return {name: checks.get(name, lambda v: v)(value) for name, value in given.items()}


async def update_product(
    session: AsyncSession, *, changes: ProductChanges, actor: Viewer
) -> Product:
    checked = _checked(changes)
    product = await require_product(session, product_id=changes.product_id)
    if "category_id" in checked:
        await require_category(session, category_id=checked["category_id"], field="category_id")
    return await _change_product(
        session, product=product, values=checked, actor=actor, action="product.update"
    )


async def archive_product(session: AsyncSession, *, product_id: int, actor: Viewer) -> Product:
    """Hide a product from shoppers (idempotent); operators and admins still see it."""
    product = await require_product(session, product_id=product_id)
    return await _change_product(
        session, product=product, values={"is_active": False}, actor=actor, action="product.archive"
    )


async def _change_product(
    session: AsyncSession, *, product: Product, values: dict[str, Any], actor: Viewer, action: str
) -> Product:
    before = _product_audited(product)
    for name, value in values.items():
        setattr(product, name, value)
    if audit.diff(before, _product_audited(product)):
        product.updated_at = utcnow()
        await _save(session, product)
    await _audit(
        session,
        actor=actor,
        action=action,
        row=product,
        changes=audit.diff(before, _product_audited(product)),
    )
    return product

"""`hom seed-demo`: a realistic demo catalog, the same on every machine and every run.

A two-level category tree, products with Latin and Cyrillic names and
descriptions (deterministic: product N is the same whatever the count asked
for), a few verified demo customers with favorites and product views.
Idempotent through natural keys: category slugs, skus DEMO-000001…, customer
emails; whatever exists is left as it is. Products go in by COPY, the rest by
batched multi-row INSERT … ON CONFLICT DO NOTHING. Plain functions, no click.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, literal_column
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.accounts import admin as accounts_admin
from hom.accounts import service as accounts
from hom.catalog.demo_words import (
    ADJECTIVES,
    CUSTOMER_NAMES,
    FEATURES_EN,
    FEATURES_RU,
    SERIES,
    TREE,
    USES_EN,
    USES_RU,
    M,
)
from hom.catalog.models import Category, Favorite, Product, ProductView
from hom.catalog.service import DEMO_CUSTOMER_EMAIL, DEMO_SKU_PREFIX
from hom.core.demo import DemoRun, SeedReport
from hom.core.roles import Role

SEED = 20_260_314
SKU_PREFIX = DEMO_SKU_PREFIX
BATCH = 1_000
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)  # demo products appear from here on, one per 17 min
CUSTOMERS = 8
CUSTOMER_PASSWORD = "hom-demo-password"  # noqa: S105 - a published demo password
FAVORITES_PER_CUSTOMER = 25
PRODUCT_COLUMNS = (
    "sku",
    "slug",
    "name",
    "description",
    "price",
    "currency",
    "category_id",
    "is_active",
    "created_at",
    "updated_at",
)


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    slug: str
    name: str
    description: str
    price: Decimal
    category_slug: str
    is_active: bool
    created_at: datetime


def demo_sku(number: int) -> str:
    return f"{SKU_PREFIX}{number:06d}"


def categories() -> Iterator[tuple[str, str, str | None]]:
    """(name, slug, parent slug) for every category, roots first."""
    for name, slug, _ in TREE:
        yield name, slug, None
    for _, root_slug, children in TREE:
        for name, slug, _ in children:
            yield name, slug, root_slug


def _nouns() -> list[tuple[str, tuple[str, str, int]]]:
    return [
        (slug, noun) for _, _, children in TREE for _, slug, nouns in children for noun in nouns
    ]


NOUNS = _nouns()


def demo_product(number: int) -> DemoProduct:
    """Product `number` (from 1): always the same, whatever the count asked for."""
    rng = random.Random(SEED * 1_000_003 + number)  # noqa: S311 - demo data, not secrets
    category_slug, (noun_en, noun_ru, gender) = rng.choice(NOUNS)
    adjective_en, adjective_ru = rng.choice(ADJECTIVES)
    if number == 1:  # the one every search example looks for
        category_slug, (noun_en, noun_ru, gender) = "small-appliances", ("kettle", "чайник", M)
        adjective_en, adjective_ru = ADJECTIVES[0]
    series = "" if number == 1 else rng.choice(SERIES)
    russian = number == 1 or rng.random() < 0.6
    if russian:
        name = f"{adjective_ru[gender]} {noun_ru}"
        use, feature = rng.choice(USES_RU), rng.choice(FEATURES_RU)
        description = f"{name} {use}. {feature} Артикул {demo_sku(number)}."
    else:
        name = f"{adjective_en} {noun_en}"
        use, feature = rng.choice(USES_EN), rng.choice(FEATURES_EN)
        description = f"{name} {use}. {feature}"
    if series:
        name = f"{name} {series}"
    words = f"{adjective_en} {noun_en} {series}".lower().replace("-", " ").split()
    return DemoProduct(
        sku=demo_sku(number),
        slug="-".join([*words, f"{number:06d}"]),
        name=name,
        description=description,
        price=Decimal(rng.randint(199, 49_999)) / 100,
        category_slug=category_slug,
        is_active=number == 1 or rng.random() >= 0.05,  # about one in twenty archived
        created_at=EPOCH + timedelta(minutes=17 * number),
    )


def customer_email(number: int) -> str:
    return DEMO_CUSTOMER_EMAIL.format(number=number)


async def seed_demo(
    session: AsyncSession,
    *,
    products: int,
    progress: Callable[[int], object] | None = None,
    report: SeedReport | None = None,
) -> SeedReport:
    """Put the demo catalog in; `progress(n)` hears of every n products handled."""
    report = report or SeedReport()
    category_ids = await _seed_categories(session, report=report)
    product_ids = await _seed_products(
        session, count=products, category_ids=category_ids, report=report, progress=progress
    )
    customer_ids = await _seed_customers(session, report=report)
    await _seed_favorites(session, customer_ids, product_ids, report=report)
    await _seed_views(session, customer_ids, product_ids, report=report)
    return report


async def seed(session: AsyncSession, *, run: DemoRun) -> None:
    """The catalog's part of `hom seed-demo` (its declared `demo`)."""
    await seed_demo(session, products=run.products, progress=run.progress, report=run.report)


async def _seed_categories(session: AsyncSession, *, report: SeedReport) -> dict[str, int]:
    ids: dict[str, int] = {}
    for level in (None, "child"):
        rows = [
            {"name": name, "slug": slug, "parent_id": ids.get(parent) if parent else None}
            for name, slug, parent in categories()
            if (parent is None) == (level is None)
        ]
        created = await _insert_new(session, Category, rows, ["slug"])
        report.count("categories").add(wanted=len(rows), created=created)
        slugs = [row["slug"] for row in rows]
        found = await session.exec(
            select(col(Category.slug), col(Category.id)).where(col(Category.slug).in_(slugs))
        )
        ids.update({slug: category_id for slug, category_id in found.all() if category_id})
    return ids


async def _insert_new(
    session: AsyncSession, model: type[Any], rows: Sequence[dict[str, Any]], keys: list[str]
) -> int:
    """INSERT … ON CONFLICT DO NOTHING in batches; the number of rows actually inserted."""
    created = 0
    for start in range(0, len(rows), BATCH):
        statement: Any = (
            insert(model)
            .values(list(rows[start : start + BATCH]))
            .on_conflict_do_nothing(index_elements=keys)
            .returning(literal_column("1"))
        )
        created += len((await session.exec(statement)).all())
    return created


async def _seed_products(
    session: AsyncSession,
    *,
    count: int,
    category_ids: dict[str, int],
    report: SeedReport,
    progress: Callable[[int], object] | None,
) -> list[tuple[int, bool]]:
    """COPY the demo products that are missing; (id, is_active) of all of them, sku order."""
    existing = await _demo_skus(session)
    connection = await _asyncpg_connection(session)
    created = 0
    for start in range(1, count + 1, BATCH):
        numbers = range(start, min(start + BATCH, count + 1))
        records = [
            _record(demo_product(n), category_ids) for n in numbers if demo_sku(n) not in existing
        ]
        if records:
            await connection.copy_records_to_table(
                Product.__tablename__, records=records, columns=PRODUCT_COLUMNS
            )
        created += len(records)
        if progress is not None:
            progress(len(numbers))
    report.count("products").add(wanted=count, created=created)
    statement = (
        select(col(Product.id), col(Product.is_active))
        .where(col(Product.sku).in_([demo_sku(n) for n in range(1, count + 1)]))
        .order_by(col(Product.sku))
    )
    return [(product_id or 0, active) for product_id, active in (await session.exec(statement))]


async def _demo_skus(session: AsyncSession) -> set[str]:
    statement = select(col(Product.sku)).where(col(Product.sku).startswith(SKU_PREFIX))
    return set((await session.exec(statement)).all())


async def _asyncpg_connection(session: AsyncSession) -> Any:
    """The driver's own connection under the session's transaction (for COPY)."""
    raw = await (await session.connection()).get_raw_connection()
    return raw.driver_connection


def _record(product: DemoProduct, category_ids: dict[str, int]) -> tuple[Any, ...]:
    return (
        product.sku,
        product.slug,
        product.name,
        product.description,
        product.price,
        "EUR",
        category_ids[product.category_slug],
        product.is_active,
        product.created_at,
        product.created_at,
    )


async def _seed_customers(session: AsyncSession, *, report: SeedReport) -> list[int]:
    """Verified demo customers (password CUSTOMER_PASSWORD), made through the accounts rules."""
    ids = []
    for number, full_name in enumerate(CUSTOMER_NAMES, start=1):
        user = await accounts.find_by_email(session, email=customer_email(number))
        if user is None:
            new = accounts_admin.NewUser(
                email=customer_email(number),
                password=CUSTOMER_PASSWORD,
                full_name=full_name,
                role=Role.CUSTOMER,
                email_verified=True,
            )
            user = await accounts_admin.create_user(session, new=new)
            report.count("customers").add(wanted=1, created=1)
        else:
            report.count("customers").add(wanted=1, created=0)
        assert user.id is not None
        ids.append(user.id)
    return ids


def _active(product_ids: list[tuple[int, bool]]) -> list[int]:
    return [product_id for product_id, active in product_ids if active]


async def _seed_favorites(
    session: AsyncSession,
    customer_ids: list[int],
    product_ids: list[tuple[int, bool]],
    *,
    report: SeedReport,
) -> None:
    active = _active(product_ids)
    rng = random.Random(SEED + 1)  # noqa: S311 - demo data
    rows = []
    for number, user_id in enumerate(customer_ids):
        chosen = rng.sample(active, min(len(active), FAVORITES_PER_CUSTOMER))
        at = EPOCH + timedelta(days=400 + number)
        rows += [
            {"user_id": user_id, "product_id": p, "created_at": at + timedelta(minutes=i)}
            for i, p in enumerate(chosen)
        ]
    created = await _insert_new(session, Favorite, rows, ["user_id", "product_id"])
    report.count("favorites").add(wanted=len(rows), created=created)


async def _seed_views(
    session: AsyncSession,
    customer_ids: list[int],
    product_ids: list[tuple[int, bool]],
    *,
    report: SeedReport,
) -> None:
    """About one view for every other product: by the customers and by anonymous clients."""
    active = _active(product_ids)
    rng = random.Random(SEED + 2)  # noqa: S311 - demo data
    rows: dict[tuple[int, str, datetime], dict[str, Any]] = {}
    for _ in range(len(active) // 2):
        user_id = rng.choice([*customer_ids, None, None])
        viewer = f"user:{user_id}" if user_id else f"client:demo-{rng.randrange(500):03d}"
        at = EPOCH + timedelta(days=400, minutes=rng.randrange(60 * 24 * 30))
        hour = at.replace(minute=0, second=0, microsecond=0)
        product_id = rng.choice(active)
        rows[(product_id, viewer, hour)] = {
            "product_id": product_id,
            "user_id": user_id,
            "viewer": viewer,
            "viewed_hour": hour,
            "viewed_at": at,
        }
    keys = ["product_id", "viewer", "viewed_hour"]
    created = await _insert_new(session, ProductView, list(rows.values()), keys)
    report.count("views").add(wanted=len(rows), created=created)


async def demo_counts(session: AsyncSession) -> dict[str, int]:
    """Rows per catalog table (what a second run must leave unchanged)."""
    counts = {}
    for model in (Category, Product, Favorite, ProductView):
        statement = select(func.count()).select_from(model)
        counts[model.__tablename__] = (await session.exec(statement)).one()
    return counts

"""`hom seed-demo`: a demo catalog in one run, nothing more on the second."""

from __future__ import annotations

import asyncio
import re
import subprocess
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func
from sqlmodel import col, select

from hom.bookings import demo as bookings_demo
from hom.catalog import demo
from hom.catalog.models import SLUG_PATTERN, Category, Product
from hom.core.db import sessions_once
from hom.orders import demo as orders_demo
from tests.conftest import TEST_SECRET
from tests.serving import HOM, hom_env


def run_seed(products: int, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HOM), "seed-demo", "--products", str(products)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def table_counts(db_url: str) -> dict[str, int]:
    async with sessions_once(db_url) as maker, maker() as session:
        return await demo.demo_counts(session)


def test_demo_products_are_deterministic_and_valid() -> None:
    first = demo.demo_product(1)
    assert first.name == "Электрический чайник"
    assert first.is_active
    products = [demo.demo_product(n) for n in range(1, 2001)]
    assert products == [demo.demo_product(n) for n in range(1, 2001)]
    assert len({p.slug for p in products}) == len(products)
    assert all(re.fullmatch(SLUG_PATTERN, p.slug) for p in products)
    assert all(p.price == p.price.quantize(Decimal("0.01")) for p in products)
    assert any(re.search("[\u0430-\u044f]", p.name) for p in products)
    assert any(re.fullmatch("[A-Za-z0-9 ]+", p.name) for p in products)
    assert 0 < sum(not p.is_active for p in products) < len(products) // 10
    slugs = [slug for _, slug, _ in demo.categories()]
    assert len(slugs) == len(set(slugs))
    assert all(re.fullmatch(SLUG_PATTERN, slug) for slug in slugs)


async def test_seed_demo_twice_creates_nothing_the_second_time(
    db_url: str, redis_url: str, tmp_path: Path
) -> None:
    env = hom_env(
        APP_ENV="dev",
        DB_URL=db_url,
        REDIS_URL=redis_url,
        JWT_SECRET=TEST_SECRET,
        LOG_LEVEL="WARNING",
    )
    first = await asyncio.to_thread(run_seed, 500, env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "products 500 created / 0 existing" in first.stdout
    assert "warehouses 2 created / 0 existing, stock levels" in first.stdout
    assert f"orders {len(orders_demo.PLAN)} created / 0 existing" in first.stdout
    assert f"services {len(bookings_demo.SERVICES)} created / 0 existing" in first.stdout
    appointments = len(bookings_demo.APPOINTMENTS)
    assert f"appointments {appointments} created / 0 existing" in first.stdout
    assert "%|" not in first.stderr, "no progress bar when stderr is not a terminal"
    counts = await table_counts(db_url)
    assert counts["product"] == 500
    assert counts["favorite"] > 0
    assert counts["product_view"] > 0

    second = await asyncio.to_thread(run_seed, 500, env, tmp_path)
    assert second.returncode == 0, second.stderr
    created = re.findall(r"(\w+) (\d+) created", second.stdout)
    assert created, second.stdout
    assert all(number == "0" for _, number in created), second.stdout
    assert await table_counts(db_url) == counts

    async with sessions_once(db_url) as maker, maker() as session:
        roots = (
            await session.exec(select(func.count()).where(col(Category.parent_id).is_(None)))
        ).one()
        kettle = (
            await session.exec(select(Product).where(col(Product.sku) == "DEMO-000001"))
        ).one()
    assert roots == 6
    assert kettle.name == "Электрический чайник"

"""The demo's stock: two warehouses, every active demo product stocked in both, idempotent."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from hom.catalog import demo
from hom.core.db import sessions_once
from hom.core.unit_of_work import SessionMaker, unit_of_work
from hom.inventory.demo import REASON, WAREHOUSES, seed_inventory
from hom.inventory.reconcile import level_differences

PRODUCTS = 300
# Per demo warehouse: levels, empty ones, low ones (1 to 4), the stock it holds.
LEVELS_BY_WAREHOUSE = """
SELECT w.code, count(*), count(*) FILTER (WHERE l.on_hand = 0),
       count(*) FILTER (WHERE l.on_hand BETWEEN 1 AND 4), sum(l.on_hand)
FROM stock_level l JOIN warehouse w ON w.id = l.warehouse_id GROUP BY w.code ORDER BY w.code
"""
OUT_OF_STOCK_EVERYWHERE = """
SELECT count(*) FROM (SELECT product_id FROM stock_level GROUP BY product_id
                      HAVING max(on_hand) = 0) AS empty
"""
RECEIPTS = "SELECT count(*), count(DISTINCT (product_id, warehouse_id)) FROM stock_movement"
ODD_RECEIPTS = """
SELECT count(*) FROM stock_movement
WHERE kind <> 'RECEIPT' OR actor_id IS NOT NULL OR reason IS DISTINCT FROM :reason
"""


async def seed(maker: SessionMaker) -> demo.SeedReport:
    async with unit_of_work(maker) as session:
        report = await demo.seed_demo(session, products=PRODUCTS)
        await seed_inventory(session, report=report)
    return report


async def rows_of(maker: SessionMaker, sql: str, **params: object) -> list[tuple[object, ...]]:
    async with maker() as session:
        result = await session.exec(text(sql).bindparams(**params))  # type: ignore[call-overload]
        return [tuple(row) for row in result]


@pytest.fixture
async def maker(db_url: str) -> AsyncIterator[SessionMaker]:
    async with sessions_once(db_url) as session_maker:
        yield session_maker


async def active_demo_products(maker: SessionMaker) -> int:
    sql = "SELECT count(*) FROM product WHERE is_active AND sku LIKE 'DEMO-%'"
    ((count,),) = await rows_of(maker, sql)
    assert isinstance(count, int)
    return count


async def test_every_active_demo_product_is_stocked_in_both_warehouses(
    maker: SessionMaker,
) -> None:
    report = await seed(maker)
    active = await active_demo_products(maker)
    assert 0 < active < PRODUCTS, "some demo products are archived: they get no stock"
    assert report.counts["warehouses"].created == len(WAREHOUSES)
    assert report.counts["stock levels"].created == 2 * active
    rows = await rows_of(maker, LEVELS_BY_WAREHOUSE)
    assert [row[:2] for row in rows] == [("EAST", active), ("MAIN", active)]
    for _, _, empty, low, _ in rows:
        assert 0 < empty < active // 3, "some out of stock in each warehouse, not most"
        assert 0 < low < active // 3, "a few below the low-stock threshold"
    ((everywhere,),) = await rows_of(maker, OUT_OF_STOCK_EVERYWHERE)
    assert isinstance(everywhere, int)
    assert everywhere > 0, "some products are out of stock in both warehouses"


async def test_the_seeded_stock_equals_its_ledger(maker: SessionMaker) -> None:
    report = await seed(maker)
    async with maker() as session:
        assert await level_differences(session) == []
    ((receipts, levels_with_receipts),) = await rows_of(maker, RECEIPTS)
    assert receipts == levels_with_receipts == report.counts["receipts"].created
    assert await rows_of(maker, ODD_RECEIPTS, reason=REASON) == [(0,)]


async def test_seeding_twice_adds_nothing(maker: SessionMaker) -> None:
    first = await seed(maker)
    levels = await rows_of(maker, LEVELS_BY_WAREHOUSE)
    receipts = await rows_of(maker, RECEIPTS)

    second = await seed(maker)
    for kind in ("warehouses", "stock levels", "receipts"):
        assert second.counts[kind].created == 0
        assert second.counts[kind].existing == first.counts[kind].created
    assert await rows_of(maker, LEVELS_BY_WAREHOUSE) == levels
    assert await rows_of(maker, RECEIPTS) == receipts


async def test_the_quantities_are_the_same_on_every_machine(maker: SessionMaker) -> None:
    """Fixed by sku and warehouse: DEMO-000001 (the kettle) is out of stock in MAIN only."""
    await seed(maker)
    sql = (
        "SELECT w.code, l.on_hand FROM stock_level l JOIN warehouse w ON w.id = l.warehouse_id "
        "JOIN product p ON p.id = l.product_id WHERE p.sku = 'DEMO-000001' ORDER BY w.code"
    )
    assert await rows_of(maker, sql) == [("EAST", 87), ("MAIN", 0)]

"""`hom seed-demo`'s stock: two warehouses, and a level for every active demo product in each.

Quantities are pseudo-random but fixed by the product's sku and the warehouse (an md5
of both): about one level in seven is out of stock (0), about one in twelve is low (1 to
4, below the default low-stock threshold of 5), the rest hold 5 to 100. A level with
stock has exactly one movement, its RECEIPT (no actor: the system; reason "Demo
stock"), so every level equals its ledger. Set-based: one statement inserts the missing
levels and their receipts (20 000 products: about a second). Idempotent: a
level that exists, whatever it holds now, is left alone. Plain functions, no click.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, literal_column, text
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.types import String
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.catalog import service as catalog
from hom.core.demo import DemoRun, SeedReport
from hom.inventory.models import MovementKind, Warehouse

# (code, name) of the demo's warehouses.
WAREHOUSES = (("MAIN", "Main warehouse"), ("EAST", "East depot"))
REASON = "Demo stock"

# Percent rolls: below OUT_OF_STOCK none, below LOW_STOCK 1 to 4, else 5 to 100.
OUT_OF_STOCK = 15
LOW_STOCK = 23

# One statement: which (demo product, demo warehouse) pairs lack a level, the levels put in
# for them, and each level's receipt (none for an empty level: a movement is never 0).
SEED_STOCK = text(
    """
WITH pair AS (
    SELECT p.id AS product_id, w.id AS warehouse_id,
           ('x' || substr(md5(p.sku || '@' || w.code), 1, 8))::bit(32)::bigint AS draw,
           EXISTS (SELECT FROM stock_level l
                   WHERE l.product_id = p.id AND l.warehouse_id = w.id) AS stocked
    FROM product p CROSS JOIN warehouse w
    WHERE p.sku LIKE :prefix || '%' AND p.is_active AND w.code = ANY(:codes)
), wanted AS (
    SELECT product_id, warehouse_id, stocked,
           CASE WHEN draw % 100 < :out_of_stock THEN 0
                WHEN draw % 100 < :low_stock THEN 1 + (draw / 100) % 4
                ELSE 5 + (draw / 100) % 96 END AS quantity
    FROM pair
), level AS (
    INSERT INTO stock_level (product_id, warehouse_id, on_hand, reserved)
    SELECT product_id, warehouse_id, quantity, 0 FROM wanted WHERE NOT stocked
    ON CONFLICT (product_id, warehouse_id) DO NOTHING
    RETURNING product_id, warehouse_id, on_hand
), receipt AS (
    INSERT INTO stock_movement (product_id, warehouse_id, kind, quantity, reason)
    SELECT product_id, warehouse_id, :kind, on_hand, :reason FROM level WHERE on_hand > 0
    RETURNING 1
)
SELECT (SELECT count(*) FROM wanted) AS levels_wanted,
       (SELECT count(*) FROM level) AS levels_created,
       (SELECT count(*) FROM wanted WHERE quantity > 0) AS receipts_wanted,
       (SELECT count(*) FROM receipt) AS receipts_created
"""
).bindparams(bindparam("codes", type_=ARRAY(String)))


async def seed(session: AsyncSession, *, run: DemoRun) -> None:
    """The inventory's part of `hom seed-demo` (its declared `demo`): after the catalog's."""
    await seed_inventory(session, report=run.report)


async def seed_inventory(session: AsyncSession, *, report: SeedReport) -> None:
    """The demo warehouses, then a level (and its receipt) for each missing demo pair."""
    await _seed_warehouses(session, report)
    await _seed_stock(session, report)


async def _seed_warehouses(session: AsyncSession, report: SeedReport) -> None:
    rows = [{"code": code, "name": name} for code, name in WAREHOUSES]
    statement: Any = (
        insert(Warehouse)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["code"])
        .returning(literal_column("1"))
    )
    created = len((await session.exec(statement)).all())
    report.count("warehouses").add(wanted=len(rows), created=created)


async def _seed_stock(session: AsyncSession, report: SeedReport) -> None:
    statement: Any = SEED_STOCK.bindparams(
        prefix=catalog.DEMO_SKU_PREFIX,
        codes=[code for code, _ in WAREHOUSES],
        out_of_stock=OUT_OF_STOCK,
        low_stock=LOW_STOCK,
        kind=MovementKind.RECEIPT.value,
        reason=REASON,
    )
    counts = (await session.exec(statement)).one()
    report.count("stock levels").add(wanted=counts.levels_wanted, created=counts.levels_created)
    report.count("receipts").add(wanted=counts.receipts_wanted, created=counts.receipts_created)

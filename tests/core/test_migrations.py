"""Alembic: the chain round-trips on a fresh database, and the models match the migrations."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

import hom.models  # noqa: F401  (registers every table on SQLModel.metadata)
from hom.core import migrations
from hom.core.db import connect_once

LEFTOVERS = """
SELECT 'table ' || tablename FROM pg_tables WHERE schemaname = 'public'
UNION ALL SELECT 'view ' || viewname FROM pg_views WHERE schemaname = 'public'
UNION ALL SELECT 'sequence ' || sequencename FROM pg_sequences WHERE schemaname = 'public'
UNION ALL SELECT 'type ' || t.typname FROM pg_type t
    JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'r', 'm')
UNION ALL SELECT 'function ' || p.proname FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
"""


async def fetch(db_url: str, sql: str) -> list[Any]:
    async with connect_once(db_url) as connection:
        return list((await connection.execute(text(sql))).scalars())


async def versions(db_url: str) -> set[str]:
    return set(await fetch(db_url, "SELECT version_num FROM alembic_version"))


def diff_against(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "compare_server_default": True,
            "include_object": migrations.include_object,
        },
    )
    return list(compare_metadata(context, SQLModel.metadata))


async def schema_diff(db_url: str) -> list[Any]:
    """What autogenerate would put in a new revision: empty when models and migrations agree."""
    async with connect_once(db_url) as connection:
        return await connection.run_sync(diff_against)


async def test_upgrade_downgrade_upgrade_round_trips(fresh_db_url: str) -> None:
    heads = migrations.head_revisions()
    assert len(heads) == 1, f"the migration chain must have one head, has {heads}"

    await asyncio.to_thread(migrations.upgrade, fresh_db_url)
    assert await versions(fresh_db_url) == heads

    await asyncio.to_thread(migrations.downgrade, fresh_db_url, "base")
    assert await versions(fresh_db_url) == set()
    assert await fetch(fresh_db_url, LEFTOVERS) == ["table alembic_version"]

    await asyncio.to_thread(migrations.upgrade, fresh_db_url)
    assert await versions(fresh_db_url) == heads
    assert await schema_diff(fresh_db_url) == []


async def test_models_match_the_migrated_database(db_url: str) -> None:
    diff = await schema_diff(db_url)
    assert diff == [], f"models and migrations differ (write a revision): {diff}"


# An order in dollars with one line, written as revision 0010 stored them (no currency).
ORDER_OF_0010 = """
WITH customer AS (
    INSERT INTO user_account (email, full_name, password_hash)
    VALUES ('buyer@example.com', 'Buyer', 'x') RETURNING id
), shelf AS (
    INSERT INTO category (name, slug) VALUES ('Shelf', 'shelf') RETURNING id
), item AS (
    INSERT INTO product (sku, slug, name, price, currency, category_id)
    SELECT 'SKU-1', 'item', 'Item', 9.90, 'USD', id FROM shelf RETURNING id
), placed AS (
    INSERT INTO customer_order (number, user_id, currency, total, idempotency_key,
                                cart_fingerprint)
    SELECT 'HOM-000001', id, 'USD', 19.80, 'k', repeat('0', 64) FROM customer RETURNING id
)
INSERT INTO order_line (order_id, product_id, sku, name, quantity, unit_price, line_total)
SELECT placed.id, item.id, 'SKU-1', 'Item', 2, 9.90, 19.80 FROM placed, item
"""
# A line in euros of that order (of another product: one line per product).
OTHER_CURRENCY_LINE = """
WITH item AS (
    INSERT INTO product (sku, slug, name, price, category_id)
    SELECT 'SKU-2', 'other', 'Other', 9.90, id FROM category RETURNING id
)
INSERT INTO order_line (order_id, product_id, sku, name, quantity, currency, unit_price,
                        line_total)
SELECT customer_order.id, item.id, 'SKU-2', 'Other', 1, 'EUR', 9.90, 9.90
FROM customer_order, item
"""


async def execute(db_url: str, sql: str) -> None:
    async with connect_once(db_url) as connection:
        await connection.execute(text(sql))
        await connection.commit()


async def test_0011_gives_order_lines_their_orders_currency(fresh_db_url: str) -> None:
    await asyncio.to_thread(migrations.upgrade, fresh_db_url, "0010")
    await execute(fresh_db_url, ORDER_OF_0010)

    await asyncio.to_thread(migrations.upgrade, fresh_db_url, "0011")

    assert await fetch(fresh_db_url, "SELECT currency FROM order_line") == ["USD"]
    with pytest.raises(IntegrityError, match="fk_order_line_order_id_customer_order"):
        await execute(fresh_db_url, OTHER_CURRENCY_LINE)
    await asyncio.to_thread(migrations.downgrade, fresh_db_url, "0010")
    assert await fetch(fresh_db_url, "SELECT count(*) FROM order_line") == [1]

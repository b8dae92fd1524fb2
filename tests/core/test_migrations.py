"""Alembic: the chain round-trips on a fresh database, and the models match the migrations."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection
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

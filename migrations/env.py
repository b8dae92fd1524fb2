"""Alembic environment: async engine, the models' metadata, types compared."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import hom.models  # noqa: F401  (registers every table on SQLModel.metadata)
from hom.core import migrations
from hom.core.config import get_settings

target_metadata = SQLModel.metadata


def database_url() -> str:
    url = context.config.attributes.get("db_url") or get_settings().db_url
    if not url:
        raise SystemExit("DB_URL is not set")
    return str(url)


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=True,
        include_object=migrations.include_object,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    engine = create_async_engine(database_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_with)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(run_online())

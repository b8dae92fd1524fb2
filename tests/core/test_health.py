"""Health checks against real servers, including private ones stopped mid-test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from hom.app import create_app
from hom.core import migrations
from hom.core.config import Settings
from hom.core.embedded import (
    EmbeddedService,
    embedded_available,
    start_embedded_postgres,
    start_embedded_redis,
)
from tests.conftest import make_settings, open_client
from tests.support import create_database, drop_database, with_database


async def test_health_is_ok_with_everything_up(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"db": "ok", "redis": "ok", "migrations": "ok"},
    }
    for path in ("/health/db", "/health/redis", "/health/live"):
        assert (await client.get(path)).status_code == 200


async def test_unmigrated_database_fails_the_migrations_check(
    admin_db_url: str, redis_url: str, redis_prefix: str
) -> None:
    name = await asyncio.to_thread(create_database, admin_db_url)
    try:
        settings = make_settings(with_database(admin_db_url, name), redis_url, redis_prefix)
        async with serving(create_app(settings)) as client:
            response = await client.get("/health")
        assert response.status_code == 503
        assert response.json()["checks"] == {"db": "ok", "redis": "ok", "migrations": "error"}
    finally:
        await asyncio.to_thread(drop_database, admin_db_url, name)


class Private:
    """A PostgreSQL and a Redis of this test's own, so it can stop them."""

    def __init__(self, directory: Path) -> None:
        self.postgres: EmbeddedService = start_embedded_postgres(directory)
        self.redis: EmbeddedService = start_embedded_redis(directory)
        migrations.upgrade(self.postgres.url)

    def settings(self, prefix: str) -> Settings:
        return make_settings(self.postgres.url, self.redis.url, prefix)

    def stop(self) -> None:
        self.redis.stop()
        self.postgres.stop()


@pytest.fixture
async def private(embedded_tmp_path: Path) -> AsyncIterator[Private]:
    if not embedded_available():
        pytest.skip("embedded servers not installed")
    servers = await asyncio.to_thread(Private, embedded_tmp_path)
    yield servers
    await asyncio.to_thread(servers.stop)


def serving(app: Starlette) -> _Serving:
    return _Serving(app)


class _Serving:
    def __init__(self, app: Starlette) -> None:
        self.app = app

    async def __aenter__(self) -> httpx.AsyncClient:
        self.client = await open_client(self.app)
        return self.client

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()
        await self.app.state.services.close()


async def test_stopped_redis_is_named_and_503(private: Private, redis_prefix: str) -> None:
    async with serving(create_app(private.settings(redis_prefix))) as client:
        assert (await client.get("/health")).status_code == 200
        await asyncio.to_thread(private.redis.stop)
        response = await client.get("/health")
        assert response.status_code == 503
        assert response.json() == {
            "status": "error",
            "checks": {"db": "ok", "redis": "error", "migrations": "ok"},
        }
        assert (await client.get("/health/redis")).status_code == 503
        assert (await client.get("/health/db")).status_code == 200
        assert (await client.get("/health/live")).status_code == 200
        graphql = await client.post("/graphql", json={"query": "{ serverInfo { version } }"})
        assert graphql.json()["data"]["serverInfo"]["version"]


async def test_stopped_postgres_is_named_and_503(private: Private, redis_prefix: str) -> None:
    async with serving(create_app(private.settings(redis_prefix))) as client:
        assert (await client.get("/health")).status_code == 200
        await asyncio.to_thread(private.postgres.stop)
        response = await client.get("/health")
        assert response.status_code == 503
        assert response.json() == {
            "status": "error",
            "checks": {"db": "error", "redis": "ok", "migrations": "error"},
        }
        assert (await client.get("/health/db")).status_code == 503
        assert (await client.get("/health/redis")).status_code == 200
        assert (await client.get("/health/live")).status_code == 200

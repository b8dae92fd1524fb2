"""Fixtures: a migrated PostgreSQL database and a Redis key prefix of each test's own."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from redis.asyncio import Redis
from starlette.applications import Starlette

from hom.app import create_app
from hom.core import passwords
from hom.core.config import Settings, load_settings
from hom.core.db import SessionMaker
from hom.core.redis import create_redis
from tests import ledger_guard
from tests.databases import TemplateClones, create_template
from tests.support import (
    LOCAL_DB_URL,
    LOCAL_REDIS_URL,
    GraphQLClient,
    configured,
    create_database,
    drop_database,
    outside_pytest_tmp,
    with_database,
)

TEST_SECRET = "test-secret-" + "x" * 40
pytest_plugins = [
    "tests.collector",
    "tests.plumbing_fixtures",
    "tests.mail_fixtures",
    "tests.compiled_fixtures",
]


@pytest.fixture(scope="session")
def embedded_dir() -> Iterator[Path]:
    with outside_pytest_tmp() as directory:
        yield directory


@pytest.fixture
def embedded_tmp_path() -> Iterator[Path]:
    """`tmp_path` for a test that starts an embedded PostgreSQL (see outside_pytest_tmp)."""
    with outside_pytest_tmp() as directory:
        yield directory


def backing_server(
    env_name: str, local: str, port: int, start: Callable[[Path], Any], directory: Path
) -> Iterator[str]:
    """The server named by `env_name`, else the local one, else an embedded one (stopped after)."""
    url = configured(env_name, local, port)
    if url:
        yield url
        return
    service = start(directory)
    yield service.url
    service.stop()


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    """argon2's cheapest parameters for every password hashed in the test processes (the
    suite makes thousands of users; `hom serve` processes keep the real ones)."""
    production = passwords.use_hasher(PasswordHasher.from_parameters(CHEAPEST))
    yield
    passwords.use_hasher(production)


@pytest.fixture
def production_hashing() -> Iterator[None]:
    """The server's own argon2 parameters (passwords.HASHER), for the tests about them."""
    cheap = passwords.use_hasher(passwords.HASHER)
    yield
    passwords.use_hasher(cheap)


@pytest.fixture(scope="session")
def admin_db_url(embedded_dir: Path) -> Iterator[str]:
    """A PostgreSQL server to create the run's database in: TEST_DB_URL, local, or embedded."""
    from hom.core.embedded import start_embedded_postgres

    yield from backing_server(
        "TEST_DB_URL", LOCAL_DB_URL, 5432, start_embedded_postgres, embedded_dir
    )


@pytest.fixture(scope="session")
def redis_url(embedded_dir: Path) -> Iterator[str]:
    """A Redis server: TEST_REDIS_URL, local, or embedded."""
    from hom.core.embedded import start_embedded_redis

    yield from backing_server(
        "TEST_REDIS_URL", LOCAL_REDIS_URL, 6379, start_embedded_redis, embedded_dir
    )


@pytest.fixture(scope="session")
def database_clones(admin_db_url: str) -> Iterator[TemplateClones]:
    """This run's template database, migrated once (when a test first needs a database)."""
    template = create_template(admin_db_url)
    try:
        with TemplateClones(admin_db_url, template) as clones:
            yield clones
    finally:
        drop_database(admin_db_url, template)


@pytest.fixture
def db_url(database_clones: TemplateClones, request: pytest.FixtureRequest) -> Iterator[str]:
    """This test's own database, migrated to head (a clone of the template), dropped after.

    The ledger guard: when the test is done, its stock levels must still equal their
    movements (unless it is marked `ledger_corrupted`), else the test errors.
    """
    with database_clones.database() as url:
        yield url
        if request.node.get_closest_marker(ledger_guard.MARKER) is None:
            ledger_guard.fail_on(database_clones.run(ledger_guard.ledger_differences(url)))


@pytest.fixture
def fresh_db_url(admin_db_url: str, database_clones: TemplateClones) -> Iterator[str]:
    """A new, empty (unmigrated) database of this test's own, dropped afterwards (in the
    background, as the clones are: a drop waits for a checkpoint, seconds on a busy server)."""
    name = create_database(admin_db_url)
    try:
        yield with_database(admin_db_url, name)
    finally:
        database_clones.drop_soon(name)


@pytest.fixture(scope="session")
def run_prefix() -> str:
    """Every Redis key of this run starts with it (removed at the end)."""
    return f"hom_test_{uuid.uuid4().hex[:12]}:"


@pytest.fixture
def redis_prefix(run_prefix: str) -> str:
    """Each test gets its own key space, so counters (throttling) never leak between tests."""
    return f"{run_prefix}{uuid.uuid4().hex[:8]}:"


@pytest.fixture(scope="session", autouse=True)
async def _clean_redis(redis_url: str, run_prefix: str) -> AsyncIterator[None]:
    yield
    client = Redis.from_url(redis_url)
    async for key in client.scan_iter(match=f"{run_prefix}*", count=500):
        await client.delete(key)
    await client.aclose()


def make_settings(db_url: str, redis_url: str, redis_prefix: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "db_url": db_url,
        "redis_url": redis_url,
        "redis_prefix": redis_prefix,
        "jwt_secret": TEST_SECRET,
        "app_env": "dev",
        **overrides,
    }
    return load_settings(**values)


@pytest.fixture
def settings(db_url: str, redis_url: str, redis_prefix: str) -> Settings:
    return make_settings(db_url, redis_url, redis_prefix)


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    """A client of this run's Redis (keys go under the test's own `settings.redis_prefix`)."""
    client = create_redis(settings)
    yield client
    await client.aclose()


@pytest.fixture
def settings_factory(db_url: str, redis_url: str, redis_prefix: str) -> Any:
    """`settings_factory(app_env="prod", …)` → Settings for this run's database and Redis."""

    def factory(**overrides: Any) -> Settings:
        values = {"db_url": db_url, "redis_url": redis_url, "redis_prefix": redis_prefix}
        return make_settings(**{**values, **overrides})

    return factory


@pytest.fixture
async def app(settings: Settings, request: pytest.FixtureRequest) -> AsyncIterator[Starlette]:
    """The app; a test fails when the compiled read path left a query it should have
    planned to the executor (a field neither declared for it nor executor-only), unless
    it is marked `compiled_fallback_expected`."""
    application = create_app(settings)
    yield application
    await application.state.services.close()
    compiled = getattr(application.state, "compiled", None)
    fallbacks = list(getattr(compiled, "fallbacks", ()))
    if fallbacks and request.node.get_closest_marker("compiled_fallback_expected") is None:
        pytest.fail(f"the compiled read path fell back to the executor: {fallbacks}")


async def open_client(application: Starlette) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=application)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with await open_client(app) as http:
        yield http


@pytest.fixture
def gql(app: Starlette, client: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(client, app.state.compiled)


@pytest.fixture
def session_maker(app: Starlette) -> SessionMaker:
    """The app's own session factory, for factories and for checking state."""
    maker: SessionMaker = app.state.services.session_maker
    return maker

"""Login throttling: per account across IPs, per IP across accounts, backoff, trusted proxies."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from redis.asyncio import Redis

from hom.app import create_app
from hom.core.config import Settings
from hom.core.db import SessionMaker
from tests.conftest import open_client
from tests.factories import PASSWORD, create_user, login, unique_email


@pytest.fixture
async def proxied(settings_factory: Callable[..., Settings]) -> AsyncIterator[httpx.AsyncClient]:
    """A client behind a trusted proxy (the test transport's peer is 127.0.0.1)."""
    app = create_app(settings_factory(trusted_proxies="127.0.0.1/32"))
    async with await open_client(app) as http:
        yield http
    await app.state.services.close()


async def unlock_all(redis_url: str, prefix: str) -> None:
    redis = Redis.from_url(redis_url)
    async for key in redis.scan_iter(match=f"{prefix}login_lock:*"):
        await redis.delete(key)
    await redis.aclose()


async def test_sixth_wrong_password_from_other_ips_is_429_until_the_lock_expires(
    proxied: httpx.AsyncClient, session_maker: SessionMaker, redis_url: str, redis_prefix: str
) -> None:
    user = await create_user(session_maker)
    for n in range(5):
        response = await login(proxied, user.email, "wrong", **{"x-forwarded-for": f"10.0.0.{n}"})
        assert response.status_code == 401
    sixth = await login(proxied, user.email, "wrong", **{"x-forwarded-for": "10.0.1.1"})
    assert sixth.status_code == 429
    assert 0 < int(sixth.headers["retry-after"]) <= 30
    right = await login(proxied, user.email, PASSWORD, **{"x-forwarded-for": "10.0.1.2"})
    assert right.status_code == 429
    await unlock_all(redis_url, redis_prefix)
    right = await login(proxied, user.email, PASSWORD, **{"x-forwarded-for": "10.0.1.3"})
    assert right.status_code == 200


async def test_backoff_doubles_with_each_further_failure(
    proxied: httpx.AsyncClient, session_maker: SessionMaker, redis_url: str, redis_prefix: str
) -> None:
    user = await create_user(session_maker)
    for n in range(5):
        await login(proxied, user.email, "wrong", **{"x-forwarded-for": f"10.1.0.{n}"})
    await unlock_all(redis_url, redis_prefix)
    await login(proxied, user.email, "wrong", **{"x-forwarded-for": "10.1.1.1"})
    locked = await login(proxied, user.email, PASSWORD, **{"x-forwarded-for": "10.1.1.2"})
    assert locked.status_code == 429
    assert 30 < int(locked.headers["retry-after"]) <= 60


async def test_one_ip_guessing_many_accounts_is_throttled(
    proxied: httpx.AsyncClient, session_maker: SessionMaker
) -> None:
    ip = {"x-forwarded-for": "10.2.0.1"}
    for _ in range(20):
        assert (await login(proxied, unique_email(), "wrong", **ip)).status_code == 401
    user = await create_user(session_maker)
    assert (await login(proxied, user.email, PASSWORD, **ip)).status_code == 429
    other_ip = {"x-forwarded-for": "10.2.0.2"}
    assert (await login(proxied, user.email, PASSWORD, **other_ip)).status_code == 200


async def test_forwarded_for_is_ignored_from_untrusted_peers(
    client: httpx.AsyncClient, session_maker: SessionMaker
) -> None:
    """Without TRUSTED_PROXIES every attempt counts against the real peer, whatever it claims."""
    user = await create_user(session_maker)
    for n in range(5):
        await login(client, user.email, "wrong", **{"x-forwarded-for": f"10.3.0.{n}"})
    response = await login(client, user.email, PASSWORD)
    assert response.status_code == 429

"""Sessions: rotation with reuse detection under concurrency, revocation across instances."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from hom.app import create_app
from hom.core import tokens
from hom.core.config import Settings
from hom.core.db import SessionMaker
from hom.core.tokens import TokenType
from tests.conftest import open_client
from tests.factories import Tokens, create_user, login_tokens
from tests.support import GraphQLClient, error_codes, live_server

ME = "{ me { id } }"


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/auth/refresh", headers={"x-refresh-token": token})


async def test_reusing_a_rotated_refresh_token_ends_the_session(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    user = await create_user(session_maker)
    first = await login_tokens(client, user.email)
    second = Tokens.of((await refresh(client, first.refresh_token)).json())
    assert (await refresh(client, first.refresh_token)).status_code == 401  # reuse
    assert (await refresh(client, second.refresh_token)).status_code == 401
    assert error_codes(await gql(ME, token=second.access_token)) == ["UNAUTHENTICATED"]


async def test_ten_concurrent_refreshes_one_succeeds(
    settings: Settings, session_maker: SessionMaker, client: httpx.AsyncClient
) -> None:
    user = await create_user(session_maker)
    pair = await login_tokens(client, user.email)
    with live_server(create_app(settings)) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            responses = await asyncio.gather(
                *(refresh(http, pair.refresh_token) for _ in range(10))
            )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [401] * 9


@pytest.fixture
async def second_app(settings: Settings) -> AsyncIterator[Starlette]:
    """Another instance sharing PostgreSQL and Redis (its own pools)."""
    app = create_app(settings)
    yield app
    await app.state.services.close()


async def test_logout_on_one_instance_is_refused_on_the_other(
    client: httpx.AsyncClient, session_maker: SessionMaker, second_app: Starlette
) -> None:
    user = await create_user(session_maker)
    pair = await login_tokens(client, user.email)
    async with await open_client(second_app) as other:
        other_gql = GraphQLClient(other)
        assert (await other_gql(ME, token=pair.access_token))["data"]["me"]["id"]
        headers = {
            "authorization": f"Bearer {pair.access_token}",
            "x-refresh-token": pair.refresh_token,
        }
        assert (await client.post("/auth/logout", headers=headers)).status_code == 204
        assert error_codes(await other_gql(ME, token=pair.access_token)) == ["UNAUTHENTICATED"]
        assert (await refresh(other, pair.refresh_token)).status_code == 401


async def test_redis_down_fails_closed_but_public_fields_work(
    settings_factory: object, settings: Settings, session_maker: SessionMaker
) -> None:
    user = await create_user(session_maker)
    assert user.id is not None
    token = tokens.issue(settings, TokenType.ACCESS, user.id, "some-session").token
    dead_redis = settings_factory(redis_url="redis://127.0.0.1:1/0")  # type: ignore[operator]
    app = create_app(dead_redis)
    async with await open_client(app) as http:
        gql = GraphQLClient(http)
        assert error_codes(await gql(ME, token=token)) == ["SERVICE_UNAVAILABLE"]
        assert (await gql("{ serverInfo { version } }", token=token))["data"]["serverInfo"]
    await app.state.services.close()

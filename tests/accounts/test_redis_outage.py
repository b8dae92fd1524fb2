"""Redis down under a running app: /auth answers 503 + Retry-After (never unthrottled, never a
500), GraphQL fails closed, and everything recovers by itself once Redis is back."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.applications import Starlette

from hom.app import create_app
from hom.core.config import Settings
from hom.core.db import SessionMaker
from hom.core.embedded import EmbeddedService, start_embedded_redis
from tests.accounts.test_auth_flow import logout, refresh
from tests.conftest import open_client
from tests.factories import PASSWORD, create_user, login, login_tokens
from tests.support import GraphQLClient, error_codes


class PrivateRedis:
    """A redis-server of this test's own, to stop and to start again on the same port."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.service: EmbeddedService = start_embedded_redis(directory)
        self.port = urlsplit(self.service.url).port

    @property
    def url(self) -> str:
        return self.service.url

    def stop(self) -> None:
        self.service.stop()

    def start(self) -> None:
        self.service = start_embedded_redis(self.directory, self.port)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    redis = PrivateRedis(tmp_path)
    yield redis
    redis.stop()


@asynccontextmanager
async def app_on(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, SessionMaker]]:
    """A client of a new app with `settings`, and the app's session factory."""
    app: Starlette = create_app(settings)
    async with await open_client(app) as http:
        yield http, app.state.services.session_maker
    await app.state.services.close()


@pytest.fixture
async def outage_app(
    settings_factory: Callable[..., Settings], private_redis: PrivateRedis
) -> AsyncIterator[tuple[httpx.AsyncClient, SessionMaker]]:
    """An app whose Redis is `private_redis`."""
    async with app_on(settings_factory(redis_url=private_redis.url)) as pair:
        yield pair


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json() == {"detail": "Temporarily unavailable; try again shortly"}
    assert int(response.headers["retry-after"]) > 0


async def test_auth_is_503_while_redis_is_down_and_200_once_it_is_back(
    outage_app: tuple[httpx.AsyncClient, SessionMaker], private_redis: PrivateRedis
) -> None:
    client, session_maker = outage_app
    user = await create_user(session_maker)
    tokens = await login_tokens(client, user.email)

    private_redis.stop()
    assert_unavailable(await login(client, user.email))
    assert_unavailable(await login(client, user.email, "a wrong password"))  # never unthrottled
    assert_unavailable(await refresh(client, tokens.refresh_token))
    assert_unavailable(await logout(client, tokens))

    private_redis.start()
    assert (await login(client, user.email)).status_code == 200
    assert (await refresh(client, tokens.refresh_token)).status_code == 200


async def test_pooled_connections_reconnect_after_a_redis_restart(
    outage_app: tuple[httpx.AsyncClient, SessionMaker], private_redis: PrivateRedis
) -> None:
    """Nobody asked while Redis was away: every pooled connection is stale when it returns."""
    client, session_maker = outage_app
    user = await create_user(session_maker)
    first = await asyncio.gather(*(login(client, user.email) for _ in range(4)))
    assert [response.status_code for response in first] == [200] * 4

    private_redis.stop()
    private_redis.start()
    for _ in range(4):
        assert (await login(client, user.email)).status_code == 200


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A 'Redis' that accepts connections and never answers (a hung server)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


async def test_a_hung_redis_is_503_too(
    settings_factory: Callable[..., Settings], silent_redis: str, session_maker: SessionMaker
) -> None:
    """The socket timeout ends the wait; the test only needs it to end (no clock here)."""
    user = await create_user(session_maker)
    async with app_on(settings_factory(redis_url=silent_redis)) as (client, _):
        assert_unavailable(await login(client, user.email))


RESET = "mutation ($e: String!) { requestPasswordReset(email: $e) { errors { code } } }"


async def test_graphql_without_redis_fails_closed_with_a_clear_code(
    outage_app: tuple[httpx.AsyncClient, SessionMaker], private_redis: PrivateRedis
) -> None:
    client, session_maker = outage_app
    gql = GraphQLClient(client)
    user = await create_user(session_maker)
    tokens = await login_tokens(client, user.email, PASSWORD)

    private_redis.stop()
    public = await gql("{ serverInfo { version } }")
    assert public["data"]["serverInfo"]["version"]
    signed_in = await gql("{ me { id } }", token=tokens.access_token)
    assert error_codes(signed_in) == ["SERVICE_UNAVAILABLE"], "fails closed, not as signed out"
    assert signed_in["data"] == {"me": None}
    reset = await gql(RESET, {"e": user.email})
    assert error_codes(reset) == ["SERVICE_UNAVAILABLE"]
    assert reset["errors"][0]["message"] == "Temporarily unavailable; try again shortly"

"""The `notifications` subscription over graphql-transport-ws, across instances.

Instance A is the in-process app of the `client` fixture; instance B is another app
on the same PostgreSQL and Redis, served by uvicorn on a loopback port, and the
subscriber is a real websocket client connected to B.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from redis.asyncio import Redis
from strawberry.relay import to_base64
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from hom.accounts.models import User
from hom.app import create_app
from hom.core import tokens
from hom.core.config import Settings
from hom.core.redis import RedisKeys
from hom.core.roles import Role
from hom.core.tokens import TokenType
from hom.core.unit_of_work import SessionMaker
from hom.notifications import inbox
from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD, Tokens, login_tokens, signed_in
from tests.notifications.factories import create_notifications
from tests.serving import until
from tests.support import GraphQLClient, live_server

SUBSCRIBE = "subscription { notifications { id kind title body link data isRead } }"
DELIVERY = 1.0  # the Done-when bound: B delivers what A created within a second
ENDING = 2.0  # a revoked session's subscription ends within this
WAIT = 5.0  # any other answer


@pytest.fixture
def instance_b(settings: Settings) -> Iterator[str]:
    with live_server(create_app(settings)) as url:
        yield url


@asynccontextmanager
async def websocket(base_url: str, token: str | None) -> AsyncIterator[ClientConnection]:
    """A graphql-transport-ws connection, initialised with the bearer token (if any)."""
    url = base_url.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert await receive(ws) == {"type": "connection_ack"}
        yield ws


async def subscribe(ws: ClientConnection, operation_id: str, query: str = SUBSCRIBE) -> None:
    message = {"id": operation_id, "type": "subscribe", "payload": {"query": query}}
    await ws.send(json.dumps(message))


async def receive(ws: ClientConnection, within: float = WAIT) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), within))
    return message


async def listening(redis: Redis, settings: Settings, user: User) -> None:
    """Until B's hub has subscribed to the user's channel (a subscription's start is silent)."""
    assert user.id is not None
    name = RedisKeys(settings.redis_prefix)(*inbox.user_channel(user.id))

    async def subscribed() -> bool:
        ((_, count),) = await redis.pubsub_numsub(name)
        return int(count) >= 1

    await until(subscribed, "subscribed")


def codes(message: dict[str, Any]) -> list[str]:
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    return [error["extensions"]["code"] for error in errors]


async def test_a_subscriber_on_b_receives_what_a_creates_within_a_second(
    client: httpx.AsyncClient,
    session_maker: SessionMaker,
    instance_b: str,
    redis: Redis,
    settings: Settings,
) -> None:
    user, pair = await signed_in(client, session_maker)
    other, _ = await signed_in(client, session_maker)
    async with websocket(instance_b, pair.access_token) as ws:
        await subscribe(ws, "1")
        await listening(redis, settings, user)
        await create_notifications(session_maker, other.id, title="not for you")
        (made,) = await create_notifications(
            session_maker, user.id, kind="order.cancelled", title="Cancelled", data={"n": 1}
        )
        assert made.id is not None
        assert await receive(ws, within=DELIVERY) == {
            "id": "1",
            "type": "next",
            "payload": {
                "data": {
                    "notifications": {
                        "id": to_base64("Notification", made.id),
                        "kind": "order.cancelled",
                        "title": "Cancelled",
                        "body": "Body 0",
                        "link": None,
                        "data": {"n": 1},
                        "isRead": False,
                    }
                },
                "extensions": {"cost": {"requestedQueryCost": 1, "maximumAvailable": 50_000}},
            },
        }


def expired_token(user: User) -> str:
    now = int(time.time())
    claims = {"sub": str(user.id), "jti": "j", "iat": now - 120, "exp": now - 60}
    claims |= {"typ": "access", "sid": "s", "iss": tokens.ISSUER, "aud": tokens.AUDIENCE}
    return jwt.encode(claims, TEST_SECRET, "HS256")


async def logged_out(client: httpx.AsyncClient, pair: Tokens) -> str:
    headers = {"authorization": f"Bearer {pair.access_token}"}
    response = await client.post(
        "/auth/logout", headers={**headers, "x-refresh-token": pair.refresh_token}
    )
    assert response.status_code == 204
    return pair.access_token


REFUSED: dict[str, Callable[[httpx.AsyncClient, User, Tokens], Awaitable[str | None]]] = {
    "anonymous": lambda client, user, pair: asyncio.sleep(0, None),
    "garbage": lambda client, user, pair: asyncio.sleep(0, "not-a-token"),
    "expired": lambda client, user, pair: asyncio.sleep(0, expired_token(user)),
    "refresh token": lambda client, user, pair: asyncio.sleep(0, pair.refresh_token),
    "logged out": lambda client, user, pair: logged_out(client, pair),
}


@pytest.mark.parametrize("case", REFUSED)
async def test_a_bad_token_cannot_subscribe(
    client: httpx.AsyncClient, session_maker: SessionMaker, instance_b: str, case: str
) -> None:
    user, pair = await signed_in(client, session_maker)
    token = await REFUSED[case](client, user, pair)
    async with websocket(instance_b, token) as ws:
        await subscribe(ws, "1")
        refusal = await receive(ws)
    assert refusal["type"] == "error"
    assert refusal["id"] == "1"
    assert codes(refusal) == ["UNAUTHENTICATED"]


@dataclass
class Revoking:
    """What a way of ending the subscriber's session works with (all through instance A)."""

    client: httpx.AsyncClient
    gql: GraphQLClient
    session_maker: SessionMaker
    settings: Settings
    user: User
    pair: Tokens


async def sid_of(settings: Settings, pair: Tokens) -> str:
    return tokens.decode(settings, pair.access_token, TokenType.ACCESS).sid


async def revoke_session(env: Revoking) -> None:
    second = await login_tokens(env.client, env.user.email)
    mutation = "mutation ($id: ID!) { revokeSession(id: $id) { errors { code } } }"
    sid = await sid_of(env.settings, env.pair)
    body = await env.gql(mutation, {"id": sid}, token=second.access_token)
    assert body == {"data": {"revokeSession": {"errors": []}}}


async def change_password(env: Revoking) -> None:
    second = await login_tokens(env.client, env.user.email)
    mutation = """mutation ($input: ChangePasswordInput!) {
      changePassword(input: $input) { errors { code } } }"""
    variables = {"input": {"currentPassword": PASSWORD, "newPassword": "another good one"}}
    body = await env.gql(mutation, variables, token=second.access_token)
    assert body == {"data": {"changePassword": {"errors": []}}}


async def deactivate(env: Revoking) -> None:
    _, admin = await signed_in(env.client, env.session_maker, Role.ADMIN)
    mutation = """mutation ($input: UpdateUserInput!) {
      updateUser(input: $input) { errors { code } } }"""
    assert env.user.id is not None
    variables = {"input": {"id": to_base64("User", env.user.id), "isActive": False}}
    body = await env.gql(mutation, variables, token=admin.access_token)
    assert body == {"data": {"updateUser": {"errors": []}}}


async def reuse_refresh_token(env: Revoking) -> None:
    headers = {"x-refresh-token": env.pair.refresh_token}
    assert (await env.client.post("/auth/refresh", headers=headers)).status_code == 200
    assert (await env.client.post("/auth/refresh", headers=headers)).status_code == 401


async def log_out(env: Revoking) -> None:
    await logged_out(env.client, env.pair)


REVOCATIONS = {
    "logout": log_out,
    "revokeSession": revoke_session,
    "changePassword": change_password,
    "deactivation": deactivate,
    "refresh token reuse": reuse_refresh_token,
}


@pytest.mark.parametrize("revocation", REVOCATIONS)
async def test_a_live_subscription_ends_when_its_session_is_revoked(
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    instance_b: str,
    redis: Redis,
    settings: Settings,
    revocation: str,
) -> None:
    user, pair = await signed_in(client, session_maker)
    async with websocket(instance_b, pair.access_token) as ws:
        await subscribe(ws, "1")
        await listening(redis, settings, user)
        await REVOCATIONS[revocation](Revoking(client, gql, session_maker, settings, user, pair))

        ended = await receive(ws, within=ENDING)
        assert (ended["id"], ended["type"], codes(ended)) == ("1", "next", ["UNAUTHENTICATED"])
        assert await receive(ws, within=ENDING) == {"id": "1", "type": "complete"}

        await subscribe(ws, "2")  # the same connection, its session now gone
        refusal = await receive(ws)
        assert (refusal["id"], refusal["type"], codes(refusal)) == (
            "2",
            "error",
            ["UNAUTHENTICATED"],
        )


async def test_a_subscription_of_another_session_goes_on(
    client: httpx.AsyncClient,
    session_maker: SessionMaker,
    instance_b: str,
    redis: Redis,
    settings: Settings,
) -> None:
    """Logging one device out ends that device's subscription only."""
    user, staying = await signed_in(client, session_maker)
    leaving = await login_tokens(client, user.email)
    async with websocket(instance_b, staying.access_token) as ws:
        await subscribe(ws, "1")
        await listening(redis, settings, user)
        await logged_out(client, leaving)
        await create_notifications(session_maker, user.id, title="still listening")
        delivered = await receive(ws, within=WAIT)
    assert delivered["payload"]["data"]["notifications"]["title"] == "still listening"


async def test_a_connection_holds_at_most_five_operations(
    client: httpx.AsyncClient, session_maker: SessionMaker, instance_b: str
) -> None:
    assert Settings.model_fields["max_subscriptions_per_connection"].default == 5
    _, pair = await signed_in(client, session_maker)
    async with websocket(instance_b, pair.access_token) as ws:
        for number in range(1, 7):
            await subscribe(ws, str(number))
        refusal = await receive(ws)
    assert (refusal["id"], refusal["type"], codes(refusal)) == ("6", "error", ["QUERY_TOO_COMPLEX"])
    assert refusal["payload"][0]["message"] == "At most 5 operations at once on one connection"


async def test_a_session_ended_unannounced_is_noticed_by_the_periodic_check(
    client: httpx.AsyncClient,
    session_maker: SessionMaker,
    settings_factory: Callable[..., Settings],
    redis: Redis,
    settings: Settings,
) -> None:
    """An announcement can be lost (Redis restarting): the session is checked again anyway."""
    user, pair = await signed_in(client, session_maker)
    quick = settings_factory(subscription_session_check_seconds=0.2)
    with live_server(create_app(quick)) as url:
        async with websocket(url, pair.access_token) as ws:
            await subscribe(ws, "1")
            await listening(redis, settings, user)
            sid = await sid_of(settings, pair)
            assert await redis.delete(RedisKeys(settings.redis_prefix)("session", sid)) == 1
            ended = await receive(ws, within=WAIT)
            assert (ended["type"], codes(ended)) == ("next", ["UNAUTHENTICATED"])
            assert await receive(ws) == {"id": "1", "type": "complete"}


async def test_over_http_a_subscription_is_a_bad_request(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": SUBSCRIBE})
    assert response.status_code == 400
    assert response.text == "subscriptions are not allowed when using POST"

"""The README's tour, run as written: every request it shows answers with the shape shown.

The steps come from README.md (tests/readme.py: conventions in docs/TESTING.md). They run
in order on a fresh database: `hom seed-demo` and `hom create-admin` as those commands
do, curl requests and GraphQL documents through the app, a subscription over
graphql-transport-ws on a second instance of the app (served by uvicorn), whose event
is the one the next step causes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import pytest
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from hom.accounts import admin as accounts_admin
from hom.accounts.sessions import SessionStore
from hom.app import create_app
from hom.core.config import Settings
from hom.core.demo import DemoRun
from hom.core.redis import RedisKeys
from hom.core.unit_of_work import SessionMaker, unit_of_work
from hom.domains import demo_seeders
from hom.notifications import inbox
from tests import readme
from tests.readme import ANYONE, Step
from tests.serving import until
from tests.support import GraphQLClient, live_server

DEMO_PRODUCTS = 200  # `hom seed-demo`'s default
WAIT = 5.0


@dataclass
class Tour:
    """What the reader holds between steps: the token pairs, by address and the last one."""

    client: httpx.AsyncClient
    gql: GraphQLClient
    session_maker: SessionMaker
    settings: Settings
    redis: Redis
    live_url: str
    pairs: dict[str, dict[str, str]] = field(default_factory=dict)
    last: dict[str, str] = field(default_factory=dict)

    def token(self, sender: str) -> str | None:
        if sender == ANYONE:
            return None
        assert sender in self.pairs, f"the README has not signed {sender} in before this"
        return self.pairs[sender]["access_token"]

    def keep(self, pair: dict[str, Any], email: str | None) -> None:
        if "access_token" not in pair:
            return
        owner = email or next(e for e, p in self.pairs.items() if p == self.last)
        self.pairs[owner] = self.last = pair


@pytest.fixture
def live_url(settings: Settings) -> Iterator[str]:
    with live_server(create_app(settings)) as url:
        yield url


@pytest.fixture
def tour(
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    settings: Settings,
    redis: Redis,
    live_url: str,
) -> Tour:
    return Tour(client, gql, session_maker, settings, redis, live_url)


def check(step: Step, actual: Any) -> None:
    problems = readme.shape_problems(step.answer, actual)
    shown = json.dumps(actual, ensure_ascii=False)
    assert not problems, f"README line {step.line}: {'; '.join(problems)}\ngot {shown}"


async def seed_demo(tour: Tour) -> None:
    async with unit_of_work(tour.session_maker) as session:
        for seed in demo_seeders():
            await seed(session, run=DemoRun(products=DEMO_PRODUCTS))


async def create_admin(tour: Tour, email: str, password: str) -> None:
    sessions = SessionStore(tour.redis, RedisKeys(tour.settings.redis_prefix), tour.settings)
    async with unit_of_work(tour.session_maker) as session:
        await accounts_admin.ensure_admin(
            session, sessions=sessions, email=email, password=password
        )


def expand(value: str, tour: Tour) -> str:
    for name, key in (("$ACCESS", "access_token"), ("$REFRESH", "refresh_token")):
        if name in value:
            assert tour.last, f"{name} is used before any sign-in"
            value = value.replace(name, tour.last[key])
    return value


async def send_curl(tour: Tour, step: Step) -> None:
    assert step.curl is not None
    curl = step.curl
    headers = {name: expand(value, tour) for name, value in curl.headers.items()}
    options: dict[str, Any] = {"headers": headers}
    if curl.form:
        options["data"] = curl.form
    if curl.json_body is not None:
        options["json"] = curl.json_body
    response = await tour.client.request(curl.method, curl.path, **options)
    expected = step.status or 200
    assert response.status_code == expected, f"README line {step.line}: {response.text}"
    body = response.json() if response.content else None
    check(step, body)
    if isinstance(body, dict):
        tour.keep(body, curl.form.get("username"))


async def send_graphql(tour: Tour, step: Step) -> None:
    check(step, await tour.gql.answer(step.query, token=tour.token(step.sender)))


@asynccontextmanager
async def subscribed(tour: Tour, step: Step) -> AsyncIterator[ClientConnection]:
    """A graphql-transport-ws connection on the second instance, with `step` subscribed
    and listening (a subscription's start is silent: its Redis channel tells)."""
    token = tour.token(step.sender)
    assert token is not None, f"README line {step.line}: a subscription needs a sign-in"
    url = tour.live_url.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        await ws.send(json.dumps(init))
        assert json.loads(await asyncio.wait_for(ws.recv(), WAIT)) == {"type": "connection_ack"}
        payload = {"query": step.query}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        await until(lambda: listening(tour, token), "subscribed")
        yield ws


async def listening(tour: Tour, token: str) -> bool:
    user_id = int(jwt.decode(token, options={"verify_signature": False})["sub"])
    channel = RedisKeys(tour.settings.redis_prefix)(*inbox.user_channel(user_id))
    ((_, count),) = await tour.redis.pubsub_numsub(channel)
    return int(count) >= 1


async def event_of(ws: ClientConnection) -> Any:
    message = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
    assert message["type"] == "next", message
    return message["payload"]


async def run_step(tour: Tour, step: Step) -> None:
    if step.kind == "seed-demo":
        await seed_demo(tour)
    elif step.kind == "create-admin":
        assert step.admin is not None
        await create_admin(tour, *step.admin)
    elif step.kind == "curl":
        await send_curl(tour, step)
    else:
        await send_graphql(tour, step)


def test_the_readme_has_a_tour() -> None:
    found = readme.steps(readme.README.read_text())
    kinds = {step.kind for step in found}
    assert {"seed-demo", "create-admin", "curl", "graphql"} <= kinds
    assert any(step.is_subscription for step in found)
    assert found[0].kind == "seed-demo", "the tour starts with the demo data"


async def test_every_request_of_the_readme_answers_as_shown(tour: Tour) -> None:
    pending: Step | None = None
    async with AsyncExitStack() as stack:
        for step in readme.steps(readme.README.read_text()):
            if step.is_subscription:
                ws = await stack.enter_async_context(subscribed(tour, step))
                pending = step
                continue
            await run_step(tour, step)
            if pending is not None:
                check(pending, await event_of(ws))
                pending = None
    assert pending is None, f"README line {pending.line}: no step follows the subscription"

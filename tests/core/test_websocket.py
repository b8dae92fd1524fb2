"""GraphQL over websockets (graphql-transport-ws) at /graphql."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections import Counter
from collections.abc import Awaitable, Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from hom.app import create_app
from hom.core.config import Settings
from hom.core.graphql.view import LimitedTransportWSHandler
from tests.factories import PASSWORD
from tests.serving import until
from tests.support import live_server


def test_graphql_transport_ws_runs_an_operation(settings: Settings) -> None:
    app = create_app(settings)
    with (
        TestClient(app) as client,
        client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws,
    ):
        ws.send_json({"type": "connection_init"})
        assert ws.receive_json() == {"type": "connection_ack"}
        ws.send_json(
            {"id": "1", "type": "subscribe", "payload": {"query": "{ serverInfo { version } }"}}
        )
        assert ws.receive_json() == {
            "id": "1",
            "type": "next",
            "payload": {
                "data": {"serverInfo": {"version": "0.1.0"}},
                "extensions": {"cost": {"requestedQueryCost": 1, "maximumAvailable": 50_000}},
            },
        }
        assert ws.receive_json() == {"id": "1", "type": "complete"}


def test_unknown_subprotocol_is_refused(settings: Settings) -> None:
    app = create_app(settings)
    with (
        TestClient(app) as client,
        client.websocket_connect("/graphql", subprotocols=["graphql-ws"]) as ws,
    ):
        message = ws.receive()
        assert message["type"] == "websocket.close"
        assert message["code"] == 4406


REGISTER = """mutation ($input: RegisterInput!) { register(input: $input) { user { id } } }"""


def test_websocket_carries_the_token_in_connection_init(settings: Settings) -> None:
    """Browsers cannot set headers on a websocket: the token rides in connection_init."""
    email = f"ws-{uuid.uuid4().hex[:8]}@example.com"
    variables = {"input": {"email": email, "password": PASSWORD, "fullName": "Web Socket"}}
    with TestClient(create_app(settings)) as client:
        client.post("/graphql", json={"query": REGISTER, "variables": variables})
        login = client.post("/auth/login", data={"username": email, "password": PASSWORD})
        token = login.json()["access_token"]
        with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
            ws.send_json(
                {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
            )
            assert ws.receive_json() == {"type": "connection_ack"}
            ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": "{ me { email } }"}})
            assert ws.receive_json()["payload"]["data"] == {"me": {"email": email}}


# --- metrics: a websocket counts by how it ended, so that 5xx means a server failure ---------

INIT = {"type": "connection_init"}
SERVER_INFO = {"id": "1", "type": "subscribe", "payload": {"query": "{ serverInfo { version } }"}}
WS = {"method": "WS", "route": "/graphql"}


@pytest.fixture
def server_url(settings: Settings) -> Iterator[str]:
    """The app behind a real uvicorn on a loopback port: websockets go over the network."""
    with live_server(create_app(settings)) as url:
        yield url


async def websocket_statuses(http: httpx.AsyncClient, base_url: str) -> Counter[str]:
    """hom_http_requests_total of the websockets at /graphql, by status."""
    text = (await http.get(f"{base_url}/metrics")).text
    counts: Counter[str] = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "hom_http_requests_total" and WS.items() <= sample.labels.items():
                counts[sample.labels["status"]] += int(sample.value)
    return counts


async def counted_as(base_url: str, status: str, session: Awaitable[object]) -> Counter[str]:
    """Run `session`; what the metrics counted for it once they count one more websocket."""
    async with httpx.AsyncClient() as http:
        before = await websocket_statuses(http, base_url)
        await session
        added: Counter[str] = Counter()

        async def counted() -> bool:  # the server counts the websocket after the client saw it end
            nonlocal added
            added = await websocket_statuses(http, base_url) - before
            return added.total() >= 1

        await until(counted, f"a websocket counted (expecting {status})")
    return added


async def close_code(
    url: str, *messages: object, subprotocol: str = "graphql-transport-ws"
) -> int | None:
    """Send `messages` (JSON), read until the server closes; its close code."""
    ws_url = url.replace("http://", "ws://") + "/graphql"
    async with connect(ws_url, subprotocols=[Subprotocol(subprotocol)]) as ws:
        for message in messages:
            await ws.send(json.dumps(message))
        with contextlib.suppress(ConnectionClosed):
            while True:
                await ws.recv()
    return ws.close_code


async def a_normal_session(url: str) -> None:
    ws_url = url.replace("http://", "ws://") + "/graphql"
    async with connect(ws_url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        await ws.send(json.dumps(INIT))
        assert json.loads(await ws.recv()) == {"type": "connection_ack"}
        await ws.send(json.dumps(SERVER_INFO))
        assert json.loads(await ws.recv())["payload"]["data"] == {
            "serverInfo": {"version": "0.1.0"}
        }
        assert json.loads(await ws.recv()) == {"id": "1", "type": "complete"}
    assert ws.close_code == 1000


async def test_a_websocket_that_ends_normally_counts_as_101(server_url: str) -> None:
    assert await counted_as(server_url, "101", a_normal_session(server_url)) == {"101": 1}


@pytest.mark.parametrize(
    ("messages", "code", "status"),
    [
        pytest.param([[]], 4400, "400", id="a message that is no object"),
        pytest.param([INIT, {**SERVER_INFO, "payload": "x"}], 4400, "400", id="a bad payload"),
        pytest.param([{"type": "nonsense"}], 4400, "400", id="an unknown message"),
        pytest.param([SERVER_INFO], 4401, "401", id="subscribe before connection_init"),
    ],
)
async def test_a_websocket_the_server_closes_for_the_clients_fault_counts_as_4xx(
    server_url: str, messages: list[object], code: int, status: str
) -> None:
    async def session() -> None:
        assert await close_code(server_url, *messages) == code

    assert await counted_as(server_url, status, session()) == {status: 1}


async def test_an_unknown_subprotocol_counts_as_406(server_url: str) -> None:
    async def session() -> None:
        assert await close_code(server_url, subprotocol="graphql-ws") == 4406

    assert await counted_as(server_url, "406", session()) == {"406": 1}


async def test_a_websocket_the_server_fails_counts_as_500(
    server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: object, message: object) -> None:
        raise RuntimeError("a bug in the handler")

    monkeypatch.setattr(LimitedTransportWSHandler, "handle_subscribe", broken)

    async def session() -> None:  # uvicorn drops the connection without a close frame
        assert await close_code(server_url, INIT, SERVER_INFO) == 1006

    assert await counted_as(server_url, "500", session()) == {"500": 1}

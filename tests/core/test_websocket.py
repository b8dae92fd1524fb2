"""GraphQL over websockets (graphql-transport-ws) at /graphql."""

from __future__ import annotations

import uuid

from starlette.testclient import TestClient

from hom.app import create_app
from hom.core.config import Settings
from tests.factories import PASSWORD


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

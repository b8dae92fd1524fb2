"""GraphQL over websockets (graphql-transport-ws) at /graphql."""

from __future__ import annotations

from starlette.testclient import TestClient

from hom.app import create_app
from hom.core.config import Settings


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
            "payload": {"data": {"serverInfo": {"version": "0.1.0"}}},
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

"""One structured log line per request: request id, operation, duration, status, user id."""

from __future__ import annotations

import httpx
from structlog.contextvars import merge_contextvars
from structlog.testing import capture_logs

from hom.core.db import SessionMaker
from tests.factories import signed_in


async def test_the_request_line_names_operation_status_and_user(
    client: httpx.AsyncClient, session_maker: SessionMaker
) -> None:
    user, tokens = await signed_in(client, session_maker)
    with capture_logs(processors=[merge_contextvars]) as logs:
        response = await client.post(
            "/graphql",
            json={"query": "query WhoAmI { me { id } }"},
            headers={"authorization": f"Bearer {tokens.access_token}", "x-request-id": "req-42"},
        )
    assert response.status_code == 200
    (line,) = [entry for entry in logs if entry["event"] == "request"]
    assert line["request_id"] == "req-42"
    assert line["operation"] == "WhoAmI"
    assert line["status"] == 200
    assert line["user_id"] == user.id
    assert line["duration_ms"] > 0
    assert tokens.access_token not in str(logs)


async def test_anonymous_requests_log_no_user(client: httpx.AsyncClient) -> None:
    with capture_logs(processors=[merge_contextvars]) as logs:
        await client.post("/graphql", json={"query": "{ serverInfo { version } }"})
    (line,) = [entry for entry in logs if entry["event"] == "request"]
    assert line["user_id"] is None

"""The HTTP surface of /graphql and friends: body limits, hostile JSON, request ids, CORS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from hom.app import create_app
from tests.conftest import open_client

QUERY = b'{"query": "{ serverInfo { version } }"}'


async def test_two_megabyte_body_is_413_before_parsing(client: httpx.AsyncClient) -> None:
    body = b'{"query": "' + b"x" * 2_000_000 + b'"}'
    response = await client.post("/graphql", content=body, headers=JSON)
    assert response.status_code == 413


async def test_chunked_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "'
        for _ in range(40):
            yield b"x" * 50_000
        yield b'"}'

    response = await client.post("/graphql", content=chunks(), headers=JSON)
    assert response.status_code == 413


JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"query": "\xff\xfe{ serverInfo }"}', id="invalid-utf8"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="deep-array"),
        pytest.param(b'{"a":' * 100_000 + b"1" + b"}" * 100_000, id="deep-object"),
        pytest.param(b'"just a string"', id="not-an-object"),
        pytest.param(b"42", id="number"),
        pytest.param(b"{", id="truncated"),
        pytest.param(b"", id="empty"),
    ],
)
async def test_hostile_json_is_400_not_500(client: httpx.AsyncClient, body: bytes) -> None:
    response = await client.post("/graphql", content=body, headers=JSON)
    assert response.status_code == 400


async def test_batching_is_off(client: httpx.AsyncClient) -> None:
    batch = b"[" + QUERY + b"," + QUERY + b"]"
    response = await client.post("/graphql", content=batch, headers=JSON)
    assert response.status_code == 400


async def test_get_runs_queries_but_not_mutations(client: httpx.AsyncClient) -> None:
    ok = await client.get("/graphql", params={"query": "{ serverInfo { version } }"})
    assert ok.status_code == 200
    assert ok.json()["data"]["serverInfo"]["version"]
    refused = await client.get("/graphql", params={"query": "mutation { x }"})
    assert refused.status_code in (400, 405)


async def test_request_id_is_echoed_or_made(client: httpx.AsyncClient) -> None:
    mine = await client.post("/graphql", content=QUERY, headers={**JSON, "x-request-id": "abc-1"})
    assert mine.headers["x-request-id"] == "abc-1"
    hostile = await client.get("/health/live", headers={"x-request-id": "bad id;<script>" * 3})
    made = hostile.headers["x-request-id"]
    assert made != "bad id"
    assert len(made) == 32


async def test_cors_allows_configured_origin_only(client: httpx.AsyncClient) -> None:
    preflight = {
        "origin": "http://localhost:5173",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
    }
    allowed = await client.options("/graphql", headers=preflight)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    denied = await client.options("/graphql", headers={**preflight, "origin": "https://evil.test"})
    assert "access-control-allow-origin" not in denied.headers


@pytest.mark.parametrize(
    "origin", [None, "http://localhost:5173", "https://evil.test"], ids=["none", "allowed", "other"]
)
async def test_graphql_posts_answer_alike_with_or_without_an_origin(
    client: httpx.AsyncClient, origin: str | None
) -> None:
    """Without an Origin a POST skips Starlette's layers (hom.core.middleware.
    GraphQLPostsFirst); with one it passes CORS. Same answer, id, limits and metrics."""
    headers = {**JSON, "x-request-id": "same-1"} | ({"origin": origin} if origin else {})
    answered = await client.post("/graphql", content=QUERY, headers=headers)
    assert answered.status_code == 200
    assert answered.json()["data"]["serverInfo"]["version"]
    assert answered.headers["x-request-id"] == "same-1"
    allowed = answered.headers.get("access-control-allow-origin")
    assert allowed == (origin if origin == "http://localhost:5173" else None)
    too_big = b'{"query": "' + b"x" * 2_000_000 + b'"}'
    assert (await client.post("/graphql", content=too_big, headers=headers)).status_code == 413
    text = (await client.get("/metrics")).text
    assert 'hom_http_requests_total{method="POST",route="/graphql",status="413"}' in text


async def test_graphiql_page_is_served_to_browsers(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


async def test_metrics_count_graphql_operations(client: httpx.AsyncClient) -> None:
    named = b'{"query": "query ProbeOp { serverInfo { version } }"}'
    await client.post("/graphql", content=named, headers=JSON)
    await client.post("/graphql", content=b'{"query": "{ nope }"}', headers=JSON)
    text = (await client.get("/metrics")).text
    assert 'hom_graphql_operations_total{operation="ProbeOp",type="query"}' in text
    assert 'hom_graphql_operation_duration_seconds_bucket{le="0.005",operation="ProbeOp"' in text
    assert (
        'hom_graphql_errors_total{code="GRAPHQL_VALIDATION_FAILED",operation="anonymous"}' in text
    )
    assert 'hom_http_requests_total{method="POST",route="/graphql",status="200"}' in text


async def test_operation_labels_stay_bounded(client: httpx.AsyncClient) -> None:
    for n in range(3):
        hostile = f'{{"query": "query Op{n}x{"y" * 80} {{ serverInfo {{ version }} }}"}}'
        await client.post("/graphql", content=hostile.encode(), headers=JSON)
    text = (await client.get("/metrics")).text
    assert "yyyyyyyy" not in text
    assert 'hom_graphql_operations_total{operation="other",type="query"}' in text


async def test_http_methods_outside_the_usual_ones_are_labelled_other(
    client: httpx.AsyncClient,
) -> None:
    response = await client.request("XMETHODPROBE", "/graphql")
    assert response.status_code == 405
    text = (await client.get("/metrics")).text
    assert "XMETHODPROBE" not in text
    assert 'hom_http_requests_total{method="other",route="/graphql",status="405"}' in text


async def test_the_front_door_leads_to_the_playground_or_says_where_the_api_is(
    client: httpx.AsyncClient, settings_factory: Any
) -> None:
    response = await client.get("/")
    assert response.status_code == 307
    assert response.headers["location"] == "/graphql"
    application = create_app(settings_factory(graphiql=False))
    async with await open_client(application) as closed:
        pointer = await closed.get("/")
    await application.state.services.close()
    assert pointer.status_code == 200
    assert pointer.json() == {"graphql": "/graphql", "health": "/health"}

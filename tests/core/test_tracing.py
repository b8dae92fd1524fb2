"""OpenTelemetry: off without an exporter; with one, request → operation → SQL spans."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from hom.app import create_app
from hom.core import tracing
from hom.core.config import Settings
from tests.conftest import open_client


@pytest.fixture
def exporter(settings: Settings) -> Iterator[InMemorySpanExporter]:
    memory = InMemorySpanExporter()
    assert tracing.configure_tracing(settings, exporter=memory)
    yield memory
    tracing.shutdown_tracing()
    tracing.configure_tracing(settings)


def test_tracing_is_off_without_an_exporter(settings_factory: Callable[..., Settings]) -> None:
    assert tracing.configure_tracing(settings_factory()) is False
    assert tracing.exporter_from(settings_factory(OTEL_TRACES_EXPORTER="console")) is not None
    assert tracing.exporter_from(settings_factory(OTEL_EXPORTER_OTLP_ENDPOINT="http://x:4318"))


async def test_spans_for_request_operation_and_sql(
    settings: Settings, exporter: InMemorySpanExporter
) -> None:
    app = create_app(settings)
    async with await open_client(app) as client:
        traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        await client.post(
            "/graphql",
            json={"query": "query Probe { serverInfo { version } }"},
            headers={"traceparent": traceparent},
        )
        await client.get("/health/db")
    await app.state.services.close()
    spans = {span.name: span for span in exporter.get_finished_spans()}
    assert {"POST /graphql", "query Probe", "GET /health/db"} <= set(spans)
    request, operation = spans["POST /graphql"], spans["query Probe"]
    assert operation.parent is not None
    assert operation.parent.span_id == request.context.span_id
    assert format(request.context.trace_id, "032x") == "0af7651916cd43dd8448eb211c80319c"
    assert request.attributes is not None
    assert request.attributes["http.response.status_code"] == 200
    assert any(name.startswith("SELECT") or name == "connect" for name in spans)

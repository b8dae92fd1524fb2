"""OpenTelemetry: spans for requests, GraphQL operations and SQL, only when an exporter is set.

With no exporter configured nothing is instrumented, so tracing costs nothing.
The SDK reads its other `OTEL_*` variables (endpoint, headers, service name) itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import structlog
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from hom.core.config import Settings

log = structlog.get_logger("hom.tracing")
_tracer: trace.Tracer | None = None
_provider: TracerProvider | None = None


def exporter_from(settings: Settings) -> SpanExporter | None:
    """The exporter OTEL_TRACES_EXPORTER names (otlp is implied by an OTLP endpoint)."""
    name = settings.otel_traces_exporter or ("otlp" if settings.otel_otlp_endpoint else "none")
    if name == "console":
        return ConsoleSpanExporter()
    if name == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    return None


def configure_tracing(settings: Settings, exporter: SpanExporter | None = None) -> bool:
    """Install a tracer for this process; False (and no-op spans) without an exporter."""
    global _tracer, _provider
    exporter = exporter or exporter_from(settings)
    if exporter is None:
        log.debug("tracing off: no exporter configured")
        _tracer = _provider = None
        return False
    resource = Resource.create({"service.name": settings.otel_service_name})
    _provider = TracerProvider(resource=resource)
    # An exporter handed in (tests) sees each span at once; real ones get batches.
    configured = exporter_from(settings) if exporter is None else None
    processor = BatchSpanProcessor if configured else SimpleSpanProcessor
    _provider.add_span_processor(processor(exporter))
    _tracer = _provider.get_tracer("hom")
    log.info("tracing on", exporter=type(exporter).__name__)
    return True


def instrument_engine(engine: AsyncEngine) -> None:
    """SQL spans for this engine, when tracing is on."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    # Its declared range stops below SQLAlchemy 2.1, whose event API it uses unchanged.
    SQLAlchemyInstrumentor().instrument(
        engine=engine.sync_engine, tracer_provider=_provider, skip_dep_check=True
    )


def shutdown_tracing() -> None:
    if _provider is not None:
        _provider.shutdown()


def tracing_on() -> bool:
    return _tracer is not None


# Stateless, so one serves every caller while tracing is off (the hot path).
_NO_SPAN: AbstractContextManager[None] = nullcontext()


def span(name: str, *, headers: Any = None, server: bool = False) -> AbstractContextManager[Any]:
    """A span (continuing a caller's `traceparent` when headers are given); None when off."""
    if _tracer is None:
        return _NO_SPAN
    return _started(_tracer, name, headers, server)


@contextmanager
def _started(tracer: trace.Tracer, name: str, headers: Any, server: bool) -> Iterator[Any]:
    parent = propagate.extract(headers) if headers is not None else None
    kind = trace.SpanKind.SERVER if server else trace.SpanKind.INTERNAL
    with tracer.start_as_current_span(name, context=parent, kind=kind) as current:
        yield current

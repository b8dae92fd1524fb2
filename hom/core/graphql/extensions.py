"""Schema extensions: error codes and masking, per-operation metrics and log fields."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

import structlog
from graphql import GraphQLError, OperationDefinitionNode
from sqlalchemy.exc import StatementError
from strawberry.extensions import SchemaExtension

from hom.core.graphql.errors import TopLevelCode, error_code, rule_extensions
from hom.core.metrics import GRAPHQL_ERRORS, GRAPHQL_LATENCY, GRAPHQL_OPERATIONS, BoundedLabels
from hom.core.tracing import span
from hom.core.unavailable import UNAVAILABLE_DETAIL

MASKED_MESSAGE = "Internal server error"
SQL_MARK = "\n[SQL: "  # where SQLAlchemy starts spelling the statement and its parameters


def request_id_of(context: Any) -> str | None:
    return getattr(context, "request_id", None)


def internal_message(error: GraphQLError) -> str:
    """An unexpected error's message without SQL text or parameters: a database error is
    the driver's first line (the whole error is logged under the request id)."""
    original = error.original_error
    if isinstance(original, StatementError) and original.orig is not None:
        driver = str(original.orig).strip()
        return driver.splitlines()[0] if driver else type(original.orig).__name__
    return error.message.split(SQL_MARK, 1)[0]


class ErrorPolicy(SchemaExtension):
    """Gives every error a code; unexpected ones get the request id, and outside dev no
    internals (in dev, a message without SQL)."""

    def __init__(self, *, mask: bool) -> None:
        self.mask = mask

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            request_id = request_id_of(self.execution_context.context)
            result.errors = [self._present(error, request_id) for error in result.errors]

    def _present(self, error: GraphQLError, request_id: str | None) -> GraphQLError:
        code = error_code(error)
        extensions = {
            **(error.extensions or {}),
            **(rule_extensions(error.original_error) or {}),
            "code": code,
        }
        message = error.message
        if code == TopLevelCode.INTERNAL_SERVER_ERROR:
            extensions["request_id"] = request_id
            message = MASKED_MESSAGE if self.mask else internal_message(error)
        elif code == TopLevelCode.SERVICE_UNAVAILABLE:
            extensions["request_id"] = request_id
            message = UNAVAILABLE_DETAIL  # the driver's message names hosts and ports
        return GraphQLError(
            message,
            nodes=error.nodes,
            path=error.path,
            extensions=extensions,
            original_error=error.original_error,
        )


def operation_of(document: Any, name: str | None) -> OperationDefinitionNode | None:
    """The operation that runs: the named one, or the only one."""
    operations = [
        d for d in getattr(document, "definitions", ()) if isinstance(d, OperationDefinitionNode)
    ]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((op for op in operations if op.name and op.name.value == name), None)


class OperationObserver(SchemaExtension):
    """Counts and times each operation, and labels the request's log line with it."""

    def __init__(self, *, labels: BoundedLabels) -> None:
        self.labels = labels

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        with span("graphql.operation") as current:
            yield
            self._observe(time.perf_counter() - started, current)

    def _observe(self, seconds: float, current: Any) -> None:
        context = self.execution_context
        operation = operation_of(context.graphql_document, context.operation_name)
        errors = context.result.errors if context.result else None
        observe_operation(
            self.labels, operation, context.operation_name, seconds, errors or (), current
        )


def observe_operation(
    labels: BoundedLabels,
    operation: OperationDefinitionNode | None,
    operation_name: str | None,
    seconds: float,
    errors: Iterable[GraphQLError],
    current: Any,
) -> None:
    """Count and time one operation, name its span, label the request's log line."""
    name = operation.name.value if operation and operation.name else operation_name
    kind = operation.operation.value if operation else "unknown"
    label = labels(name)
    structlog.contextvars.bind_contextvars(operation=name or label, operation_type=kind)
    GRAPHQL_OPERATIONS.labels(label, kind).inc()
    GRAPHQL_LATENCY.labels(label, kind).observe(seconds)
    if current is not None:
        current.update_name(f"{kind} {name or label}")
        current.set_attributes(
            {"graphql.operation.name": name or "", "graphql.operation.type": kind}
        )
    for error in errors:
        GRAPHQL_ERRORS.labels(label, error_code(error)).inc()

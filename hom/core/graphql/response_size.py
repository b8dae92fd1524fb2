"""MAX_RESPONSE_BYTES: an answer that would exceed it is refused, not built in full.

Both read paths count a lower bound of the body's size while they build it and stop
as soon as that is over the limit: the compiled path the JSON text PostgreSQL returns,
statement by statement, before the body is assembled; the executor the text of the
leaf values it completes (`SizedExecution`: one addition per scalar, no resolver
wrapped). Neither bound can exceed the final body, so a stop never refuses an answer
that would have fitted; the encoded body is then measured exactly (keys and cursors
included) on both paths, and both refuse with the same error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from graphql import ExecutionResult, GraphQLLeafType

from hom.core.graphql.errors import CodedError, TopLevelCode
from hom.core.graphql.plain_objects import PlainObjectExecution


def response_too_large(max_bytes: int) -> CodedError:
    return CodedError(
        f"The response would exceed {max_bytes} bytes; ask for fewer objects or fields",
        TopLevelCode.QUERY_TOO_COMPLEX,
        maxResponseBytes=max_bytes,
    )


def refusal_body(max_bytes: int, extensions: Mapping[str, Any] | None) -> bytes:
    """The body that refuses an answer too large (the cost report kept)."""
    body: dict[str, Any] = {"data": None, "errors": [response_too_large(max_bytes).formatted]}
    if extensions:
        body["extensions"] = extensions
    return orjson.dumps(body)


def bounded(body: bytes, max_bytes: int, extensions: Mapping[str, Any] | None) -> bytes:
    """The encoded answer, or its refusal when it is over the limit."""
    return body if len(body) <= max_bytes else refusal_body(max_bytes, extensions)


_complete_leaf = PlainObjectExecution.complete_leaf_value


class TooLarge(Exception):
    """Raised where a leaf would take the answer over the limit (every later leaf too)."""


class SizedExecution(PlainObjectExecution):
    """graphql-core's execution that stops completing values once their text alone is
    over `max_bytes`, and then answers with the refusal instead of partial data."""

    max_bytes = 10 * 1024 * 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.leaf_bytes = 0

    def complete_leaf_value(self, return_type: GraphQLLeafType, result: Any) -> Any:  # type: ignore[override]
        value = _complete_leaf(return_type, result)
        self.leaf_bytes += len(value) + 2 if type(value) is str else 1
        if self.leaf_bytes > self.max_bytes:
            raise TooLarge
        return value

    def mark(self) -> int:
        return self.leaf_bytes

    def rewind(self, mark: int) -> None:
        self.leaf_bytes = mark

    def build_response(self, data: dict[str, Any] | None) -> Any:
        response = super().build_response(data)
        if self.leaf_bytes > self.max_bytes:
            return ExecutionResult(None, [response_too_large(self.max_bytes)])
        return response


def sized_execution(max_bytes: int) -> type[SizedExecution]:
    """The execution context class of a schema whose answers stay under `max_bytes`."""
    return type("SizedExecution", (SizedExecution,), {"max_bytes": max_bytes})

"""Query limits: tokens at parse time, depth and aliases at validation (SPEC §5)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from functools import lru_cache
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    ValidationContext,
    ValidationRule,
    parse,
)
from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as alias_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator

from hom.core.graphql.errors import TopLevelCode

PARSE_CACHE_SIZE = 512


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def parse_limited(query: str, max_tokens: int) -> DocumentNode:
    """Parse once per distinct query text, refusing documents over the token limit."""
    return parse(query, max_tokens=max_tokens)


class LimitedParser(SchemaExtension):
    """Parses through the cache with the token limit (replaces ParserCache/MaxTokensLimiter).

    A document that fails to parse is left to Strawberry, which parses it again
    (same limit) inside its own error handling, so the error reaches the client
    like any other parse error.
    """

    def __init__(self, max_tokens: int) -> None:
        self.max_tokens = max_tokens

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.max_tokens
        if context.graphql_document is None and context.query:
            with suppress(GraphQLError):
                context.graphql_document = parse_limited(context.query, self.max_tokens)
        yield


class _CodingContext:
    """A validation context whose reported errors carry `QUERY_TOO_COMPLEX`."""

    def __init__(self, context: ValidationContext) -> None:
        self._context = context

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)

    def report_error(self, error: GraphQLError) -> None:
        error.extensions = {**(error.extensions or {}), "code": TopLevelCode.QUERY_TOO_COMPLEX}
        self._context.report_error(error)


def _coded(rule: type[ValidationRule]) -> type[ValidationRule]:
    """Wrap a Strawberry limit rule (which does its work in __init__) to code its errors."""

    class CodedRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            rule(_CodingContext(context))  # type: ignore[arg-type]

    CodedRule.__name__ = f"Coded{rule.__name__}"
    return CodedRule


def complexity_rules(max_depth: int, max_aliases: int) -> list[type[ASTValidationRule]]:
    """Depth and alias limits as validation rules, so nothing runs when they fail.

    Build them once per schema: the validation cache is keyed by the rule classes.
    """
    return [
        _coded(depth_validator(max_depth, should_ignore=None)),
        _coded(alias_validator(max_aliases)),
    ]

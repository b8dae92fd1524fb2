"""Query limits: tokens at parse time, depth and aliases at validation (SPEC §5)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from graphql import DocumentNode, GraphQLError, ValidationContext, ValidationRule, parse
from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as alias_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator

from hom.core.errors import TopLevelCode, query_too_complex

PARSE_CACHE_SIZE = 512
_TOKEN_LIMIT_MARK = "tokens. Parsing aborted"


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def parse_limited(query: str, max_tokens: int) -> DocumentNode:
    """Parse once per distinct query text; too many tokens is QUERY_TOO_COMPLEX."""
    try:
        return parse(query, max_tokens=max_tokens, no_location=False)
    except GraphQLError as error:
        if _TOKEN_LIMIT_MARK in error.message:
            raise query_too_complex(
                f"The query has more than {max_tokens} tokens"
            ) from None
        raise


class LimitedParser(SchemaExtension):
    """Parses through the cache with the token limit (replaces ParserCache/MaxTokensLimiter)."""

    def __init__(self, max_tokens: int) -> None:
        self.max_tokens = max_tokens

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
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


def complexity_rules(max_depth: int, max_aliases: int) -> list[type[ValidationRule]]:
    """Depth and alias limits as validation rules, so nothing runs when they fail.

    Build them once per schema: the validation cache is keyed by the rule classes.
    """
    return [
        _coded(depth_validator(max_depth, should_ignore=None)),
        _coded(alias_validator(max_aliases)),
    ]

"""Query limits: tokens at parse time, depth and aliases at validation (SPEC §5).

Parsed documents, with their validation results, are cached per query text in a cache
bounded in bytes (hom.core.graphql.caches), not only in entries.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
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
from strawberry.schema.schema import validate_document

from hom.core.graphql.caches import Lru, document_weight
from hom.core.graphql.errors import TopLevelCode


@dataclass
class Parsed:
    """A document parsed once, and its validation errors per set of rules."""

    document: DocumentNode
    validations: dict[tuple[type[ASTValidationRule], ...], list[GraphQLError]] = field(
        default_factory=dict
    )


# Process-wide, like the functools.lru_cache it replaces: the text is the key.
PARSED: Lru[tuple[str, int], Parsed] = Lru()


def parsed(query: str, max_tokens: int) -> Parsed:
    """Parse once per distinct query text, refusing documents over the token limit."""
    key = (query, max_tokens)
    found = PARSED.get(key)
    if found is None:
        document = parse(query, max_tokens=max_tokens)
        found = PARSED.put(key, Parsed(document), document_weight(query, document))
    return found


def parse_limited(query: str, max_tokens: int) -> DocumentNode:
    return parsed(query, max_tokens).document


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


class CachedValidation(SchemaExtension):
    """Validates a cached document once per set of rules, keeping the result with it
    (Strawberry's ValidationCache keys an lru_cache on the document, which kept 512
    documents alive whatever their size)."""

    def __init__(self, max_tokens: int) -> None:
        self.max_tokens = max_tokens

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        entry = PARSED.get((context.query, self.max_tokens)) if context.query else None
        if entry is not None and entry.document is not document:
            entry = None  # not the document this request runs
        rules = tuple(context.validation_rules)
        errors = entry.validations.get(rules) if entry is not None else None
        if errors is None and document is not None:
            errors = validate_document(context.schema._schema, document, rules)
            if entry is not None:
                entry.validations[rules] = errors
        context.pre_execution_errors = errors
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

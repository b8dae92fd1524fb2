"""Query limits: tokens at parse time, depth and aliases at validation (SPEC §5).

Parsed documents, with their validation results, are cached per query text in a cache
bounded in bytes (hom.core.graphql.caches), not only in entries. Both read paths validate
with the schema's one tuple of rules (`validation_rules`), through `validation_errors`:
a document is validated once per schema, and a query the compiled path leaves to the
executor is not validated again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    NoSchemaIntrospectionCustomRule,
    ValidationContext,
    ValidationRule,
    parse,
    specified_rules,
)
from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as alias_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator
from strawberry.schema.schema import validate_document

from hom.core.config import Settings
from hom.core.graphql.caches import Lru, document_weight
from hom.core.graphql.errors import TopLevelCode
from hom.core.graphql.inputs import checked_rules

Rules = tuple[type[ASTValidationRule], ...]


@dataclass
class Parsed:
    """A document parsed once, and its validation errors per schema and set of rules
    (a schema no longer used takes its results with it)."""

    document: DocumentNode
    validations: WeakKeyDictionary[GraphQLSchema, dict[Rules, list[GraphQLError]]] = field(
        default_factory=WeakKeyDictionary
    )


# Process-wide, like the functools.lru_cache it replaces: the text is the key.
PARSED: Lru[tuple[str, int], Parsed] = Lru()
# Within `request_documents`: what this request parsed, kept to its end even when too
# heavy for PARSED (the executor answering after the compiled path reuses it).
_REQUEST: ContextVar[dict[tuple[str, int], Parsed] | None] = ContextVar(
    "hom_request_documents", default=None
)


@contextmanager
def request_documents() -> Iterator[None]:
    """The scope of one request (within an enclosing scope, a test's asking two apps the
    same question, that one): a document it parsed is parsed and validated only once."""
    if _REQUEST.get() is not None:
        yield
        return
    token = _REQUEST.set({})
    try:
        yield
    finally:
        _REQUEST.reset(token)


def parsed(query: str, max_tokens: int) -> Parsed:
    """Parse once per distinct query text, refusing documents over the token limit."""
    key = (query, max_tokens)
    found = known(query, max_tokens)
    if found is None:
        document = parse(query, max_tokens=max_tokens)
        found = PARSED.put(key, Parsed(document), document_weight(query, document))
        kept = _REQUEST.get()
        if kept is not None:
            kept[key] = found
    return found


def known(query: str, max_tokens: int) -> Parsed | None:
    """The document already parsed from `query`, if it is still kept."""
    key = (query, max_tokens)
    found = PARSED.get(key)
    if found is None:
        kept = _REQUEST.get()
        found = kept.get(key) if kept is not None else None
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


def validation_rules(settings: Settings) -> Rules:
    """The schema's rules, for both read paths (build them once per schema): graphql-core's,
    the depth and alias limits, this server's input checks, and no introspection in prod."""
    rules = checked_rules((*specified_rules, *complexity_rules(settings)))
    return (*rules, NoSchemaIntrospectionCustomRule) if settings.is_prod else rules


def validation_errors(schema: GraphQLSchema, entry: Parsed, rules: Rules) -> list[GraphQLError]:
    """What validating `entry`'s document against `schema` with `rules` (and the rules
    Strawberry adds) found, computed once and kept with the document."""
    found = entry.validations.setdefault(schema, {})
    errors = found.get(rules)
    if errors is None:
        errors = found[rules] = validate_document(schema, entry.document, rules)
    return errors


class CachedValidation(SchemaExtension):
    """Validates with the schema's rules, once per document, keeping the result with it
    (Strawberry's ValidationCache keys an lru_cache on the document, which kept 512
    documents alive whatever their size)."""

    def __init__(self, max_tokens: int, rules: Rules) -> None:
        self.max_tokens = max_tokens
        self.rules = rules

    def on_operation(self) -> Iterator[None]:
        self.execution_context.validation_rules = self.rules
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        entry = known(context.query, self.max_tokens) if context.query else None
        schema = context.schema._schema
        if entry is not None and entry.document is document:
            context.pre_execution_errors = validation_errors(schema, entry, self.rules)
        elif document is not None:  # not the document this request runs
            context.pre_execution_errors = validate_document(schema, document, self.rules)
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


def complexity_rules(settings: Settings) -> Rules:
    """Depth and alias limits as validation rules, so nothing runs when they fail."""
    return (
        _coded(depth_validator(settings.max_query_depth, should_ignore=None)),
        _coded(alias_validator(settings.max_aliases)),
    )

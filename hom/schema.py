"""The one Strawberry schema, assembled from the domains' query and mutation mixins."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import strawberry
import structlog
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from hom.accounts.schema import AccountsMutation, AccountsQuery
from hom.audit.schema import AuditQuery
from hom.core.config import Settings
from hom.core.errors import TopLevelCode
from hom.core.graphql_extensions import ErrorPolicy, OperationObserver, error_code
from hom.core.limits import LimitedParser, complexity_rules
from hom.core.metrics import operation_labels
from hom.core.scalars import SCALAR_MAP
from hom.core.schema_info import CoreQuery

log = structlog.get_logger("hom.graphql")


@strawberry.type
class Query(AccountsQuery, AuditQuery, CoreQuery):
    """All read operations."""


@strawberry.type
class Mutation(AccountsMutation):
    """All write operations."""


class HomSchema(strawberry.Schema):
    """Logs only unexpected errors (with traceback); client errors are not server faults."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            code = error_code(error)
            if code == TopLevelCode.INTERNAL_SERVER_ERROR:
                log.error("unexpected error", path=error.path, exc_info=error.original_error)
            elif code == TopLevelCode.SERVICE_UNAVAILABLE:
                cause = type(error.original_error).__name__
                log.warning("backing service unavailable", path=error.path, error=cause)


def schema_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """The request pipeline: observe, code errors, parse and validate with limits and caches.

    Factories, not instances: Strawberry gives each request its own extension objects.
    """
    rules = complexity_rules(settings.max_query_depth, settings.max_aliases)
    extensions: list[Callable[[], SchemaExtension]] = [
        partial(OperationObserver, labels=operation_labels(settings.prometheus_multiproc_dir)),
        partial(ErrorPolicy, mask=settings.is_prod),
        partial(LimitedParser, max_tokens=settings.max_tokens),
        partial(AddValidationRules, rules),
        partial(ValidationCache, maxsize=512),
    ]
    if settings.is_prod:
        extensions.append(DisableIntrospection)
    return extensions


def build_schema(
    settings: Settings, query: type[Any] = Query, mutation: type[Any] | None = Mutation
) -> HomSchema:
    return HomSchema(
        query=query,
        mutation=mutation,
        extensions=schema_extensions(settings),
        config=StrawberryConfig(disable_field_suggestions=settings.is_prod, scalar_map=SCALAR_MAP),
    )


def sdl() -> str:
    """The schema as SDL, as checked in at `schema.graphql`."""
    from hom.core.config import Settings

    return build_schema(Settings()).as_str() + "\n"

"""The Strawberry schema class and its request pipeline (extensions, limits, caches)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any, TypeAlias

import strawberry
import structlog
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from hom.core.config import Settings
from hom.core.graphql.cost import CostLimit
from hom.core.graphql.errors import TopLevelCode, error_code
from hom.core.graphql.extensions import ErrorPolicy, OperationObserver
from hom.core.graphql.inputs import CheckedInputs
from hom.core.graphql.limits import CachedValidation, LimitedParser, Rules, validation_rules
from hom.core.graphql.response_size import sized_execution
from hom.core.graphql.scalars import SCALAR_MAP
from hom.core.metrics import BoundedLabels, operation_labels

if TYPE_CHECKING:
    from strawberry.directive import StrawberryDirective
    from strawberry.types.base import StrawberryObjectDefinition
    from strawberry.types.enum import StrawberryEnumDefinition
    from strawberry.types.scalar import ScalarDefinition
    from strawberry.types.union import StrawberryUnion

    TypeDefinition: TypeAlias = (
        StrawberryObjectDefinition | ScalarDefinition | StrawberryEnumDefinition | StrawberryUnion
    )

log = structlog.get_logger("hom.graphql")


class HomSchema(strawberry.Schema):
    """Logs only unexpected errors (with traceback); client errors are not server faults.
    Subscriptions are served over websockets only (`stream`), never as one HTTP answer."""

    operation_labels: BoundedLabels
    validation_rules: Rules  # both read paths validate with these (hom.core.graphql.limits)

    # Strawberry caches these two lookups in class-wide lru_caches keyed by the schema,
    # which keep up to 128 schemas (and all they reach) alive in a process that builds
    # several: the tests build one per app. Neither lookup is worth a cache.
    def get_type_by_name(self, name: str) -> TypeDefinition | None:  # type: ignore[override]
        found = self.schema_converter.type_map.get(name)
        return found.definition if found else None

    def get_directive_by_name(  # type: ignore[override]
        self, graphql_name: str
    ) -> StrawberryDirective[Any] | None:
        convert = self.config.name_converter.from_directive
        return next((d for d in self.directives if convert(d) == graphql_name), None)

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        allowed = set(allowed_operation_types or DEFAULT_ALLOWED_OPERATION_TYPES)
        return await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed - {OperationType.SUBSCRIPTION},
            operation_extensions,
        )

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


def schema_extensions(
    settings: Settings, labels: BoundedLabels, rules: Rules
) -> list[Callable[[], SchemaExtension]]:
    """The request pipeline: observe, code errors, parse and validate with limits and caches
    (`rules`: no introspection in prod), price the operation before it runs. Internal error
    messages are masked outside dev.

    Factories, not instances: Strawberry gives each request its own extension objects.
    """
    return [
        partial(OperationObserver, labels=labels),
        partial(ErrorPolicy, mask=not settings.is_dev),
        partial(LimitedParser, max_tokens=settings.max_tokens),
        partial(CachedValidation, max_tokens=settings.max_tokens, rules=rules),
        CheckedInputs,
        partial(CostLimit, limit=settings.query_cost_limit),
    ]


def make_schema(
    settings: Settings,
    query: type[Any],
    mutation: type[Any] | None,
    types: Iterable[type[Any]] = (),
    subscription: type[Any] | None = None,
) -> HomSchema:
    labels = operation_labels(settings.prometheus_multiproc_dir)
    rules = validation_rules(settings)
    schema = HomSchema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        types=list(types),
        extensions=schema_extensions(settings, labels, rules),
        config=StrawberryConfig(disable_field_suggestions=settings.is_prod, scalar_map=SCALAR_MAP),
        execution_context_class=sized_execution(settings.max_response_bytes),
    )
    schema.operation_labels = labels  # the compiled read path counts operations here too
    schema.validation_rules = rules
    return schema

"""The compiled read path: a POSTed query the declarations cover is answered here,
without Strawberry's executor; anything else (or anything that goes wrong) returns
None and the normal view answers it, errors and all.

Per request, on a warm cache: the JSON body, one dictionary lookup for the document,
the viewer (only when the plan needs the reader), a second lookup for the plan of
this role and these variables, one statement per database-backed root field (run
on a pooled connection with no transaction around it) and `orjson.dumps` around the
JSON PostgreSQL built.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson
import structlog
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    specified_rules,
    validate,
)
from graphql.execution.collect_fields import FragmentDetails
from graphql.execution.values import VariableValues, get_variable_values
from sqlalchemy.ext.asyncio import AsyncEngine

from hom.core.graphql.compiled.collect import Selection, fragment_details
from hom.core.graphql.compiled.errors import ExecutorOnly, NotPlannable
from hom.core.graphql.compiled.mapping import SOURCE, StaticSource
from hom.core.graphql.compiled.plan import OperationPlan, Planner
from hom.core.graphql.extensions import observe_operation, operation_of
from hom.core.graphql.inputs import checked_rules, nul_variable
from hom.core.graphql.limits import complexity_rules, parse_limited
from hom.core.metrics import COMPILED_FALLBACKS, BoundedLabels
from hom.core.row_reads import pooled_driver, statement_span
from hom.core.tracing import span
from hom.core.viewer import ANONYMOUS, Reader

CACHE_SIZE = 512
# Larger documents and variables are planned every time, not kept: 512 entries of a
# megabyte each (the body limit) would be a way to fill a worker's memory.
MAX_CACHED_BYTES = 16_384
_BACKREF = "strawberry-definition"
log = structlog.get_logger("hom.graphql.compiled")
KeyT = TypeVar("KeyT", bound=Hashable)
ValueT = TypeVar("ValueT")


class Lru(Generic[KeyT, ValueT]):
    """A small least-recently-used map (unlike functools.lru_cache, its misses may be
    computed by async code and failures cached as None)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[KeyT, ValueT] = OrderedDict()

    def get(self, key: KeyT) -> ValueT | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: KeyT, value: ValueT, *, keep: bool = True) -> ValueT:
        if not keep:
            return value
        self._items[key] = value
        if len(self._items) > self.size:
            self._items.popitem(last=False)
        return value


@dataclass(frozen=True)
class Document:
    """A valid query operation of one document; `reads` when planning needs the reader."""

    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDetails]
    reads: bool


_REFUSED = object()  # cached: this document (or plan) goes to the executor


class CompiledReads:
    """Answers plannable queries; see the module doc."""

    def __init__(
        self,
        schema: Any,
        engine: AsyncEngine,
        settings: Any,
        features: Any,
        labels: BoundedLabels,
    ) -> None:
        self.schema = schema
        self.engine = engine
        self.settings = settings
        self.labels = labels
        self.features = features
        self.planner = Planner(schema, engine.dialect, settings, features)
        self.rules = [
            *checked_rules(specified_rules),
            *complexity_rules(settings.max_query_depth, settings.max_aliases),
        ]
        self.documents: Lru[tuple[str, str | None], Any] = Lru(CACHE_SIZE)
        self.plans: Lru[tuple[Any, ...], Any] = Lru(CACHE_SIZE)
        self.answered = 0  # requests this path answered (tests tell the paths apart by it)
        self.fallbacks: deque[str] = deque(maxlen=100)  # the latest unexpected fallbacks
        self.enabled = True  # tests turn it off to ask the executor the same question

    def document(self, query: str, operation_name: str | None) -> Document | None:
        key = (query, operation_name)
        found = self.documents.get(key)
        if found is None:
            prepared = self._prepare(query, operation_name) or _REFUSED
            found = self.documents.put(key, prepared, keep=len(query) <= MAX_CACHED_BYTES)
        return None if found is _REFUSED else found

    def _prepare(self, query: str, operation_name: str | None) -> Document | None:
        try:
            document = parse_limited(query, self.settings.max_tokens)
        except GraphQLError:
            return None
        operation = operation_of(document, operation_name)
        if operation is None or operation.operation is not OperationType.QUERY:
            return None
        if validate(self.schema._schema, document, self.rules):
            return None
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        return Document(operation, fragment_details(fragments), self._reads(operation))

    def _reads(self, operation: OperationDefinitionNode) -> bool:
        """Whether any root field (under any directive) may need the reader."""
        query_type = self.schema._schema.query_type
        for node in operation.selection_set.selections:
            if not isinstance(node, FieldNode):
                return True
            name = node.name.value
            definition = query_type.fields.get(name)
            field = (definition.extensions or {}).get(_BACKREF) if definition else None
            if name != "__typename" and not isinstance(
                getattr(field, "metadata", {}).get(SOURCE), StaticSource
            ):
                return True
        return False

    async def answer(self, payload: Any, context: Any) -> bytes | None:
        """The response body, or None: the executor answers this one."""
        if (
            not self.enabled
            or not isinstance(payload, dict)
            or not isinstance(payload.get("query"), str)
        ):
            return None
        operation_name = payload.get("operationName")
        inputs = payload.get("variables")
        inputs = {} if inputs is None else inputs
        # Members of the wrong type are the executor's 400, not something to guess at.
        if not isinstance(inputs, dict) or not _optional(operation_name, str):
            return None
        if not _optional(payload.get("extensions"), dict) or nul_variable(inputs):
            return None
        document = self.document(payload["query"], operation_name)
        if document is None:
            return None
        started = time.perf_counter()
        with span("graphql.operation") as current:
            try:
                body = await self._run(document, payload["query"], operation_name, inputs, context)
            except Exception as error:  # the executor answers, with the error where it belongs
                log.debug("compiled read left to the executor", error=type(error).__name__)
                return None
            if body is not None:
                self.answered += 1
                seconds = time.perf_counter() - started
                observe_operation(
                    self.labels, document.operation, operation_name, seconds, (), current
                )
        return body

    async def _run(
        self,
        document: Document,
        query: str,
        operation_name: str | None,
        inputs: dict[str, Any],
        context: Any,
    ) -> bytes | None:
        variables = self._variables(document, inputs)
        if variables is None:
            return None
        if document.reads and self.features.pg_trgm is None:
            return None  # the executor learns them (the database was away at start-up)
        reader: Reader = await context.reader() if document.reads else ANONYMOUS
        variables_key = _variables_key(inputs)
        key = (query, operation_name, variables_key, reader.role, reader.is_admin)
        plan = self.plans.get(key)
        if plan is None:
            planned = self._plan(document, variables, reader) or _REFUSED
            small = len(query) + len(variables_key) <= MAX_CACHED_BYTES
            plan = self.plans.put(key, planned, keep=small)
        if plan is _REFUSED:
            return None
        return await self._execute(plan, reader)

    def _variables(self, document: Document, inputs: dict[str, Any]) -> VariableValues | None:
        coerced = get_variable_values(
            self.schema._schema, document.operation.variable_definitions or (), inputs
        )
        return coerced if isinstance(coerced, VariableValues) else None

    def _plan(
        self, document: Document, variables: VariableValues, reader: Reader
    ) -> OperationPlan | None:
        selection = Selection(
            self.schema._schema, document.operation, document.fragments, variables
        )
        try:
            return self.planner.plan(document.operation, selection, variables, reader)
        except ExecutorOnly as reason:
            log.debug("left to the executor", reason=str(reason))
            return None
        except NotPlannable as reason:
            self._fell_back(document, str(reason))
            return None

    def _fell_back(self, document: Document, reason: str) -> None:
        """A gap in the declarations: counted, logged once per plan, kept for the tests."""
        name = document.operation.name.value if document.operation.name else None
        COMPILED_FALLBACKS.labels(reason[:200]).inc()
        log.warning("a plannable query fell back to the executor", reason=reason, operation=name)
        self.fallbacks.append(reason)

    async def _execute(self, plan: OperationPlan, reader: Reader) -> bytes:
        data: dict[str, Any] = {}
        if not plan.statements:
            for step in plan.steps:
                data[step.key] = step.shape(None)
            return orjson.dumps({"data": data})
        async with pooled_driver(self.engine) as driver:
            # One statement per step, each its own snapshot: no BEGIN/ROLLBACK around reads.
            for step in plan.steps:
                rows = None
                if step.statement is not None:
                    sql, arguments = step.statement.sql, step.statement.arguments(reader.user_id)
                    with statement_span("SELECT compiled", sql):
                        rows = await driver.fetch(sql, *arguments)
                data[step.key] = step.shape(rows)
        return orjson.dumps({"data": data})


def _optional(value: Any, type_: type) -> bool:
    return value is None or isinstance(value, type_)


def _variables_key(inputs: dict[str, Any]) -> bytes:
    return orjson.dumps(inputs, option=orjson.OPT_SORT_KEYS) if inputs else b""


Answer = Callable[[Any, Any], Any]

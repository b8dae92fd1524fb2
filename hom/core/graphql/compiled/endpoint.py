"""The compiled read path: a POSTed query the declarations cover is answered here,
without Strawberry's executor; anything else (or anything that goes wrong) returns
None and the normal view answers it, errors and all.

Per request, on a warm cache: the JSON body, one dictionary lookup for the document,
the viewer (only when the plan needs the reader), a second lookup for the plan of
this role and these variables, one statement per database-backed root field (run
on a pooled connection with no transaction around it; a computed field runs its
function there) and `orjson.dumps` around the JSON PostgreSQL built.

Each plan carries the operation's cost (hom.core.graphql.cost), priced once when it is
planned: over QUERY_COST_LIMIT the plan is a refusal, answered without a statement.
The text PostgreSQL returns is counted as each statement's rows come in, and the
answer refused (hom.core.graphql.response_size) once it is over MAX_RESPONSE_BYTES.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import structlog
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
)
from graphql.execution.collect_fields import FragmentDetails
from graphql.execution.values import VariableValues, get_variable_values
from sqlalchemy.ext.asyncio import AsyncEngine

from hom.core.graphql.caches import Lru, document_weight
from hom.core.graphql.compiled.collect import Selection, fragment_details
from hom.core.graphql.compiled.errors import ExecutorOnly, NotPlannable
from hom.core.graphql.compiled.mapping import SOURCE, ComputedSource, StaticSource
from hom.core.graphql.compiled.plan import OperationPlan, Planner
from hom.core.graphql.cost import cost_extension, operation_cost, too_costly
from hom.core.graphql.extensions import observe_operation, operation_of
from hom.core.graphql.inputs import nul_variable
from hom.core.graphql.limits import parsed, validation_errors
from hom.core.graphql.permissions import Public
from hom.core.graphql.response_size import bounded, refusal_body
from hom.core.metrics import COMPILED_FALLBACKS, BoundedLabels
from hom.core.row_reads import pooled_driver, statement_span
from hom.core.tracing import span
from hom.core.viewer import ANONYMOUS, Reader

_BACKREF = "strawberry-definition"
log = structlog.get_logger("hom.graphql.compiled")


@dataclass(frozen=True)
class Document:
    """A valid query operation of one document; `reads` when planning needs the reader;
    `weight` what keeping it costs (hom.core.graphql.caches)."""

    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDetails]
    reads: bool
    weight: int


@dataclass(frozen=True)
class Priced:
    """A plan (None: the executor answers) and the operation's cost."""

    plan: OperationPlan | None
    cost: int


_REFUSED = object()  # cached: this document goes to the executor


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
        self.rules = schema.validation_rules  # the executor's: one validation serves both
        # Keyed by the full text; bounded in bytes (documents too heavy are not kept).
        self.documents: Lru[tuple[str, str | None], Any] = Lru()
        self.plans: Lru[tuple[Any, ...], Any] = Lru()
        self.answered = 0  # requests this path answered (tests tell the paths apart by it)
        self.fallbacks: deque[str] = deque(maxlen=100)  # the latest unexpected fallbacks
        self.enabled = True  # tests turn it off to ask the executor the same question

    def document(self, query: str, operation_name: str | None) -> Document | None:
        key = (query, operation_name)
        found = self.documents.get(key)
        if found is None:
            prepared = self._prepare(query, operation_name)
            weight = prepared.weight if prepared is not None else len(query)
            found = self.documents.put(key, prepared or _REFUSED, weight)
        return None if found is _REFUSED else found

    def _prepare(self, query: str, operation_name: str | None) -> Document | None:
        try:
            entry = parsed(query, self.settings.max_tokens)
        except GraphQLError:
            return None
        document = entry.document
        operation = operation_of(document, operation_name)
        if operation is None or operation.operation is not OperationType.QUERY:
            return None
        if validation_errors(self.schema._schema, entry, self.rules):
            return None
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        weight = document_weight(query, document)
        return Document(operation, fragment_details(fragments), self._reads(operation), weight)

    def _reads(self, operation: OperationDefinitionNode) -> bool:
        """Whether any root field (under any directive) may need the reader."""
        query_type = self.schema._schema.query_type
        for node in operation.selection_set.selections:
            if not isinstance(node, FieldNode):
                return True
            name = node.name.value
            definition = query_type.fields.get(name)
            field = (definition.extensions or {}).get(_BACKREF) if definition else None
            if name != "__typename" and not _same_for_everyone(field):
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
        priced = self.plans.get(key)
        if priced is None:
            priced = self._price(document, variables, reader)
            priced = self.plans.put(key, priced, document.weight + len(variables_key))
        extensions = cost_extension(priced.cost, self.settings.query_cost_limit)
        refusal = too_costly(priced.cost, self.settings.query_cost_limit)
        if refusal is not None:
            body = {"data": None, "errors": [refusal.formatted], "extensions": extensions}
            return orjson.dumps(body)
        if priced.plan is None:
            return None
        return await self._execute(priced.plan, reader, extensions)

    def _price(self, document: Document, variables: VariableValues, reader: Reader) -> Priced:
        cost = operation_cost(
            self.schema._schema, document.fragments, document.operation, variables
        )
        if cost > self.settings.query_cost_limit:
            return Priced(None, cost)  # refused: not worth planning
        return Priced(self._plan(document, variables, reader), cost)

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

    async def _execute(
        self, plan: OperationPlan, reader: Reader, extensions: dict[str, Any]
    ) -> bytes:
        max_bytes = self.settings.max_response_bytes
        data: dict[str, Any] = {}
        if not plan.reads:
            for step in plan.steps:
                data[step.key] = step.shape(None)
            return _body(data, extensions, max_bytes)
        received = 0
        async with pooled_driver(self.engine) as driver:
            # One statement per step, each its own snapshot: no BEGIN/ROLLBACK around reads.
            for step in plan.steps:
                rows = None
                if step.compute is not None:
                    rows = await step.compute(driver)  # its value (bounded by `_body`)
                elif step.statement is not None:
                    sql, arguments = step.statement.sql, step.statement.arguments(reader.user_id)
                    with statement_span("SELECT compiled", sql):
                        rows = await driver.fetch(sql, *arguments)
                    received += _text_length(rows)
                    if received > max_bytes:  # the body holds all that text, and more
                        return refusal_body(max_bytes, extensions)
                data[step.key] = step.shape(rows)
        return _body(data, extensions, max_bytes)


def _same_for_everyone(field: Any) -> bool:
    """A root field whose answer needs no reader: a static or computed value, public."""
    source = getattr(field, "metadata", {}).get(SOURCE)
    permissions = getattr(field, "permission_classes", [])
    readerless = isinstance(source, StaticSource | ComputedSource)
    return readerless and all(permission is Public for permission in permissions)


def _body(data: dict[str, Any], extensions: dict[str, Any], max_bytes: int) -> bytes:
    return bounded(orjson.dumps({"data": data, "extensions": extensions}), max_bytes, extensions)


def _text_length(rows: Any) -> int:
    """The characters of JSON text in the rows' first column (one per row or page item)."""
    return sum(len(row[0]) for row in rows if isinstance(row[0], str))


def _optional(value: Any, type_: type) -> bool:
    return value is None or isinstance(value, type_)


def _variables_key(inputs: dict[str, Any]) -> bytes:
    return orjson.dumps(inputs, option=orjson.OPT_SORT_KEYS) if inputs else b""


Answer = Callable[[Any, Any], Any]

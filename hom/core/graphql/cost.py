"""What one operation may cost, computed from the document before anything runs (SPEC §5).

The model counts the objects an answer can hold:

- a field whose type is a scalar or an enum costs 0;
- a field whose type is an object, an interface or a union costs `m * (1 + c)`, where
  `c` is the cost of its own selection (for an abstract type, the dearest of its
  possible types) and `m` how many of it one parent can return:
  - a connection (a field with a `first` argument): `first`, or `last` when it pages
    backward, 20 when neither is given (`DEFAULT_PAGE_SIZE`), clamped to 0…100 (larger
    values are refused by the field itself, as BAD_USER_INPUT);
  - any other list: the estimate declared in its field's metadata (`estimate(n)`), so
    an unpaged list such as `Category.children` says how long it usually is; a test
    fails when a list of objects declares neither (a connection's `edges` declares 1:
    its `first` already counted them, and so does its `nodes`);
  - a single object: 1;
- `__typename` and introspection (`__schema`, `__type`) cost 0.

So `products(first: 50) { edges { node { name category { name } } } }` costs
50 * (1 + 1 * (1 + 1 * (1 + 1))) = 200: about the objects the answer can hold.

Fields are collected as graphql-core's executor collects them (fragments and inline
fragments expanded, `@skip`/`@include` applied with the coerced variables, fields of
the same response key merged), so aliases count once each and a skipped field is free.
Both read paths report the cost the same way, as Saleor does:
`extensions: {"cost": {"requestedQueryCost": N, "maximumAvailable": LIMIT}}`, and
refuse an operation over `QUERY_COST_LIMIT` with QUERY_TOO_COMPLEX before it runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    OperationDefinitionNode,
    get_named_type,
    get_nullable_type,
    is_abstract_type,
    is_leaf_type,
)
from graphql.execution.collect_fields import (
    FieldDetails,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from strawberry.extensions import SchemaExtension

from hom.core.graphql.caches import Lru
from hom.core.graphql.errors import CodedError, TopLevelCode
from hom.core.graphql.extensions import operation_of
from hom.core.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

ESTIMATE = "hom_cost_estimate"
_BACKREF = "strawberry-definition"  # where Strawberry keeps its field on graphql-core's


def estimate(count: int) -> dict[str, int]:
    """Field metadata: how many objects this unpaged list usually holds."""
    return {ESTIMATE: count}


def declared_estimate(definition: GraphQLField) -> int | None:
    field = (definition.extensions or {}).get(_BACKREF)
    count = getattr(field, "metadata", None) or {}
    value = count.get(ESTIMATE)
    return value if isinstance(value, int) else None


def is_paged(definition: GraphQLField) -> bool:
    return "first" in definition.args


def is_list(type_: GraphQLOutputType) -> bool:
    return isinstance(get_nullable_type(type_), GraphQLList)


class QueryCost:
    """The cost of one operation of a valid document with its coerced variables.

    A selection reached again (the same fragment spread under many fields) is priced
    once: the walk stays linear in the document, however its fragments nest.
    """

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode | FragmentDetails],
        operation: OperationDefinitionNode,
        variables: VariableValues,
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.variables = variables
        self.fragments = {
            name: node if isinstance(node, FragmentDetails) else FragmentDetails(node)
            for name, node in fragments.items()
        }
        self.priced: dict[tuple[str, tuple[int, ...]], int] = {}

    def total(self) -> int:
        root = self.schema.get_root_type(self.operation.operation)
        if root is None:
            return 0
        collected = collect_fields(
            self.schema, self.fragments, self.variables, root, self.operation
        ).grouped_field_set
        return self._fields(root, collected)

    def _fields(
        self, parent: GraphQLObjectType, grouped: Mapping[str, Sequence[FieldDetails]]
    ) -> int:
        total = 0
        for details in grouped.values():
            definition = parent.fields.get(details[0].node.name.value)
            if definition is not None:  # __typename and introspection meta fields
                total += self._field(definition, details)
        return total

    def _field(self, definition: GraphQLField, details: Sequence[FieldDetails]) -> int:
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            return 0
        types = self.schema.get_possible_types(named) if is_abstract_type(named) else [named]
        below = max((self._below(type_, details) for type_ in types), default=0)  # type: ignore[arg-type]
        return self._multiplier(definition, details[0]) * (1 + below)

    def _below(self, type_: GraphQLObjectType, details: Sequence[FieldDetails]) -> int:
        key = (type_.name, tuple(id(detail.node) for detail in details))
        found = self.priced.get(key)
        if found is None:
            grouped = collect_subfields(
                self.schema, self.fragments, self.variables, self.operation, type_, list(details)
            ).grouped_field_set
            found = self.priced[key] = self._fields(type_, grouped)
        return found

    def _multiplier(self, definition: GraphQLField, detail: FieldDetails) -> int:
        if is_paged(definition):
            arguments = get_argument_values(definition, detail.node, self.variables)
            size = arguments.get("first")
            if size is None:
                size = arguments.get("last")
            return DEFAULT_PAGE_SIZE if size is None else min(max(size, 0), MAX_PAGE_SIZE)
        if is_list(definition.type):
            return declared_estimate(definition) or 1
        return 1


def fragments_of(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def operation_cost(
    schema: GraphQLSchema,
    fragments: Mapping[str, FragmentDefinitionNode | FragmentDetails],
    operation: OperationDefinitionNode,
    variables: VariableValues,
) -> int:
    return QueryCost(schema, fragments, operation, variables).total()


def cost_extension(cost: int, limit: int) -> dict[str, Any]:
    """The response's `extensions` member that reports the cost."""
    return {"cost": {"requestedQueryCost": cost, "maximumAvailable": limit}}


def too_costly(cost: int, limit: int) -> CodedError | None:
    """The refusal of an operation over the limit, or None."""
    if cost <= limit:
        return None
    return CodedError(
        f"The query would cost {cost}, more than the limit of {limit}",
        TopLevelCode.QUERY_TOO_COMPLEX,
        cost=cost,
        limit=limit,
    )


# The executor's prices, per query text, operation and variables (pricing the catalog
# page takes ~0.2 ms; the compiled path keeps its price with its plan).
PRICES: Lru[tuple[str, str | None, bytes], int] = Lru()


class CostLimit(SchemaExtension):
    """The executor's side: prices the operation before it runs, refuses it over the
    limit (nothing is executed), and reports the cost in the response's extensions."""

    def __init__(self, *, limit: int) -> None:
        self.limit = limit
        self.cost: int | None = None

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        self.cost = self._price()
        refusal = None if self.cost is None else too_costly(self.cost, self.limit)
        if refusal is not None:
            context.result = ExecutionResult(data=None, errors=[refusal])
        yield

    def _price(self) -> int | None:
        context = self.execution_context
        try:
            variables = orjson.dumps(context.variables or {}, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:  # uploads: files among the variables
            return self._priced()
        if not context.query:
            return self._priced()
        key = (context.query, context.operation_name, variables)
        cost = PRICES.get(key)
        if cost is None:
            cost = self._priced()
            if cost is not None:
                PRICES.put(key, cost, len(context.query) + len(variables))
        return cost

    def _priced(self) -> int | None:
        """None when the variables do not fit (the executor reports that, unpriced)."""
        context = self.execution_context
        document = context.graphql_document
        operation = operation_of(document, context.operation_name)
        if document is None or operation is None:
            return None
        schema = context.schema._schema
        variables = get_variable_values(
            schema, operation.variable_definitions or (), context.variables or {}
        )
        if not isinstance(variables, VariableValues):
            return None
        try:
            return operation_cost(schema, fragments_of(document), operation, variables)
        except GraphQLError:  # a directive's argument refused: execution reports it, coded
            return None

    def get_results(self) -> dict[str, Any]:
        return {} if self.cost is None else cost_extension(self.cost, self.limit)


def unpriced_lists(schema: GraphQLSchema) -> list[str]:
    """`Type.field` of every list of objects that has neither `first` nor an estimate."""
    found = []
    for type_ in schema.type_map.values():
        if type_.name.startswith("__") or not isinstance(type_, GraphQLObjectType):
            continue
        for name, definition in type_.fields.items():
            objects = not is_leaf_type(get_named_type(definition.type))
            unpaged = is_list(definition.type) and not is_paged(definition)
            if objects and unpaged and declared_estimate(definition) is None:
                found.append(f"{type_.name}.{name}")
    return sorted(found)

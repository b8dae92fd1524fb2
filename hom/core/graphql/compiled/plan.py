"""An operation planned for one reader's role and one set of variables.

Each root field becomes a step: `__typename` and static objects are values known now;
a connection is one SQL statement (its rows' JSON built by PostgreSQL) and the Python
that wraps the rows in edges and `pageInfo`; a computed field is a call of its function
on the connection, whose value the selection shapes (hom.core.graphql.compiled.values).
Planning refuses (NotPlannable) anything the declarations do not cover; the executor
answers those.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import orjson
from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    OperationDefinitionNode,
    get_nullable_type,
)
from graphql.execution.values import VariableValues, get_argument_values
from sqlalchemy import case, select, true
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ColumnElement
from strawberry.types.arguments import convert_arguments

from hom.core.graphql.compiled.collect import Selection
from hom.core.graphql.compiled.errors import ExecutorOnly, Missing, NotPlannable
from hom.core.graphql.compiled.json_text import constant
from hom.core.graphql.compiled.mapping import (
    SOURCE,
    VIEWER_ID,
    ComputedSource,
    ConnectionSource,
    ListSource,
    RowSource,
    StaticSource,
)
from hom.core.graphql.compiled.objects import Scope, Walk, mapping_for, object_json
from hom.core.graphql.compiled.values import known_value, value_shape
from hom.core.graphql.permissions import HasRole, IsAuthenticated, Public
from hom.core.pagination import EMPTY_PAGE, PageQuery, SortKey, order_by_keys
from hom.core.viewer import Reader

_BACKREF = "strawberry-definition"


@dataclass(frozen=True)
class Statement:
    """SQL with positional parameters; `viewer_at` are the positions of the reader's id."""

    sql: str
    params: tuple[Any, ...]
    viewer_at: tuple[int, ...]

    def arguments(self, viewer_id: int | None) -> list[Any]:
        values = list(self.params)
        for position in self.viewer_at:
            values[position] = viewer_id
        return values


Shape = Callable[[Any], Any]  # the fetched rows (or nothing) → the field's JSON value
# asyncpg's connection → the computed value the shape takes instead of rows.
Compute = Callable[[Any], Awaitable[Any]]


@dataclass(frozen=True)
class Step:
    key: str
    statement: Statement | None
    shape: Shape
    compute: Compute | None = None


@dataclass(frozen=True)
class OperationPlan:
    steps: tuple[Step, ...]

    @property
    def reads(self) -> bool:
        """Whether a step needs the database (a statement, or a computed field)."""
        return any(step.statement or step.compute for step in self.steps)


@dataclass(frozen=True)
class Planner:
    """Plans root fields of the query type; `schema` is the Strawberry schema."""

    schema: Any
    dialect: Dialect
    settings: Any
    features: Any

    def plan(
        self,
        operation: OperationDefinitionNode,
        selection: Selection,
        raw: VariableValues,
        reader: Reader,
    ) -> OperationPlan:
        query_type = self.schema._schema.query_type
        walk = Walk(selection, reader)
        fields = selection.fields(query_type, [operation.selection_set])
        steps = [self._root(walk, query_type, key, nodes, raw) for key, nodes in fields.items()]
        return OperationPlan(tuple(steps))

    def _root(
        self,
        walk: Walk,
        query_type: GraphQLObjectType,
        key: str,
        nodes: list[FieldNode],
        raw: VariableValues,
    ) -> Step:
        name = nodes[0].name.value
        if name == "__typename":
            return Step(key, None, lambda _: query_type.name)
        definition = query_type.fields.get(name)
        if definition is None:  # __schema, __type
            raise ExecutorOnly(f"Query.{name}: introspection")
        field = (definition.extensions or {}).get(_BACKREF)
        source = getattr(field, "metadata", {}).get(SOURCE)
        permissions = getattr(field, "permission_classes", [])
        if source is None:
            raise ExecutorOnly(f"Query.{name}: no compiled source")
        if not all(allows(p, walk.reader) for p in permissions):
            raise ExecutorOnly(f"Query.{name}: refused")  # the executor says so, with its error
        type_ = get_nullable_type(definition.type)
        if isinstance(source, StaticSource):
            shape = value_shape(walk.selection, type_, nodes)
            known = known_value(shape, source.values(self.settings))
            return Step(key, None, _constant(known))
        arguments = self._arguments(field, definition, nodes[0], raw)
        if isinstance(source, ComputedSource):
            return self._computed(walk, key, definition, nodes, source, arguments)
        if isinstance(source, RowSource):
            required = isinstance(definition.type, GraphQLNonNull)
            return self._row(walk, key, type_, nodes, source, arguments, required)
        if isinstance(source, ListSource):
            return self._list(walk, key, definition, nodes, source, arguments)
        return self._connection(walk, key, type_, nodes, source, arguments)

    def _row(
        self,
        walk: Walk,
        key: str,
        type_: GraphQLObjectType,
        nodes: list[FieldNode],
        source: RowSource,
        arguments: dict[str, Any],
        required: bool,
    ) -> Step:
        statement = source.query(walk.reader, self.features, **arguments)
        if statement is None:
            if required:
                raise Missing
            return Step(key, None, _constant(None))
        scope = Scope(mapping_for(type_).table)
        built = self._visible_json(walk, type_, nodes, scope)
        statement = statement.with_only_columns(built).select_from(scope.rows)
        return Step(key, self._compiled(statement), _row_shape(required))

    def _list(
        self,
        walk: Walk,
        key: str,
        definition: GraphQLField,
        nodes: list[FieldNode],
        source: ListSource,
        arguments: dict[str, Any],
    ) -> Step:
        items = get_nullable_type(definition.type)
        if not isinstance(items, GraphQLList) or not isinstance(items.of_type, GraphQLNonNull):
            raise NotPlannable("a root list of nullable items")
        statement = source.query(walk.reader, self.features, **arguments)
        scope = Scope(mapping_for(items.of_type.of_type).table)
        built = self._visible_json(walk, items.of_type.of_type, nodes, scope)
        statement = statement.with_only_columns(built).select_from(scope.rows)
        return Step(key, self._compiled(statement), _list_shape)

    def _computed(
        self,
        walk: Walk,
        key: str,
        definition: GraphQLField,
        nodes: list[FieldNode],
        source: ComputedSource,
        arguments: dict[str, Any],
    ) -> Step:
        settings, compute = self.settings, source.compute

        async def computed(driver: Any) -> Any:
            return await compute(driver, settings, **arguments)

        return Step(key, None, value_shape(walk.selection, definition.type, nodes), computed)

    def _visible_json(
        self,
        walk: Walk,
        type_: GraphQLObjectType,
        nodes: list[FieldNode],
        scope: Scope,
        row: Any = None,
    ) -> ColumnElement[Any]:
        """The object's JSON text on `row` (by default the rows `scope` starts with); null
        where the reader may not see it. With no fields selected, an empty string for the
        rows it may see."""
        mapping, row = mapping_for(type_), scope.rows if row is None else row
        built: ColumnElement[Any] = constant("")
        if nodes:
            built = object_json(walk, type_, nodes, row, scope)
        rule = mapping.rule.where(walk.reader, row)
        return built if rule is None else case((rule, built))

    def _arguments(
        self, field: Any, definition: Any, node: FieldNode, raw: VariableValues
    ) -> dict[str, Any]:
        values = get_argument_values(definition, node, raw)
        converted: dict[str, Any] = convert_arguments(
            values,
            field.arguments,
            scalar_registry=self.schema.schema_converter.scalar_registry,
            config=self.schema.config,
        )
        return converted

    def _connection(
        self,
        walk: Walk,
        key: str,
        type_: GraphQLObjectType,
        nodes: list[FieldNode],
        source: ConnectionSource,
        arguments: dict[str, Any],
    ) -> Step:
        query = source.query(walk.reader, self.features, **arguments)
        selections: list[list[FieldNode]] = []  # each (edges alias, node alias): a column
        shape = _connection_shape(walk.selection, type_, nodes, selections)
        if query is None:
            return Step(key, None, lambda _: shape(EMPTY_PAGE))
        node_type = get_nullable_type(_edge_type(type_).fields["node"].type)
        rows, keys = _page_rows(query, mapping_for(node_type).table)
        scope = Scope(rows)
        built = [self._visible_json(walk, node_type, nodes, scope, rows) for nodes in selections]
        if not built:  # no node asked: only which rows the reader may see
            built.append(self._visible_json(walk, node_type, [], scope, rows))
        columns = [key.column for key in keys]
        statement = select(*built, *columns).select_from(scope.rows).order_by(*order_by_keys(keys))
        page, cursors = query.page, _reads_cursors(walk.selection, type_, nodes)
        key_values = _after(len(built))
        if _nodes_at(walk.selection, type_, nodes, "totalCount"):
            counted = _Counted(query, scope, [*built, *columns], order_by_keys(keys), cursors)
            return Step(key, self._compiled(counted.statement()), counted.shaped(shape))

        def shaped(rows: Sequence[Any]) -> Any:
            return shape(page(rows, key_values, cursors=cursors))

        return Step(key, self._compiled(statement), shaped)

    def _compiled(self, statement: Any) -> Statement:
        compiled = statement.compile(dialect=self.dialect)
        processors = compiled._bind_processors
        names = compiled.positiontup or []
        params = []
        for name in names:
            value = compiled.params.get(name)
            processor = processors.get(name)
            params.append(
                processor(value) if processor is not None and value is not None else value
            )
        viewer_at = tuple(i for i, name in enumerate(names) if name == VIEWER_ID)
        return Statement(compiled.string, tuple(params), viewer_at)


@dataclass(frozen=True)
class _Counted:
    """A counted connection's statement and shape: the list's size (`query.count`) read
    in the same statement, its page LEFT JOINed to it, so that an empty page still brings
    one row (whose columns are null) with the size. Without a count to read (a query
    that brings none), the executor answers."""

    query: PageQuery
    scope: Scope
    columns: list[Any]  # the page's: the nodes' JSON, then the sort keys
    order: list[Any]
    cursors: bool

    def statement(self) -> Any:
        if self.query.count is None:
            raise ExecutorOnly("totalCount: the connection's query brings no count")
        total = self.query.count.subquery("hom_total")
        joined = total.outerjoin(self.scope.rows, true())
        return select(*self.columns, *total.c).select_from(joined).order_by(*self.order)

    def shaped(self, shape: Shape) -> Shape:
        width, keys = len(self.columns), len(self.query.keys)

        def shaped(rows: Sequence[Any]) -> Any:
            size = int(rows[0][width]) if rows else 0
            found = [tuple(row)[:width] for row in rows if row[width - 1] is not None]
            page = self.query.page(found, _after(width - keys), cursors=self.cursors)
            return shape(replace(page, total=size))

        return shaped


def _page_rows(query: PageQuery, table: Any) -> tuple[Any, list[SortKey]]:
    """The page's rows as a subquery (the table's columns and the sort keys), so that
    the joins the nodes add run on the page's rows only, never before its sort; the keys
    in the order the page reads (reversed for `last`/`before`, put back by its `page`)."""
    read = query.read_keys
    labels = [f"hom_key_{index}" for index in range(len(read))]
    keyed = [key.column.label(label) for key, label in zip(read, labels, strict=True)]
    rows = query.statement.with_only_columns(*table.c, *keyed).subquery("page")
    keys = [
        SortKey(rows.c[label], descending=key.descending)
        for key, label in zip(read, labels, strict=True)
    ]
    return rows, keys


def _reads_cursors(selection: Selection, type_: GraphQLObjectType, nodes: list[FieldNode]) -> bool:
    """Whether the selection shows a cursor (else they are not computed)."""
    if _nodes_at(selection, type_, nodes, "edges", "cursor"):
        return True
    info = _nodes_at(selection, type_, nodes, "pageInfo")
    info_type = _unwrapped(type_.fields["pageInfo"].type)
    asked = selection.fields(info_type, (node.selection_set for node in info))
    return any(group[0].name.value in ("startCursor", "endCursor") for group in asked.values())


def allows(permission: type[Any], reader: Reader) -> bool:
    """A root field's permission, decided at plan time (plans are per role); one this
    cannot decide is left to the executor."""
    if permission is Public:
        return True
    if permission is IsAuthenticated:
        return reader.user_id is not None
    if issubclass(permission, HasRole):
        return reader.user_id is not None and reader.has_role(*permission.roles)
    return False


def _row_shape(required: bool) -> Shape:
    def shape(rows: Sequence[Any]) -> Any:
        found = rows[0][0] if rows else None
        if found is None:
            if required:
                raise Missing
            return None
        return orjson.Fragment(found)

    return shape


def _list_shape(rows: Sequence[Any]) -> list[Any]:
    """The items the reader may see, in order."""
    return [orjson.Fragment(row[0]) for row in rows if row[0] is not None]


def _after(columns: int) -> Callable[[Any], tuple[Any, ...]]:
    """A row's sort-key values: what follows its `columns` node JSON columns."""
    return lambda row: tuple(row[columns:])


def _edge_type(connection: Any) -> GraphQLObjectType:
    edges = connection.fields.get("edges") if isinstance(connection, GraphQLObjectType) else None
    if edges is None or "pageInfo" not in connection.fields:
        raise NotPlannable(f"{connection} is not a connection")
    items = get_nullable_type(edges.type)
    return get_nullable_type(items.of_type)  # type: ignore[no-any-return]


def _nodes_at(
    selection: Selection, type_: GraphQLObjectType, nodes: list[FieldNode], *path: str
) -> list[FieldNode]:
    """The field nodes at `path` below `nodes` (edges → node), merged."""
    current_type, current = type_, nodes
    for name in path:
        fields = selection.fields(current_type, (node.selection_set for node in current))
        current = [n for group in fields.values() for n in group if n.name.value == name]
        if not current:
            return []
        current_type = _unwrapped(current_type.fields[name].type)
    return current


def _unwrapped(type_: Any) -> Any:
    while hasattr(type_, "of_type"):
        type_ = type_.of_type
    return type_


def _connection_shape(
    selection: Selection,
    type_: GraphQLObjectType,
    nodes: list[FieldNode],
    node_selections: list[list[FieldNode]],
) -> Shape:
    """page → {edges: [{cursor, node}], nodes: [...], pageInfo: {...}} as the selection
    asks; each `node` (under each `edges` alias) and each `nodes` is appended to
    `node_selections`, and its JSON is the row's column of that index."""
    edge_type = _edge_type(type_)
    page_info_type = _unwrapped(type_.fields["pageInfo"].type)
    parts: list[tuple[str, Callable[[Any], Any]]] = []
    for key, group in selection.fields(type_, (n.selection_set for n in nodes)).items():
        name = group[0].name.value
        if name == "__typename":
            parts.append((key, _constant(type_.name)))
        elif name == "edges":
            parts.append((key, _edges_shape(selection, edge_type, group, node_selections)))
        elif name == "nodes":
            parts.append((key, _nodes_shape(len(node_selections))))
            node_selections.append(group)
        elif name == "pageInfo":
            parts.append((key, _page_info_shape(selection, page_info_type, group)))
        elif name == "totalCount":
            parts.append((key, lambda page: page.total or 0))
        else:
            raise NotPlannable(f"{type_.name}.{name}")
    return lambda page: {key: part(page) for key, part in parts}


def _constant(value: Any) -> Callable[[Any], Any]:
    return lambda _: value


def _constant_edge(value: str) -> Callable[[str, Any], Any]:
    return lambda cursor, row: value


def _node_json(column: int) -> Callable[[str, Any], Any]:
    return lambda cursor, row: orjson.Fragment(row[column])


def _edges_shape(
    selection: Selection,
    edge_type: GraphQLObjectType,
    nodes: list[FieldNode],
    node_selections: list[list[FieldNode]],
) -> Shape:
    parts: list[tuple[str, Callable[[str, Any], Any]]] = []
    for key, group in selection.fields(edge_type, (n.selection_set for n in nodes)).items():
        name = group[0].name.value
        if name == "__typename":
            parts.append((key, _constant_edge(edge_type.name)))
        elif name == "cursor":
            parts.append((key, lambda cursor, row: cursor))
        elif name == "node":
            parts.append((key, _node_json(len(node_selections))))
            node_selections.append(group)
        else:
            raise NotPlannable(f"{edge_type.name}.{name}")

    def shape(page: Any) -> list[dict[str, Any]]:
        pairs = zip(page.cursors, page.rows, strict=True)
        return [
            {key: part(cursor, row) for key, part in parts}
            for cursor, row in pairs
            if row[0] is not None
        ]

    return shape


def _nodes_shape(column: int) -> Shape:
    """The nodes the reader may see, in page order: the row's JSON of that column."""
    return lambda page: [orjson.Fragment(row[column]) for row in page.rows if row[0] is not None]


_PAGE_INFO: Mapping[str, Callable[[Any], Any]] = {
    "hasNextPage": lambda page: page.has_next_page,
    "hasPreviousPage": lambda page: page.has_previous_page,
    "startCursor": lambda page: page.cursors[0] if page.cursors else None,
    "endCursor": lambda page: page.cursors[-1] if page.cursors else None,
}


def _page_info_shape(
    selection: Selection, type_: GraphQLObjectType, nodes: list[FieldNode]
) -> Shape:
    parts: list[tuple[str, Callable[[Any], Any]]] = []
    for key, group in selection.fields(type_, (n.selection_set for n in nodes)).items():
        name = group[0].name.value
        if name == "__typename":
            parts.append((key, _constant(type_.name)))
        elif name in _PAGE_INFO:
            parts.append((key, _PAGE_INFO[name]))
        else:
            raise NotPlannable(f"{type_.name}.{name}")
    return lambda page: {key: part(page) for key, part in parts}

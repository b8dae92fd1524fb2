"""One object's selection as one SQL expression that builds its JSON text.

`object_json(...)` walks the collected fields of a mapped type over a row of its
table: columns and computed values, the relay id and scalars spelt as the executor
spells them, to-one relations as LEFT JOINs added to the statement's `Scope` (a
joined row costs PostgreSQL far less than a correlated subquery run per row) and
to-many ones as ordered arrays joined with commas (`json_text`). Anything else
raises NotPlannable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_nullable_type,
)
from sqlalchemy import DateTime, FromClause, Integer, Text, and_, case, cast, func, select
from sqlalchemy.sql.elements import ColumnElement, False_
from strawberry import relay

from hom.core.batch_reads import ordered
from hom.core.graphql.compiled.collect import Selection
from hom.core.graphql.compiled.errors import ExecutorOnly, NotPlannable
from hom.core.graphql.compiled.json_text import (
    Json,
    concatenated,
    constant,
    json_array,
    json_bare,
    json_literal,
    json_object,
    json_safe_string,
    json_string,
    or_null,
)
from hom.core.graphql.compiled.mapping import (
    EXECUTOR_ONLY,
    FIELD,
    Embedded,
    Expression,
    TableMapping,
    ToMany,
    ToOne,
    mapping_of,
)
from hom.core.viewer import Reader

# A bound on the SQL one object may become (and on PostgreSQL's expression depth).
MAX_FIELDS_PER_OBJECT = 50
_BACKREF = "strawberry-definition"


class Scope:
    """The FROM of one SELECT being built: its rows and the LEFT JOINs its objects'
    to-one relations add (each joins at most one row: a primary key)."""

    def __init__(self, rows: FromClause) -> None:
        self.rows = rows

    def left_join(self, table: FromClause, condition: ColumnElement[bool]) -> None:
        self.rows = self.rows.outerjoin(table, condition)


@dataclass(frozen=True)
class Walk:
    """What every level of one plan shares."""

    selection: Selection
    reader: Reader


def origin_of(type_: GraphQLObjectType) -> Any:
    definition = (type_.extensions or {}).get(_BACKREF)
    return getattr(definition, "origin", None)


def mapping_for(type_: GraphQLObjectType) -> TableMapping:
    mapping = mapping_of(origin_of(type_))
    if mapping is None:
        raise NotPlannable(f"{type_.name} declares no table")
    return mapping


def object_json(
    walk: Walk,
    type_: GraphQLObjectType,
    nodes: list[FieldNode],
    row: FromClause,
    scope: Scope,
) -> ColumnElement[Any]:
    """The JSON text of the fields `nodes` select on a row of `type_` (never NULL);
    `scope` is the FROM that `row` is in."""
    mapping = mapping_for(type_)
    fields = walk.selection.fields(type_, (node.selection_set for node in nodes))
    if len(fields) > MAX_FIELDS_PER_OBJECT:
        raise NotPlannable("too many fields in one object")
    members = [
        (key, _field_value(walk, type_, mapping, field_nodes, row, scope))
        for key, field_nodes in fields.items()
    ]
    return concatenated(json_object(members))


def _field_value(
    walk: Walk,
    type_: GraphQLObjectType,
    mapping: TableMapping,
    nodes: list[FieldNode],
    row: FromClause,
    scope: Scope,
) -> Json:
    name = nodes[0].name.value
    if name == "__typename":
        return [json_literal(type_.name)]
    definition = type_.fields.get(name)
    if definition is None:
        raise NotPlannable(f"{type_.name}.{name}")
    metadata = getattr((definition.extensions or {}).get(_BACKREF), "metadata", {})
    if EXECUTOR_ONLY in metadata:
        raise ExecutorOnly(f"{type_.name}.{name}: {metadata[EXECUTOR_ONLY]}")
    if any(node.arguments for node in nodes):
        raise NotPlannable(f"{type_.name}.{name} with arguments")
    declared = metadata.get(FIELD)
    if declared is None:
        return _plain_field(type_, mapping, definition, row, name)
    if isinstance(declared, Expression):
        return or_null(_scalar(definition, declared.of(row, walk.reader)))
    if isinstance(declared, Embedded):
        return _embedded(walk, definition, declared, nodes, row)
    target = get_nullable_type(definition.type)
    if isinstance(declared, ToOne):
        return _to_one(walk, definition, declared, nodes, row, scope)
    if isinstance(target, GraphQLList):
        return _to_many(walk, target, declared, nodes, row, mapping)
    raise NotPlannable(f"{type_.name}.{name}")


def _plain_field(
    type_: GraphQLObjectType,
    mapping: TableMapping,
    definition: GraphQLField,
    row: FromClause,
    name: str,
) -> Json:
    origin = origin_of(type_)
    if name == "id" and isinstance(origin, type) and issubclass(origin, relay.Node):
        return json_safe_string(node_id(type_.name, row.c[mapping.primary_key]))
    field = (definition.extensions or {}).get(_BACKREF)
    python_name = getattr(field, "python_name", "")
    if field is None or field.base_resolver is not None or python_name not in row.c:
        raise NotPlannable(f"{type_.name}.{name} is not a column")
    return _column(definition, row.c[python_name])


def _column(definition: GraphQLField, column: Any) -> Json:
    return or_null(_scalar(definition, column), nullable=getattr(column, "nullable", True))


def node_id(type_name: str, key: ColumnElement[Any]) -> ColumnElement[str]:
    """The relay id (`base64("Type:id")`), as Strawberry's `to_base64` writes it."""
    raw = func.convert_to(constant(f"{type_name}:") + cast(key, Text), constant("UTF8"))
    encoded = func.encode(raw, constant("base64"))
    return func.translate(encoded, constant("\n"), constant(""), type_=Text)


def _scalar(definition: GraphQLField, value: ColumnElement[Any]) -> Json:
    """The value as JSON text, as the executor spells it (NULL stays NULL)."""
    named = get_nullable_type(definition.type)
    if isinstance(named, GraphQLEnumType):
        if any(name != item.value for name, item in named.values.items()):
            raise NotPlannable(f"enum {named.name}")
        return json_safe_string(value)  # GraphQL names: nothing to escape
    if not isinstance(named, GraphQLScalarType):
        raise NotPlannable(f"a field of type {named}")
    match named.name:
        case "Int" | "Boolean":
            return json_bare(value)
        case "String" | "Float":
            return json_string(value)
        case "ID":
            return json_safe_string(value) if _integer(value) else json_string(cast(value, Text))
        case "Decimal":
            return json_safe_string(value)
        case "DateTime":
            return json_safe_string(iso_utc(value))
        case "Time":
            return json_safe_string(func.to_char(value, constant("HH24:MI")))
    raise NotPlannable(f"scalar {named.name}")


def _integer(value: ColumnElement[Any]) -> bool:
    return isinstance(value.type, Integer)


def iso_utc(value: ColumnElement[Any]) -> ColumnElement[str]:
    """`hom.core.clock.iso_utc` in SQL: seconds, microseconds only when not zero, +00:00."""
    aware = isinstance(value.type, DateTime) and value.type.timezone
    utc = func.timezone(constant("UTC"), value) if aware else value
    seconds = func.to_char(utc, constant('YYYY-MM-DD"T"HH24:MI:SS'))
    whole = func.date_trunc(constant("second"), utc) == utc
    fraction = case((whole, constant("")), else_=func.to_char(utc, constant(".US")))
    return seconds + fraction + constant("+00:00")


def _embedded(
    walk: Walk,
    definition: GraphQLField,
    declared: Embedded,
    nodes: list[FieldNode],
    row: FromClause,
) -> Json:
    type_ = get_nullable_type(definition.type)
    assert isinstance(type_, GraphQLObjectType)
    fields = walk.selection.fields(type_, (node.selection_set for node in nodes))
    members: list[tuple[str, Json]] = []
    for key, field_nodes in fields.items():
        name = field_nodes[0].name.value
        if name == "__typename":
            value: Json = [json_literal(type_.name)]
        elif name in declared.columns:
            value = _column(type_.fields[name], row.c[declared.columns[name]])
        else:
            raise NotPlannable(f"{type_.name}.{name}")
        members.append((key, value))
    return json_object(members)


def _target(definition_type: Any) -> GraphQLObjectType:
    named = get_nullable_type(definition_type)
    while isinstance(named, GraphQLList | GraphQLNonNull):
        named = named.of_type
    if not isinstance(named, GraphQLObjectType):
        raise NotPlannable(f"a field of type {named}")
    return named


def _rows(walk: Walk, mapping: TableMapping) -> tuple[FromClause, ColumnElement[bool] | None]:
    row = mapping.table.alias()
    return row, mapping.rule.where(walk.reader, row)


def _to_one(
    walk: Walk,
    definition: GraphQLField,
    declared: ToOne,
    nodes: list[FieldNode],
    row: FromClause,
    scope: Scope,
) -> Json:
    type_ = _target(definition.type)
    target = mapping_for(type_)
    related, rule = _rows(walk, target)
    if isinstance(definition.type, GraphQLNonNull) and (
        rule is not None or row.c[declared.key].nullable
    ):
        raise NotPlannable("a non-null relation that can be missing")  # null would propagate
    if isinstance(rule, False_):
        return ["null"]
    key = related.c[target.primary_key]
    condition = key == row.c[declared.key]
    scope.left_join(related, condition if rule is None else and_(condition, rule))
    built = object_json(walk, type_, nodes, related, scope)
    return [case((key.is_not(None), built), else_=constant("null"))]


def _to_many(
    walk: Walk,
    list_type: GraphQLList[Any],
    declared: ToMany,
    nodes: list[FieldNode],
    row: FromClause,
    mapping: TableMapping,
) -> Json:
    if not isinstance(list_type.of_type, GraphQLNonNull):
        raise NotPlannable("a list of nullable items")
    type_ = _target(list_type)
    target = mapping_for(type_)
    related, rule = _rows(walk, target)
    if isinstance(rule, False_):
        return ["[]"]  # none of them for this reader: nothing below is asked
    order = ordered(declared.order_by, related)
    scope = Scope(related)
    through = declared.through
    if through is None:
        assert declared.key is not None
        parent = related.c[declared.key]
    else:
        link, condition = through.linked(related, target.primary_key)
        scope.rows = scope.rows.join(link, condition)
        parent = link.c[through.parent]
    for joined, condition in order.joins:
        scope.rows = scope.rows.join(joined, condition)
    built = object_json(walk, type_, nodes, related, scope)
    statement = (
        select(built)
        .select_from(scope.rows)
        .where(parent == row.c[mapping.primary_key])
        .order_by(*order.columns)
    )
    if rule is not None:
        statement = statement.where(rule)
    return json_array(statement.scalar_subquery())

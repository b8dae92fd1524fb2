"""One object's selection as one SQL expression that builds its JSON.

`object_json(...)` walks the collected fields of a mapped type over a row of its
table: columns and computed values as they are, the relay id and scalars spelt as
the executor spells them, to-one relations as correlated scalar subqueries and
to-many ones as ordered `json_agg`s. Anything else raises NotPlannable.
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
from sqlalchemy import (
    DateTime,
    FromClause,
    Text,
    case,
    cast,
    func,
    literal_column,
    null,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.elements import ColumnElement, False_
from strawberry import relay

from hom.core.graphql.compiled.collect import Selection
from hom.core.graphql.compiled.errors import NotPlannable
from hom.core.graphql.compiled.mapping import (
    Embedded,
    Expression,
    TableMapping,
    ToMany,
    ToOne,
    mapping_of,
)
from hom.core.viewer import Reader

# json_build_object takes at most 100 arguments: 50 fields.
MAX_FIELDS_PER_OBJECT = 50
_BACKREF = "strawberry-definition"
_EMPTY_LIST: ColumnElement[Any] = literal_column("'[]'::json")


@dataclass(frozen=True)
class Walk:
    """What every level of one plan shares."""

    selection: Selection
    reader: Reader


def constant(value: str) -> ColumnElement[str]:
    """A string written into the SQL (names and formats we choose; never client input
    other than GraphQL names, which are letters, digits and underscores)."""
    return literal_column("'" + value.replace("'", "''") + "'", Text)


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
) -> ColumnElement[Any]:
    """`json_build_object(...)` of the fields `nodes` select on a row of `type_`."""
    mapping = mapping_for(type_)
    fields = walk.selection.fields(type_, (node.selection_set for node in nodes))
    if len(fields) > MAX_FIELDS_PER_OBJECT:
        raise NotPlannable("too many fields in one object")
    arguments: list[Any] = []
    for key, field_nodes in fields.items():
        value = _field_value(walk, type_, mapping, field_nodes, row)
        arguments += [constant(key), value]
    return func.json_build_object(*arguments)


def _field_value(
    walk: Walk,
    type_: GraphQLObjectType,
    mapping: TableMapping,
    nodes: list[FieldNode],
    row: FromClause,
) -> ColumnElement[Any]:
    name = nodes[0].name.value
    if name == "__typename":
        return constant(type_.name)
    definition = type_.fields.get(name)
    if definition is None or any(node.arguments for node in nodes):
        raise NotPlannable(f"{type_.name}.{name}")
    declared = mapping.fields.get(name)
    if declared is None:
        return _plain_field(type_, mapping, definition, row, name)
    if isinstance(declared, Expression):
        return _scalar(definition, declared.of(row, walk.reader))
    if isinstance(declared, Embedded):
        return _embedded(walk, definition, declared, nodes, row)
    target = get_nullable_type(definition.type)
    if isinstance(declared, ToOne):
        return _to_one(walk, definition, declared, nodes, row, mapping)
    if isinstance(target, GraphQLList):
        return _to_many(walk, target, declared, nodes, row, mapping)
    raise NotPlannable(f"{type_.name}.{name}")


def _plain_field(
    type_: GraphQLObjectType,
    mapping: TableMapping,
    definition: GraphQLField,
    row: FromClause,
    name: str,
) -> ColumnElement[Any]:
    origin = origin_of(type_)
    if name == "id" and isinstance(origin, type) and issubclass(origin, relay.Node):
        return node_id(type_.name, row.c[mapping.primary_key])
    field = (definition.extensions or {}).get(_BACKREF)
    python_name = getattr(field, "python_name", "")
    if field is None or field.base_resolver is not None or python_name not in row.c:
        raise NotPlannable(f"{type_.name}.{name} is not a column")
    return _scalar(definition, row.c[python_name])


def node_id(type_name: str, key: ColumnElement[Any]) -> ColumnElement[str]:
    """The relay id (`base64("Type:id")`), as Strawberry's `to_base64` writes it."""
    raw = func.convert_to(constant(f"{type_name}:") + cast(key, Text), constant("UTF8"))
    return func.translate(func.encode(raw, constant("base64")), constant("\n"), constant(""))


def _scalar(definition: GraphQLField, value: ColumnElement[Any]) -> ColumnElement[Any]:
    named = get_nullable_type(definition.type)
    if isinstance(named, GraphQLEnumType):
        if any(name != item.value for name, item in named.values.items()):
            raise NotPlannable(f"enum {named.name}")
        return cast(value, Text)
    if not isinstance(named, GraphQLScalarType):
        raise NotPlannable(f"a field of type {named}")
    match named.name:
        case "String" | "Int" | "Boolean" | "Float":
            return value
        case "ID" | "Decimal":
            return cast(value, Text)
        case "DateTime":
            return iso_utc(value)
    raise NotPlannable(f"scalar {named.name}")


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
) -> ColumnElement[Any]:
    type_ = get_nullable_type(definition.type)
    assert isinstance(type_, GraphQLObjectType)
    fields = walk.selection.fields(type_, (node.selection_set for node in nodes))
    arguments: list[Any] = []
    for key, field_nodes in fields.items():
        name = field_nodes[0].name.value
        if name == "__typename":
            value: ColumnElement[Any] = constant(type_.name)
        elif name in declared.columns:
            value = _scalar(type_.fields[name], row.c[declared.columns[name]])
        else:
            raise NotPlannable(f"{type_.name}.{name}")
        arguments += [constant(key), value]
    return func.json_build_object(*arguments)


def _target(definition_type: Any) -> GraphQLObjectType:
    named = get_nullable_type(definition_type)
    while isinstance(named, GraphQLList | GraphQLNonNull):
        named = named.of_type
    if not isinstance(named, GraphQLObjectType):
        raise NotPlannable(f"a field of type {named}")
    return named


def _rows(walk: Walk, mapping: TableMapping) -> tuple[FromClause, ColumnElement[bool] | None]:
    row = mapping.table.alias()
    rule = mapping.visible(walk.reader, row) if mapping.visible is not None else None
    return row, rule


def _to_one(
    walk: Walk,
    definition: GraphQLField,
    declared: ToOne,
    nodes: list[FieldNode],
    row: FromClause,
    mapping: TableMapping,
) -> ColumnElement[Any]:
    type_ = _target(definition.type)
    target = mapping_for(type_)
    related, rule = _rows(walk, target)
    if isinstance(definition.type, GraphQLNonNull) and (
        rule is not None or row.c[declared.key].nullable
    ):
        raise NotPlannable("a non-null relation that can be missing")  # null would propagate
    if isinstance(rule, False_):
        return null()
    statement = select(object_json(walk, type_, nodes, related)).where(
        related.c[target.primary_key] == row.c[declared.key]
    )
    if rule is not None:
        statement = statement.where(rule)
    return statement.scalar_subquery()


def _to_many(
    walk: Walk,
    list_type: GraphQLList[Any],
    declared: ToMany,
    nodes: list[FieldNode],
    row: FromClause,
    mapping: TableMapping,
) -> ColumnElement[Any]:
    if not isinstance(list_type.of_type, GraphQLNonNull):
        raise NotPlannable("a list of nullable items")
    type_ = _target(list_type)
    related, rule = _rows(walk, mapping_for(type_))
    if isinstance(rule, False_):
        return _EMPTY_LIST  # none of them for this reader: nothing below is asked
    item = object_json(walk, type_, nodes, related)
    ordered = aggregate_order_by(item, *declared.order_by(related))
    statement = select(func.json_agg(ordered)).where(
        related.c[declared.key] == row.c[mapping.primary_key]
    )
    if rule is not None:
        statement = statement.where(rule)
    return func.coalesce(statement.scalar_subquery(), _EMPTY_LIST)

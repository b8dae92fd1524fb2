"""Root fields whose value Python holds rather than PostgreSQL's JSON (a static object, a
computed list): the value shaped by the selection (aliases, `__typename`, fragments,
`@skip`/`@include`, as `Selection` collects them) into what the executor would answer,
each leaf serialised by its GraphQL type as the executor completes it (the DateTime
scalar's `iso_utc`, an enum's name).

The value is a mapping or an object with attributes by the fields' Python names, or a
list of them. A field with a resolver of its own or with arguments is not a value's:
planning refuses it. A non-null value that is None raises `Missing` (the executor then
answers, with its error)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
)

from hom.core.graphql.compiled.collect import Selection
from hom.core.graphql.compiled.errors import Missing, NotPlannable

_BACKREF = "strawberry-definition"

ValueShape = Callable[[Any], Any]


def value_shape(selection: Selection, type_: Any, nodes: list[FieldNode]) -> ValueShape:
    """The JSON of a value of `type_` for the fields `nodes` select."""
    if isinstance(type_, GraphQLNonNull):
        return _required(_present(selection, type_.of_type, nodes))
    return _nullable(_present(selection, type_, nodes))


def _present(selection: Selection, type_: Any, nodes: list[FieldNode]) -> ValueShape:
    """The JSON of a value (not None) of the nullable `type_`."""
    if isinstance(type_, GraphQLList):
        return _items(value_shape(selection, type_.of_type, nodes))
    if isinstance(type_, GraphQLScalarType | GraphQLEnumType):
        return type_.serialize
    if isinstance(type_, GraphQLObjectType):
        return _object_shape(selection, type_, nodes)
    raise NotPlannable(f"{type_}: a value of an abstract type")


def _object_shape(
    selection: Selection, type_: GraphQLObjectType, nodes: list[FieldNode]
) -> ValueShape:
    parts: list[tuple[str, str | None, ValueShape]] = []
    for key, group in selection.fields(type_, (n.selection_set for n in nodes)).items():
        name = group[0].name.value
        if name == "__typename":
            parts.append((key, None, _constant(type_.name)))
            continue
        definition = type_.fields[name]
        field = (definition.extensions or {}).get(_BACKREF)
        if definition.args or getattr(field, "base_resolver", None) is not None:
            raise NotPlannable(f"{type_.name}.{name}: a resolver, not a value's member")
        python_name = getattr(field, "python_name", name)
        parts.append((key, python_name, value_shape(selection, definition.type, group)))

    def shape(value: Any) -> dict[str, Any]:
        return {key: part(_member(value, name)) for key, name, part in parts}

    return shape


def _member(value: Any, name: str | None) -> Any:
    if name is None:
        return None
    if isinstance(value, Mapping):
        if name not in value:
            raise NotPlannable(f"{name}: not among the values")
        return value[name]
    return getattr(value, name)


def _required(shape: ValueShape) -> ValueShape:
    def required(value: Any) -> Any:
        if value is None:
            raise Missing
        return shape(value)

    return required


def _nullable(shape: ValueShape) -> ValueShape:
    return lambda value: None if value is None else shape(value)


def _items(shape: ValueShape) -> ValueShape:
    return lambda values: [shape(value) for value in values]


def _constant(value: Any) -> ValueShape:
    return lambda _: value

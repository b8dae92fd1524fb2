"""Root fields whose value Python holds rather than PostgreSQL's JSON (a static object, a
computed list): the value shaped by the selection (aliases, `__typename`, fragments,
`@skip`/`@include`, as `Selection` collects them) into what the executor would answer,
each leaf serialised by its GraphQL type as the executor completes it (an enum's name),
or turned into what orjson spells alike (`ORJSON_FORMS`: a DateTime as a datetime in UTC,
which orjson spells as `iso_utc` does).

The value is an object with attributes by the fields' Python names (a mapping known when
planning: `known_value`), or a list of them. A field with a resolver of its own or with
arguments is not a value's: planning refuses it. A non-null value that is None raises
`Missing` (the executor then answers, with its error)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import attrgetter
from types import SimpleNamespace
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
from hom.core.graphql.scalars import ORJSON_FORMS

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
        return ORJSON_FORMS.get(type_.name, type_.serialize)
    if isinstance(type_, GraphQLObjectType):
        return _object_shape(selection, type_, nodes)
    raise NotPlannable(f"{type_}: a value of an abstract type")


def _object_shape(
    selection: Selection, type_: GraphQLObjectType, nodes: list[FieldNode]
) -> ValueShape:
    parts: list[tuple[str, ValueShape, ValueShape]] = []  # key, member of the value, its JSON
    for key, group in selection.fields(type_, (n.selection_set for n in nodes)).items():
        name = group[0].name.value
        if name == "__typename":
            parts.append((key, _constant(None), _constant(type_.name)))
            continue
        definition = type_.fields[name]
        field = (definition.extensions or {}).get(_BACKREF)
        if definition.args or getattr(field, "base_resolver", None) is not None:
            raise NotPlannable(f"{type_.name}.{name}: a resolver, not a value's member")
        python_name = getattr(field, "python_name", name)
        member = attrgetter(python_name)
        parts.append((key, member, value_shape(selection, definition.type, group)))

    def shape(value: Any) -> dict[str, Any]:
        return {key: part(member(value)) for key, member, part in parts}

    return shape


def known_value(shape: ValueShape, values: Mapping[str, Any]) -> Any:
    """The JSON of a value known when planning, given as a mapping by Python name."""
    try:
        return shape(SimpleNamespace(**values))
    except AttributeError as missing:
        raise NotPlannable(f"{missing.name}: not among the values") from None


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

"""What a document selects: a type's fields as picks, leaves and relations down to a
depth, derived from the schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
)
from graphql.pyutils import Undefined

# Relations below the root's own type: a type with an `id` is one level; connections,
# edges and value objects (Money, PageInfo) are not levels of their own.
DEPTH = 2


@dataclass(frozen=True)
class Pick:
    """A field of a selection: a leaf, or an object with its own picks (and, for an
    interface, the picks of each type that implements it)."""

    name: str
    type_name: str
    arguments: str = ""
    children: tuple[Pick, ...] = ()
    possible: tuple[tuple[str, tuple[Pick, ...]], ...] = ()

    @property
    def is_leaf(self) -> bool:
        return not self.children


def picks_of(
    schema: GraphQLSchema, type_: GraphQLNamedType, depth: int, nested: str | None
) -> tuple[Pick, ...]:
    """`__typename`, every leaf field, and relations while `depth` lasts; `nested` is
    the argument text given to nested fields that take `first`, None to leave out
    nested fields that take arguments (the compiled path plans no nested page)."""
    if not isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
        return ()
    found = [Pick("__typename", "String")]
    for name, definition in type_.fields.items():
        if _required_arguments(definition):
            continue  # no object field takes one today
        named = get_named_type(definition.type)
        if isinstance(named, GraphQLScalarType | GraphQLEnumType):
            found.append(Pick(name, named.name))
            continue
        left = depth - _level(named)
        if left >= 0 and (nested is not None or not definition.args):
            arguments = nested if nested and "first" in definition.args else ""
            found.append(_object_pick(schema, name, named, left, nested, arguments))
    return tuple(found)


def root_picks(
    schema: GraphQLSchema, type_: GraphQLNamedType, nested: str | None, depth: int = DEPTH
) -> tuple[Pick, ...]:
    """A root's selection: `depth` relations below its objects (a connection's nodes, a
    list's items), which are not a level of their own."""
    return picks_of(schema, type_, depth + 1 - _level(type_), nested)


def _object_pick(
    schema: GraphQLSchema,
    name: str,
    type_: GraphQLNamedType,
    depth: int,
    nested: str | None,
    arguments: str,
) -> Pick:
    possible: tuple[tuple[str, tuple[Pick, ...]], ...] = ()
    if isinstance(type_, GraphQLInterfaceType | GraphQLUnionType):
        possible = tuple(
            (kind.name, picks_of(schema, kind, depth, nested))
            for kind in schema.get_possible_types(type_)
        )
    children = picks_of(schema, type_, depth, nested) or (Pick("__typename", "String"),)
    return Pick(name, type_.name, arguments, children, possible)


def _level(type_: GraphQLNamedType) -> int:
    fields = getattr(type_, "fields", {})
    return 1 if "id" in fields else 0


def _required_arguments(definition: GraphQLField) -> bool:
    return any(is_required(argument) for argument in definition.args.values())


def is_required(argument: Any) -> bool:
    return isinstance(argument.type, GraphQLNonNull) and argument.default_value is Undefined

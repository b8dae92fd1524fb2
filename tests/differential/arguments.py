"""Root field arguments at their edge values, from the schema and the seeded rows."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    get_named_type,
)

from tests.differential.selection import is_required

FIRST = (0, 1, 100, 101)
GARBAGE = "nonsense"
NUL = "a\x00b"
# Argument values by GraphQL scalar (ids and slugs come from the seeded rows), hostile
# ones last: exotic decimals, a naive and an out-of-range time.
SAMPLES: dict[str, Sequence[Any]] = {
    "Boolean": (True, False),
    "Int": (0, 1),
    "Decimal": ("10", "12.5", "1e1000000", "Infinity", "NaN"),
    "DateTime": (
        "2024-01-01T09:00:00+00:00",
        "2099-01-01T00:00:00+00:00",
        "2024-01-01T09:00:00",
        "9999-12-31T23:59:59-12:00",
    ),
}
# `from` and `to` first make two weeks in the future (the seeded weeks' slots, the
# appointments' filters' bounds), before the scalar's edge values.
RANGE = {"from": "2099-01-03T00:00:00+00:00", "to": "2099-01-17T00:00:00+00:00"}
STRINGS: dict[str, Sequence[str]] = {
    "search": ("kettle", "cup"),
    "action": ("product.update",),
    "entity": ("Product",),
    "entityId": ("1",),
}
# What a crafted cursor carries after the real cursor's last dot (base64 of JSON):
# wrong types, null, beyond bigint, out-of-range dates, exotic numbers, a NUL byte.
CRAFTED = (
    "[null, null]",
    '["x", "y"]',
    '["2024-01-01T09:00:00+00:00", 99999999999999999999999]',
    '["99999-01-01T00:00:00+00:00", 1]',
    '["1e1000000", 1]',
    "[Infinity, 1]",
    '["a\\u0000b", 1]',
    "{}",
)
# `<name>Id` arguments whose type is not `<Name>` (`Staff`: the people the seed lists as
# staff members, then one who is not).
ID_TYPES = {"actor": "User", "customer": "Person", "staff": "Staff"}


@dataclass(frozen=True)
class Rows:
    """What the seeded dataset offers: global ids and slugs by type name, and a real
    cursor of each connection root (None: the caller reads no page of it)."""

    ids: Mapping[str, Sequence[str]]
    slugs: Mapping[str, Sequence[str]]
    cursors: Mapping[str, str | None]


def argument_sets(
    root: str, definition: GraphQLField, rows: Rows
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(label, arguments): none at all (when allowed), the required one at each of its
    values, then each optional one at each value beside the first required value."""
    required = [key for key, argument in definition.args.items() if is_required(argument)]
    base = shape_arguments(root, definition, rows) if required else {}
    if not required:
        yield "no-arguments", {}
    for key, argument in definition.args.items():
        for label, value in values_of(root, key, argument.type, definition, rows):
            yield f"{key}={label}", {**base, key: value}
    if {"id", "slug"} <= definition.args.keys() and not required:  # one of them, not both
        yield "id-and-slug", {k: _first_value(root, k, definition, rows) for k in ("id", "slug")}


def shape_arguments(root: str, definition: GraphQLField, rows: Rows) -> dict[str, Any]:
    """The arguments of the whole-selection documents: the first value (a real row) of
    the required argument, else of `id`, else none."""
    required = [key for key, argument in definition.args.items() if is_required(argument)]
    keys = required or [key for key in definition.args if key == "id"]
    return {key: _first_value(root, key, definition, rows) for key in keys}


def _first_value(root: str, key: str, definition: GraphQLField, rows: Rows) -> Any:
    _, value = next(values_of(root, key, definition.args[key].type, definition, rows))
    return value


def values_of(
    root: str, key: str, type_: Any, definition: GraphQLField, rows: Rows
) -> Iterator[tuple[str, Any]]:
    named = get_named_type(type_)
    if key in ("first", "last"):
        yield from ((str(n), n) for n in FIRST)
    elif key in ("after", "before"):
        yield from _cursors(rows.cursors.get(root))
    elif isinstance(named, GraphQLInputObjectType):
        for name, member in named.fields.items():
            for label, value in values_of(root, name, member.type, definition, rows):
                yield f"{{{name}={label}}}", {name: value}
    elif isinstance(named, GraphQLEnumType):
        yield from ((value, value) for value in named.values)
    elif named.name == "ID":
        yield from _ids(key, get_named_type(definition.type).name, rows)
    elif key == "slug":
        yield from (
            (slug, slug) for slug in rows.slugs.get(get_named_type(definition.type).name, ())
        )
        yield "nul", NUL
    elif named.name == "String":
        yield from ((text, text) for text in STRINGS.get(key, ("x",)))
        yield "nul", NUL
    else:
        if named.name == "DateTime" and key in RANGE:
            yield "range", RANGE[key]
        yield from ((json.dumps(value), value) for value in SAMPLES.get(named.name, ()))


def _ids(key: str, returned: str, rows: Rows) -> Iterator[tuple[str, str]]:
    """Every seeded id of the argument's type (one of each type for a Node), an id of
    another type, and garbage."""
    type_name = returned if key == "id" else _id_type(key)
    if type_name in rows.ids:
        yield from ((f"{type_name}#{n}", id_) for n, id_ in enumerate(rows.ids[type_name]))
        other = next(name for name in sorted(rows.ids) if name != type_name)
        yield "wrong-type", rows.ids[other][0]
    else:  # an interface: one of each type
        yield from ((f"{name}#0", ids[0]) for name, ids in sorted(rows.ids.items()))
    yield "garbage", GARBAGE
    yield "nul", NUL


def _cursors(cursor: str | None) -> Iterator[tuple[str, str]]:
    """A real cursor of the caller's first page and crafted ones like it; garbage."""
    if cursor:
        yield "cursor", cursor
        head = cursor.rpartition(".")[0]
        for n, payload in enumerate(CRAFTED):
            encoded = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
            yield f"crafted#{n}", f"{head}.{encoded}" if head else encoded
    yield "garbage", GARBAGE
    yield "nul", NUL


def _id_type(key: str) -> str:
    base = key.removesuffix("Id")
    return ID_TYPES.get(base, base[:1].upper() + base[1:])


def literal_call(definition: GraphQLField, values: dict[str, Any]) -> str:
    """`(name: literal, …)` of the root field's arguments, or nothing."""
    if not values:
        return ""
    parts = [f"{key}: {literal(value, definition.args[key].type)}" for key, value in values.items()]
    return "(" + ", ".join(parts) + ")"


def literal(value: Any, type_: Any) -> str:
    """`value` as a GraphQL literal of `type_` (enum values bare, objects' fields by type)."""
    named = get_named_type(type_)
    if value is None:
        return "null"
    if isinstance(named, GraphQLInputObjectType):
        inner = ", ".join(f"{k}: {literal(v, named.fields[k].type)}" for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(named, GraphQLEnumType):
        return str(value)
    return json.dumps(value)  # strings (ids, decimals, times too), numbers, booleans

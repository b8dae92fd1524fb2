"""JSON spelt by PostgreSQL as text, with `||` rather than `json_build_object`.

`json_build_object` looks up each argument's type output function on every call: on
the catalog page (50 products, eight objects each) that cost more than the rest of the
statement. Concatenating text that is already JSON costs a fraction of it; only strings
that may need escaping go through `to_json`. A NULL anywhere in a chain of `||` makes
the whole chain NULL, so every value that may be NULL is spelt `null` first (a NULL
object means "not visible" to the plan).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce
from typing import Any

import orjson
from sqlalchemy import String, Text, cast, func, literal_column
from sqlalchemy.sql.elements import ColumnElement

# JSON text in pieces: constant strings and SQL text values, concatenated only where a
# statement needs one value, so that neighbouring constants (`","name":`) merge.
Json = list[str | ColumnElement[str]]


def constant(value: str) -> ColumnElement[str]:
    """A string written into the SQL (names and formats we choose; never client input
    other than GraphQL names, which are letters, digits and underscores)."""
    return literal_column("'" + value.replace("'", "''") + "'", Text)


def concatenated(parts: Json) -> ColumnElement[str]:
    """`a || b || …` of the pieces, adjacent constants merged into one literal."""
    merged: Json = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    elements = [constant(part) if isinstance(part, str) else part for part in merged]
    return reduce(lambda left, right: left.concat(right), elements)


def json_object(members: Sequence[tuple[str, Json]]) -> Json:
    """`{"key": value, …}`."""
    if not members:
        return ["{}"]
    parts: Json = []
    for index, (key, value) in enumerate(members):
        parts += [("{" if index == 0 else ",") + json_literal(key) + ":", *value]
    return [*parts, "}"]


def json_array(items: ColumnElement[Any]) -> Json:
    """`[item, …]` of a subquery selecting one JSON text per row, in its order."""
    return ["[", func.array_to_string(func.array(items), constant(",")), "]"]


def json_literal(value: Any) -> str:
    """A Python value as a JSON constant."""
    return orjson.dumps(value).decode()


def or_null(value: Json, nullable: bool = True) -> Json:
    """`null` where the value is NULL (else one NULL would blank the whole object)."""
    if not nullable or all(isinstance(part, str) for part in value):
        return value
    return [func.coalesce(concatenated(value), constant("null"))]


def json_string(value: ColumnElement[Any]) -> Json:
    """Any text, escaped."""
    return [cast(func.to_json(value), Text)]


def json_safe_string(value: ColumnElement[Any]) -> Json:
    """Text that needs no escaping (digits, ISO dates, enum names) between quotes."""
    return ['"', as_text(value), '"']


def json_bare(value: ColumnElement[Any]) -> Json:
    """An integer or a boolean as PostgreSQL spells it, which JSON spells alike."""
    return [as_text(value)]


def as_text(value: ColumnElement[Any]) -> ColumnElement[str]:
    return value if isinstance(value.type, String) else cast(value, Text)

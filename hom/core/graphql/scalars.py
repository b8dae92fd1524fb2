"""Scalars: DateTime always carries an offset; output is UTC (SPEC §5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types.scalar import ScalarDefinition

from hom.core.clock import iso_utc
from hom.core.graphql.errors import bad_user_input


def parse_datetime(value: Any) -> datetime:
    """An ISO 8601 date-time with an offset; a naive one is refused, not guessed."""
    if not isinstance(value, str):
        raise bad_user_input("DateTime must be an ISO 8601 string with an offset")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise bad_user_input(f"Not an ISO 8601 date-time: {value[:40]!r}") from None
    if parsed.tzinfo is None:
        raise bad_user_input("DateTime needs an offset (e.g. 2026-05-01T09:00:00+02:00 or Z)")
    return parsed


UTC_DATETIME = strawberry.scalar(
    name="DateTime",
    description="An ISO 8601 date-time with an offset; the server answers in UTC.",
    serialize=iso_utc,
    parse_value=parse_datetime,
)

SCALAR_MAP: dict[object, ScalarDefinition] = {datetime: UTC_DATETIME}

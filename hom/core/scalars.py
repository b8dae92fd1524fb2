"""Scalars: DateTime always carries an offset; output is UTC (SPEC §5)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import strawberry
from strawberry.types.scalar import ScalarDefinition

from hom.core.errors import bad_user_input


def serialize_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


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
    serialize=serialize_datetime,
    parse_value=parse_datetime,
)

SCALAR_MAP: dict[object, ScalarDefinition] = {datetime: UTC_DATETIME}

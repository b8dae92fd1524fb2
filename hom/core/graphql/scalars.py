"""Scalars: DateTime always carries an offset; output is UTC (SPEC §5)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
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


def parse_decimal(value: Any) -> Decimal:
    """A decimal from a string or a JSON number, read as written (`9.9` is 9.9, not the
    float nearest to it); anything else, NaN and infinities are refused."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise bad_user_input('Decimal must be a string such as "9.90" or a number')
    try:
        parsed = Decimal(str(value).strip())
    except InvalidOperation:
        raise bad_user_input(f"Not a decimal number: {str(value)[:40]!r}") from None
    if not parsed.is_finite():
        raise bad_user_input("Decimal must be a finite number")
    return parsed


DECIMAL = strawberry.scalar(
    name="Decimal",
    description='A fixed-point decimal, written as a string ("9.90"); input also as a number.',
    serialize=str,
    parse_value=parse_decimal,
)

SCALAR_MAP: dict[object, ScalarDefinition] = {datetime: UTC_DATETIME, Decimal: DECIMAL}

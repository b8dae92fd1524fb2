"""Scalars: DateTime always carries an offset; output is UTC (SPEC §5). Time is a local
time of day in whole minutes (working hours), without an offset."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, time
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
    try:
        parsed.astimezone(UTC)  # what the driver sends: years 1-9999 in UTC
    except OverflowError:
        raise bad_user_input(f"Out of range once in UTC: {value[:40]!r}") from None
    return parsed


def in_utc(value: datetime) -> datetime:
    """The instant `iso_utc` spells, as an aware datetime in UTC: orjson spells it exactly
    as `iso_utc` does (tests/core/test_scalars.py), for a fraction of the CPU."""
    zone = value.tzinfo
    if zone is UTC:  # what the database answers
        return value
    return value.replace(tzinfo=UTC) if zone is None else value.astimezone(UTC)


UTC_DATETIME = strawberry.scalar(
    name="DateTime",
    description="An ISO 8601 date-time with an offset; the server answers in UTC.",
    serialize=iso_utc,
    parse_value=parse_datetime,
)


# What any Decimal argument may be (numeric(40, 20)); a column may hold less, and its
# rules say so by name (a price: below 10^10, two decimals). Beyond this, `1e1000000`
# would reach PostgreSQL, which refuses it as an internal error.
MAX_DECIMAL_DIGITS = 20  # before the point, and after it


def parse_decimal(value: Any) -> Decimal:
    """A decimal from a string or a JSON number, read as written (`9.9` is 9.9, not the
    float nearest to it); anything else, NaN, infinities and absurd sizes are refused."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise bad_user_input('Decimal must be a string such as "9.90" or a number')
    text = str(value).strip()
    if len(text) > 4 * MAX_DECIMAL_DIGITS:
        raise bad_user_input(f"Not a decimal number: {text[:40]!r}...")
    try:
        parsed = Decimal(text)
    except InvalidOperation:
        raise bad_user_input(f"Not a decimal number: {text[:40]!r}") from None
    if not parsed.is_finite():
        raise bad_user_input("Decimal must be a finite number")
    if not _in_bounds(parsed):
        raise bad_user_input(
            f"Decimal must have at most {MAX_DECIMAL_DIGITS} digits before the point "
            f"and {MAX_DECIMAL_DIGITS} after it"
        )
    return parsed


def _in_bounds(number: Decimal) -> bool:
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    return -MAX_DECIMAL_DIGITS <= exponent <= MAX_DECIMAL_DIGITS and (
        number.is_zero() or number.adjusted() < MAX_DECIMAL_DIGITS
    )


DECIMAL = strawberry.scalar(
    name="Decimal",
    description='A fixed-point decimal, written as a string ("9.90"); input also as a number.',
    serialize=str,
    parse_value=parse_decimal,
)

# 09:00 or 09:00:00: a time of day in whole minutes, with no offset and no date.
_TIME = re.compile(r"(?P<hour>[01][0-9]|2[0-3]):(?P<minute>[0-5][0-9])(:00)?")


def parse_time(value: Any) -> time:
    """A local time of day, "HH:MM" (24-hour clock; ":00" seconds allowed); an offset,
    seconds or anything else is refused, not guessed."""
    matched = _TIME.fullmatch(value) if isinstance(value, str) else None
    if matched is None:
        shown = value[:40] if isinstance(value, str) else value
        raise bad_user_input(f"Time must be a local time of day as HH:MM, not {shown!r}")
    return time(int(matched["hour"]), int(matched["minute"]))


def format_time(value: time) -> str:
    return value.strftime("%H:%M")


LOCAL_TIME = strawberry.scalar(
    name="Time",
    description='A local time of day in whole minutes, "HH:MM" (24-hour clock, no offset): '
    "read in the time zone of whoever it belongs to.",
    serialize=format_time,
    parse_value=parse_time,
)

# Scalars whose output orjson spells itself from another Python value: the scalar's name →
# that value (the compiled read path's computed fields hand it to orjson).
ORJSON_FORMS: dict[str, Callable[[Any], Any]] = {"DateTime": in_utc}

SCALAR_MAP: dict[object, ScalarDefinition] = {
    datetime: UTC_DATETIME,
    Decimal: DECIMAL,
    time: LOCAL_TIME,
}

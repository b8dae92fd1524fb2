"""What the slot list reads, in one statement whatever the range holds: the service, the
staff member (their zone), whether they give it, their week of working hours and what
keeps them busy (time off, live appointments) over the range, as plain asyncpg values
(one row; the week and the busy times as arrays, one per column), not ORM objects.

The statement is built once from the same queries booking reads with (`away_query`,
`reads.working_hours_query`) and compiled to SQL for asyncpg; it runs on whichever
connection the caller holds (the request's session or a pooled one of the compiled read
path), outside a transaction like any one statement. asyncpg asks the server about the
array types once per connection (two statements the first time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    bindparam,
    exists,
    func,
    literal_column,
    select,
    text,
    true,
    union_all,
)
from sqlmodel import col

from hom.accounts import service as accounts
from hom.bookings import reads, slots
from hom.bookings.models import (
    LIVE,
    Appointment,
    Service,
    StaffService,
    TimeOff,
    one_of,
)
from hom.core.row_reads import CompiledSql, compiled_sql, statement_span

SPAN = "SELECT calendar"


@dataclass(frozen=True)
class OfferedService:
    """What the slot rules read of a service."""

    name: str
    is_active: bool
    duration_minutes: int


@dataclass(frozen=True)
class StaffFacts:
    """What the slot rules read of a staff member."""

    full_name: str
    role: str
    is_active: bool
    timezone: str


@dataclass(frozen=True)
class Reading:
    """The statement's one row: None where there is no such service or user."""

    service: OfferedService | None
    staff: StaffFacts | None
    gives: bool
    hours: list[slots.WeeklyHours]
    busy: list[slots.Busy]


def away_query(staff_id: Any, start: Any, end: Any) -> Any:
    """The staff member's time off overlapping [start, end) (SQL values or parameters)."""
    return select(col(TimeOff.starts_at), col(TimeOff.ends_at)).where(
        col(TimeOff.staff_id) == staff_id,
        col(TimeOff.starts_at) < end,
        col(TimeOff.ends_at) > start,
    )


def gives(service_id: Any, staff_id: Any) -> Any:
    """Whether the staff member gives the service (SQL values or parameters)."""
    return exists().where(
        col(StaffService.service_id) == service_id, col(StaffService.staff_id) == staff_id
    )


def booked_query(staff_id: Any, start: Any, end: Any) -> Any:
    """Their live appointments overlapping [start, end)."""
    return select(col(Appointment.starts_at), col(Appointment.ends_at)).where(
        col(Appointment.staff_id) == staff_id,
        text(one_of("appointment.status", LIVE)),
        col(Appointment.starts_at) < end,
        col(Appointment.ends_at) > start,
    )


def _columns_aggregated(label: str, query: Any, *names: str) -> Any:
    """One row: an array of each column of the query's rows (`array_agg`, NULL for none),
    all aggregated in one pass, so that their items pair up (arrays of anonymous rows would
    cost asyncpg more to decode, and a statement more to learn)."""
    rows = query.subquery(f"{label}_rows")
    return select(*(func.array_agg(rows.c[name]).label(name) for name in names)).subquery(label)


def _merged(busy: Any) -> Any:
    """The busy times made disjoint (touching and overlapping ones as one, as the slot
    rules take them anyway): 300 back-to-back appointments are a few mornings."""
    rows = busy.subquery("busy_times")
    spans = select(func.range_agg(func.tstzrange(rows.c.starts_at, rows.c.ends_at)))
    span = func.unnest(spans.scalar_subquery()).column_valued("span")
    return select(func.lower(span).label("starts_at"), func.upper(span).label("ends_at"))


def _statement() -> CompiledSql:
    """The SQL, with parameters for the service's id, the staff member's and the range's
    bounds; the busy times reach the end of the range plus the service's duration."""
    service_id = bindparam("service_id", type_=BigInteger)
    staff_id = bindparam("staff_id", type_=BigInteger)
    start = bindparam("start", type_=DateTime(timezone=True))
    end = bindparam("end", type_=DateTime(timezone=True))
    service, staff = Service.__table__, accounts.User.__table__  # type: ignore[attr-defined]
    duration = select(service.c.duration_minutes).where(service.c.id == service_id)
    minutes = duration.scalar_subquery().correlate(None)
    until = end + minutes * literal_column("interval '1 minute'")
    week = reads.working_hours_query(staff_id=staff_id)  # type: ignore[arg-type]
    hours = _columns_aggregated("week", week, "weekday", "start_time", "end_time")
    booked = union_all(away_query(staff_id, start, until), booked_query(staff_id, start, until))
    busy = _columns_aggregated("busy", _merged(booked), "starts_at", "ends_at")
    anchor = select(literal_column("1").label("one")).subquery("anchor")
    people = anchor.outerjoin(service, service.c.id == service_id).outerjoin(
        staff, staff.c.id == staff_id
    )
    statement = select(
        service.c.name,
        service.c.is_active,
        service.c.duration_minutes,
        staff.c.full_name,
        staff.c.role,
        staff.c.is_active.label("staff_is_active"),
        staff.c.timezone,
        gives(service_id, staff_id).label("gives"),
        *hours.c,
        *busy.c,
    ).select_from(people.join(hours, true()).join(busy, true()))
    return compiled_sql(statement)


SQL = _statement()


async def read(
    driver: Any, *, service_id: int, staff_id: int, start: datetime, end: datetime
) -> Reading:
    """The one row, on asyncpg's connection `driver`: the busy times overlapping [start,
    end + the service's duration)."""
    arguments = SQL.arguments(service_id=service_id, staff_id=staff_id, start=start, end=end)
    with statement_span(SPAN, SQL.sql):
        row = await driver.fetchrow(SQL.sql, *arguments)
    return Reading(
        service=None
        if row["name"] is None
        else OfferedService(row["name"], row["is_active"], row["duration_minutes"]),
        staff=None
        if row["role"] is None
        else StaffFacts(row["full_name"], row["role"], row["staff_is_active"], row["timezone"]),
        gives=row["gives"],
        hours=list(map(slots.WeeklyHours, *_arrays(row, "weekday", "start_time", "end_time"))),
        busy=list(map(slots.Busy, *_arrays(row, "starts_at", "ends_at"))),
    )


def _arrays(row: Any, *names: str) -> list[list[Any]]:
    return [row[name] or [] for name in names]

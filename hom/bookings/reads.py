"""The SQL the bookings are read with: the root lists (`services`, `staffMembers`,
`workingHours`, `timeOff`) as statements both read paths run, the staff of a service (a
link through `staff_service`), and the column expressions the types declare.

Plain functions (no strawberry), like the service: a list's statement is built once
(`*_query`); the executor runs it (`run_list`), the compiled read path selects its JSON
from the same statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import FromClause, case, exists, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.accounts import service as accounts
from hom.bookings import rules
from hom.bookings.models import Service, StaffService, TimeOff, Weekday, WorkingHours
from hom.bookings.staff import gives_appointments
from hom.core.batch_reads import Through
from hom.core.viewer import Reader

# `Service.staff`: the people linked to a service who still give appointments.
STAFF_OF_SERVICE = Through(
    StaffService.__table__,  # type: ignore[attr-defined]
    parent="service_id",
    target="staff_id",
    where=gives_appointments,
)


def by_full_name(person: FromClause) -> list[ColumnElement[Any]]:
    """People by name (the id breaks ties): the order of a service's staff."""
    return [person.c.full_name, person.c.id]


def weekday_name(hours: FromClause) -> ColumnElement[str]:
    """The Weekday a working-hours row's `weekday` (0 Monday … 6 Sunday) stands for."""
    named: ColumnElement[str] = case(
        {day.number: day.value for day in Weekday}, value=hours.c.weekday
    )
    return named


async def run_list(session: AsyncSession, *, statement: Any) -> Sequence[Any]:
    """The rows of one of the list statements below, in its order."""
    return (await session.exec(statement)).all()  # type: ignore[no-any-return]


def services_query() -> Any:
    """Every service by name (the type's rule hides the inactive ones from non-admins)."""
    return select(Service).order_by(col(Service.name), col(Service.id))


def service_lookup(*, service_id: int) -> Any:
    return select(Service).where(col(Service.id) == service_id)


def staff_members_query(reader: Reader, *, service_id: int | None) -> Any:
    """The active staff members by name; with `service_id`, those who give that service
    when the reader may see it (an inactive one's staff are nobody's but the admins')."""
    user = accounts.User
    statement = select(user).where(gives_appointments(user.__table__))  # type: ignore[attr-defined]
    if service_id is not None:
        statement = statement.where(_gives(reader, col(user.id), service_id))
    return statement.order_by(col(user.full_name), col(user.id))


def _gives(reader: Reader, staff_id: Any, service_id: int) -> Any:
    """SQL: the staff member gives the service, which the reader may see."""
    service = Service.__table__  # type: ignore[attr-defined]
    visible = rules.SERVICES.where(reader, service)
    return exists().where(
        col(StaffService.staff_id) == staff_id,
        col(StaffService.service_id) == service_id,
        service.c.id == col(StaffService.service_id),
        true() if visible is None else visible,
    )


def working_hours_query(*, staff_id: int) -> Any:
    """A staff member's week: by weekday, then start (the rule keeps it theirs and the
    admins')."""
    return (
        select(WorkingHours)
        .where(col(WorkingHours.staff_id) == staff_id)
        .order_by(col(WorkingHours.weekday), col(WorkingHours.start_time), col(WorkingHours.id))
    )


def time_off_query(
    *, staff_id: int, starts_before: datetime | None = None, ends_after: datetime | None = None
) -> Any:
    """A staff member's time off by start, only what overlaps [`ends_after`,
    `starts_before`) where given."""
    conditions = [
        col(TimeOff.staff_id) == staff_id,
        *([] if starts_before is None else [col(TimeOff.starts_at) < starts_before]),
        *([] if ends_after is None else [col(TimeOff.ends_at) > ends_after]),
    ]
    return select(TimeOff).where(*conditions).order_by(col(TimeOff.starts_at), col(TimeOff.id))

"""The SQL the bookings are read with: the root lists (`services`, `staffMembers`,
`workingHours`, `timeOff`, and the pages of `myAppointments` and `staffAppointments`) as
statements both read paths run, the staff of a service (a link through `staff_service`),
and the column expressions the types declare.

Plain functions (no strawberry), like the service: a list's statement is built once
(`*_query`); the executor runs it (`run_list`), the compiled read path selects its JSON
from the same statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import FromClause, case, exists, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.accounts import service as accounts
from hom.bookings import rules
from hom.bookings.models import (
    Appointment,
    AppointmentStatus,
    Service,
    StaffService,
    TimeOff,
    Weekday,
    WorkingHours,
)
from hom.bookings.staff import gives_appointments
from hom.core.batch_reads import Through
from hom.core.pagination import (
    EMPTY_PAGE,
    Page,
    PageQuery,
    SortKey,
    count_rows,
    count_select,
    keyset_select,
    page_direction,
    page_request,
)
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


def working_hours_query(*, staff_id: int, columns: Sequence[Any] = ()) -> Any:
    """A staff member's week: by weekday, then start (the rule keeps it theirs and the
    admins'); `columns` (two or more): rows of those rather than WorkingHours objects."""
    return (
        select(*(columns or [WorkingHours]))
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


# --- appointments --------------------------------------------------------------------------

# By start, soonest first; the id breaks ties (both in the indexes the lists read).
APPOINTMENT_KEYS = [SortKey(col(Appointment.starts_at)), SortKey(col(Appointment.id))]
# A client's `first`, `after`, `last` and `before`, as given.
PageArguments = tuple[int | None, str | None, int | None, str | None]


@dataclass(frozen=True, kw_only=True)
class AppointmentFilter:
    """Appointments matching every condition given; `starts_from` inclusive, `starts_to`
    exclusive, on `starts_at`."""

    status: AppointmentStatus | None = None
    staff_id: int | None = None
    starts_from: datetime | None = None
    starts_to: datetime | None = None


def appointments_listing(
    filter: AppointmentFilter, *, customer: Any = None, staff: Any = None
) -> Any:
    """The appointments matching `filter`, of `customer` and of `staff` where given (a
    user id, or the compiled path's `viewer_id()` parameter), unordered."""
    starts_at = col(Appointment.starts_at)
    conditions = [
        *([] if customer is None else [col(Appointment.customer_id) == customer]),
        *([] if staff is None else [col(Appointment.staff_id) == staff]),
        *([] if filter.staff_id is None else [col(Appointment.staff_id) == filter.staff_id]),
        *([] if filter.status is None else [col(Appointment.status) == filter.status.value]),
        *([] if filter.starts_from is None else [starts_at >= filter.starts_from]),
        *([] if filter.starts_to is None else [starts_at < filter.starts_to]),
    ]
    return select(Appointment).where(*conditions)


def appointments_query(
    filter: AppointmentFilter,
    arguments: PageArguments,
    *,
    customer: Any = None,
    staff: Any = None,
) -> PageQuery:
    """One page of `appointments_listing`, soonest first, for a client's page arguments
    (checked: InvalidInput)."""
    first, after, last, before = arguments
    page_direction(first, after, last, before)
    request = page_request(first, after, APPOINTMENT_KEYS, last=last, before=before)
    listed = appointments_listing(filter, customer=customer, staff=staff)
    paged = keyset_select(listed, APPOINTMENT_KEYS, request)
    return PageQuery(paged, APPOINTMENT_KEYS, request, count=count_select(listed))


async def run_appointments_query(
    session: AsyncSession, *, query: PageQuery | None
) -> Page[Appointment]:
    if query is None:
        return EMPTY_PAGE
    rows = (await session.exec(query.statement)).all()  # type: ignore[call-overload]
    return query.page(rows, lambda row: (row.starts_at, row.id))


async def count_appointments(
    session: AsyncSession, *, filter: AppointmentFilter, customer: Any = None, staff: Any = None
) -> int:
    """How many appointments `appointments_query` pages through."""
    return await count_rows(session, appointments_listing(filter, customer=customer, staff=staff))


def appointment_lookup(*, appointment_id: int) -> Any:
    """The appointment with this id (a statement of one row at most)."""
    return select(Appointment).where(col(Appointment.id) == appointment_id)

"""Booking appointments and moving them: all of a booking or nothing, and never two live
appointments of one staff member at once.

A start is bookable exactly when `availableSlots`, ignoring appointments, offers it
(`hom.bookings.availability`): inside one stretch of the staff member's working hours, on
the grid, clear of their time off, and at least the minimum notice from now. Clashes with
other appointments are the database's to refuse, through the exclusion constraint
`ex_appointment_overlap`: a booking's INSERT skips the weeks it would break (`ON CONFLICT
DO NOTHING`, which waits for a concurrent booking of the same time to commit or roll
back), and a move is one UPDATE, so the old time is let go only when the new one is
taken. Either way a clash is SLOT_UNAVAILABLE and the caller's transaction rolls back,
leaving nothing behind.

Plain async functions over a session, like the service; they never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, DateTime, Text, Uuid, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.accounts import service as accounts
from hom.bookings import notices, slots
from hom.bookings.availability import (
    LATEST,
    Calendar,
    Policy,
    check_offered,
    load_calendar,
    load_parties,
    offered_at,
    why_not_offered,
)
from hom.bookings.models import APPOINTMENT_OVERLAP, LIVE, MAX_NOTES, Appointment
from hom.core.clock import utcnow
from hom.core.db import violated_constraint
from hom.core.errors import DomainError, ErrorCode
from hom.core.roles import Role
from hom.core.unit_of_work import retried
from hom.core.viewer import Viewer

MAX_WEEKS = 12
LIVE_VALUES = [status.value for status in LIVE]


@dataclass(frozen=True, kw_only=True)
class NewBooking:
    """What `bookAppointment` asks for; `customer_id` None: the actor books for themselves."""

    service_id: int
    staff_id: int
    starts_at: datetime
    customer_id: int | None = None
    notes: str | None = None
    weeks: int = 1


# --- checks ------------------------------------------------------------------------------


def check_notes(notes: str | None) -> str | None:
    """The notes, trimmed (None when blank); INVALID when too long."""
    text = (notes or "").strip()
    if len(text) > MAX_NOTES:
        raise DomainError(ErrorCode.INVALID, f"Notes are at most {MAX_NOTES} characters", "notes")
    return text or None


def check_weeks(weeks: int) -> int:
    if not 1 <= weeks <= MAX_WEEKS:
        message = f"A booking recurs for 1 to {MAX_WEEKS} weeks"
        raise DomainError(ErrorCode.INVALID, message, "recurrence.weeks")
    return weeks


def check_moment(starts_at: datetime) -> datetime:
    """An aware start before LATEST; else INVALID."""
    if starts_at.tzinfo is None or starts_at.utcoffset() is None:
        raise DomainError(ErrorCode.INVALID, "A moment needs an offset", "starts_at")
    if starts_at > LATEST:
        raise DomainError(ErrorCode.INVALID, f"Book before {LATEST.year}", "starts_at")
    return starts_at


def check_books_for(actor: Viewer, *, customer_id: int, staff_id: int) -> None:
    """Anyone books for themselves; admins for anyone; a staff member for anyone, in their
    own calendar."""
    if customer_id == staff_id:
        message = "A staff member cannot book an appointment with themselves"
        raise DomainError(ErrorCode.INVALID, message, "customer_id")
    if customer_id == actor.user_id or actor.is_admin:
        return
    if actor.role is not Role.STAFF:
        raise DomainError(ErrorCode.INVALID, "You book for yourself only", "customer_id")
    if staff_id != actor.user_id:
        message = "Staff members book customers into their own calendar only"
        raise DomainError(ErrorCode.INVALID, message, "staff_id")


def check_customer(customer: accounts.User | None, actor: Viewer) -> None:
    """The customer exists and is active; booking for yourself needs a verified email (a
    staff member or an admin booking for someone vouches for them)."""
    if customer is None or not customer.is_active:
        raise DomainError(ErrorCode.NOT_FOUND, "No such customer", "customer_id")
    if customer.id == actor.user_id and customer.email_verified_at is None:
        message = "Verify your email address to book an appointment"
        raise DomainError(ErrorCode.EMAIL_NOT_VERIFIED, message)


def check_notice(starts_at: datetime, *, now: datetime, policy: Policy) -> None:
    """INVALID in the past or sooner than the minimum notice."""
    if starts_at < now:
        raise DomainError(ErrorCode.INVALID, "That time has passed", "starts_at")
    if starts_at < now + policy.notice:
        minutes = int(policy.notice.total_seconds() // 60)
        message = f"Appointments are booked at least {minutes} minutes ahead"
        raise DomainError(ErrorCode.INVALID, message, "starts_at")


def check_bookable(
    calendar: Calendar,
    starts: Sequence[datetime],
    *,
    duration: timedelta,
    policy: Policy,
    now: datetime,
) -> None:
    """Each start is one the slot list (ignoring appointments) offers; else why not, naming
    the week of a recurring booking."""
    for week, starts_at in enumerate(starts, start=1):
        if offered_at(calendar, starts_at=starts_at, duration=duration, policy=policy, now=now):
            continue
        error = why_not_offered(calendar, starts_at=starts_at, duration=duration, policy=policy)
        if len(starts) == 1:
            raise error
        raise DomainError(error.code, f"Week {week}: {error.message}", error.field)


# --- booking -----------------------------------------------------------------------------


async def book_appointment(
    session: AsyncSession, *, booking: NewBooking, actor: Viewer, policy: Policy
) -> list[Appointment]:
    """Book the appointment (and, recurring, the same local time each following week), all
    or nothing: the appointments by start. A clash with another live appointment in any
    week books nothing: SLOT_UNAVAILABLE naming the week."""
    notes, weeks = check_notes(booking.notes), check_weeks(booking.weeks)
    starts_at = check_moment(booking.starts_at)
    customer_id = actor.user_id if booking.customer_id is None else booking.customer_id
    check_books_for(actor, customer_id=customer_id, staff_id=booking.staff_id)

    async def attempt() -> list[Appointment]:
        parties = await load_parties(
            session,
            service_id=booking.service_id,
            staff_id=booking.staff_id,
            customer_id=customer_id,
        )
        service, staff = check_offered(parties)
        check_customer(parties.customer, actor)
        now = utcnow()
        check_notice(starts_at, now=now, policy=policy)
        duration = timedelta(minutes=service.duration_minutes)
        calendar = await _calendar_for(session, staff, starts_at, weeks, duration)
        starts = slots.weekly(starts_at, calendar.zone, weeks)
        check_bookable(calendar, starts, duration=duration, policy=policy, now=now)
        values = _values(booking, customer_id, starts, duration, notes)
        booked = await _insert(session, values, calendar)
        customer = parties.customer
        assert customer is not None  # check_customer
        told = notices.About(booked[0], customer, staff, service)
        await notices.booked(session, appointments=booked, known=told)
        return booked

    return await retried(session, attempt)


def _values(
    booking: NewBooking,
    customer_id: int,
    starts: Sequence[datetime],
    duration: timedelta,
    notes: str | None,
) -> dict[str, Any]:
    """The parameters of `_BOOK`: the appointment of each start (several share a new series
    id)."""
    return {
        "customer_id": customer_id,
        "staff_id": booking.staff_id,
        "service_id": booking.service_id,
        "starts": list(starts),
        "ends": [at + duration for at in starts],
        "notes": notes,
        "series_id": uuid.uuid4() if len(starts) > 1 else None,
    }


def _book_statement() -> Any:
    """INSERT an appointment per start (`starts`, `ends`: arrays, one item per week), the
    rest of the columns shared, skipping those the exclusion constraint refuses; the rows
    made come back as Appointment objects. Built once: one SQL whatever the weeks (asyncpg
    learns the array types once per connection)."""
    table: Any = Appointment.__table__  # type: ignore[attr-defined]
    stamps = ARRAY(DateTime(timezone=True))
    weeks = (
        func.unnest(bindparam("starts", type_=stamps), bindparam("ends", type_=stamps))
        .table_valued("starts_at", "ends_at")
        .render_derived("week")
    )
    shared = {
        "customer_id": BigInteger,
        "staff_id": BigInteger,
        "service_id": BigInteger,
        "notes": Text,
        "series_id": Uuid,
    }
    values: list[Any] = [bindparam(name, type_=kind) for name, kind in shared.items()]
    source = select(*values, weeks.c.starts_at, weeks.c.ends_at)
    statement = (
        insert(table)
        .from_select([*shared, "starts_at", "ends_at"], source)
        .on_conflict_do_nothing()
        .returning(*table.c)
    )
    return select(Appointment).from_statement(statement)


_BOOK = _book_statement()


async def _calendar_for(
    session: AsyncSession,
    staff: accounts.User,
    starts_at: datetime,
    weeks: int,
    duration: timedelta,
) -> Calendar:
    """The staff member's week and time off from the first start to the last end (the
    weeks' starts shift by an hour or so at most across clock changes: a day's margin)."""
    end = starts_at + timedelta(weeks=weeks - 1, days=1) + duration
    return await load_calendar(session, staff=staff, start=starts_at, end=end)


async def _insert(
    session: AsyncSession, values: dict[str, Any], calendar: Calendar
) -> list[Appointment]:
    """INSERT the appointments in one statement (`_BOOK`), a series sharing one id; those
    that would break the exclusion constraint are skipped, and the first one skipped is
    SLOT_UNAVAILABLE (the caller's transaction then rolls back the rest)."""
    made = (await session.exec(_BOOK, params=values)).scalars().all()
    booked = sorted(made, key=_by_start)
    starts = values["starts"]
    if len(booked) < len(starts):
        taken = {row.starts_at for row in booked}
        week, clash = next((n, at) for n, at in enumerate(starts, start=1) if at not in taken)
        prefix = f"Week {week}: " if len(starts) > 1 else ""
        raise DomainError(ErrorCode.SLOT_UNAVAILABLE, prefix + _taken(clash, calendar))
    return booked


def _by_start(row: Appointment) -> datetime:
    return row.starts_at


def _taken(starts_at: datetime, calendar: Calendar) -> str:
    local = f"{starts_at.astimezone(calendar.zone):%Y-%m-%d %H:%M} ({calendar.zone.key})"
    return f"{local} is not free: another appointment holds that time"


# --- moving ------------------------------------------------------------------------------


def may_see(actor: Viewer, row: Appointment) -> bool:
    """The appointment's customer, its staff member and admins (rules.APPOINTMENTS)."""
    return actor.is_admin or actor.user_id in (row.customer_id, row.staff_id)


async def require_appointment(
    session: AsyncSession, *, appointment_id: int, actor: Viewer
) -> Appointment:
    """The appointment, else NOT_FOUND on `id`, also for one the actor may not see."""
    row = await session.get(Appointment, appointment_id)
    if row is None or not may_see(actor, row):
        raise DomainError(ErrorCode.NOT_FOUND, "No such appointment", "id")
    return row


def check_may_move(row: Appointment, *, actor: Viewer, now: datetime, policy: Policy) -> None:
    """A live appointment; its customer moves it until CANCELLATION_WINDOW_HOURS before
    its start (as they may cancel it), its staff member and admins anytime."""
    if row.status not in LIVE_VALUES:
        message = f"A {row.status.lower().replace('_', ' ')} appointment cannot be moved"
        raise DomainError(ErrorCode.INVALID_TRANSITION, message)
    if actor.is_admin or actor.user_id == row.staff_id:
        return
    if row.starts_at - now < policy.window:
        hours = int(policy.window.total_seconds() // 3600)
        message = f"Appointments can be moved until {hours} hours before they start"
        raise DomainError(ErrorCode.CANCELLATION_WINDOW_CLOSED, message)


async def reschedule_appointment(
    session: AsyncSession,
    *,
    appointment_id: int,
    starts_at: datetime,
    actor: Viewer,
    policy: Policy,
) -> Appointment:
    """Move the appointment to `starts_at`, keeping its length, in one UPDATE: the old time
    is let go only when the new one is taken. The new time must be bookable, as for
    `book_appointment`; one of another series member stays where it is."""
    check_moment(starts_at)
    row = await require_appointment(session, appointment_id=appointment_id, actor=actor)
    now = utcnow()
    check_may_move(row, actor=actor, now=now, policy=policy)
    _, staff = check_offered(
        await load_parties(session, service_id=row.service_id, staff_id=row.staff_id)
    )
    check_notice(starts_at, now=now, policy=policy)
    duration = row.ends_at - row.starts_at
    calendar = await load_calendar(session, staff=staff, start=starts_at, end=starts_at + duration)
    check_bookable(calendar, [starts_at], duration=duration, policy=policy, now=now)
    previous = row.starts_at
    if starts_at == previous:
        return row
    moved = await _move(session, row, starts_at, duration, now, calendar)
    await notices.rescheduled(session, appointment=moved, previous_starts_at=previous)
    return moved


async def _move(
    session: AsyncSession,
    row: Appointment,
    starts_at: datetime,
    duration: timedelta,
    now: datetime,
    calendar: Calendar,
) -> Appointment:
    """One UPDATE under the exclusion constraint: SLOT_UNAVAILABLE when the new time
    clashes; INVALID_TRANSITION when the appointment stopped being live meanwhile."""
    statement = (
        update(Appointment)
        .where(col(Appointment.id) == row.id, col(Appointment.status).in_(LIVE_VALUES))
        .values(starts_at=starts_at, ends_at=starts_at + duration, updated_at=now)
        .returning(Appointment)
        .execution_options(populate_existing=True)
    )
    try:
        moved = (await session.exec(statement)).scalars().one_or_none()
    except IntegrityError as error:
        if violated_constraint(error) != APPOINTMENT_OVERLAP:
            raise
        raise DomainError(ErrorCode.SLOT_UNAVAILABLE, _taken(starts_at, calendar)) from None
    if moved is None:
        raise DomainError(ErrorCode.INVALID_TRANSITION, "The appointment is no longer live")
    return moved  # type: ignore[no-any-return]

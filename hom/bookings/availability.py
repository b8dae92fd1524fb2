"""What a staff member can be booked for: everything the slot rules (`hom.bookings.slots`)
need, and the checks that booking and the slot list share.

The slot list (`available_slots`, which both read paths of `availableSlots` call) reads
it all in one statement whatever the range holds (`hom.bookings.calendar_reads`). A
booking reads in three: the service, the staff member and the customer (`load_parties`),
then the week and the time off over its weeks (`load_calendar`; the exclusion constraint,
not a read, refuses the clashes with appointments). Both apply the same checks
(`check_given`) and the same slot rules (`free_slots`).

A start is bookable exactly when the slot list, ignoring appointments, offers it: the
booking rules ask the same function the slot list is answered by, so both agree on every
clock-change day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import BigInteger, bindparam, literal, select
from sqlalchemy.orm import aliased
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.accounts import service as accounts
from hom.bookings import calendar_reads, reads, slots
from hom.bookings.models import Service, WorkingHours
from hom.bookings.staff import Member, is_staff_member
from hom.core.clock import utcnow
from hom.core.config import Settings
from hom.core.errors import DomainError, ErrorCode

# Nothing is booked or listed this far ahead (the arithmetic of a year-9999 date overflows).
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Policy:
    """The settings booking follows: SLOT_GRID_MINUTES, BOOKING_MIN_NOTICE_MIN and (for a
    customer moving their appointment) CANCELLATION_WINDOW_HOURS."""

    grid: timedelta
    notice: timedelta
    window: timedelta = timedelta(hours=24)

    @classmethod
    def of(cls, settings: Settings) -> Policy:
        return cls(
            grid=timedelta(minutes=settings.slot_grid_minutes),
            notice=timedelta(minutes=settings.booking_min_notice_min),
            window=timedelta(hours=settings.cancellation_window_hours),
        )


@dataclass(frozen=True)
class Parties:
    """Statement 1: the service, the staff member, whether they give it, the customer
    (None where there is no such row)."""

    service: Service | None
    staff: accounts.User | None
    gives: bool
    customer: accounts.User | None = None


@dataclass(frozen=True)
class Calendar:
    """A staff member's week and what keeps them busy over a range, in their zone."""

    zone: ZoneInfo
    hours: list[slots.WeeklyHours]
    busy: list[slots.Busy]


# Built once: an alias proxies every column of the table, which costs more than the query.
_STAFF = aliased(accounts.User, name="staff")
_CUSTOMER = aliased(accounts.User, name="customer")
_ANCHOR = select(literal(1).label("one")).subquery("anchor")


async def load_parties(
    session: AsyncSession, *, service_id: int, staff_id: int, customer_id: int | None = None
) -> Parties:
    """The service, the staff member and the customer in one statement (outer joins on a
    one-row anchor, so a missing one is None rather than no row)."""
    ids = {"service_id": service_id, "staff_id": staff_id, "customer_id": customer_id}
    service, staff_row, customer_row, given = (await session.exec(_PARTIES, params=ids)).one()
    return Parties(service, staff_row, bool(given), customer_row)


def _parties_statement() -> Any:
    """`load_parties`' statement, with parameters for the three ids."""
    service_id, staff_id, customer_id = (
        bindparam(name, type_=BigInteger) for name in ("service_id", "staff_id", "customer_id")
    )
    gives = calendar_reads.gives(service_id, staff_id)
    return (
        select(Service, _STAFF, _CUSTOMER, gives.label("gives"))
        .select_from(_ANCHOR)
        .outerjoin(Service, col(Service.id) == service_id)
        .outerjoin(_STAFF, _STAFF.id == staff_id)  # type: ignore[arg-type]
        .outerjoin(_CUSTOMER, _CUSTOMER.id == customer_id)  # type: ignore[arg-type]
    )


# Built once, like the aliases: building and keying it cost a good part of the read's CPU.
_PARTIES = _parties_statement()


class Offered(Protocol):
    """What the rules read of a service (a row, or what the slot list's statement read)."""

    @property
    def name(self) -> str: ...
    @property
    def is_active(self) -> bool: ...
    @property
    def duration_minutes(self) -> int: ...


class Giver(Member, Protocol):
    """What the rules read of a staff member."""

    @property
    def full_name(self) -> str: ...
    @property
    def timezone(self) -> str: ...


ServiceT = TypeVar("ServiceT", bound=Offered)
StaffT = TypeVar("StaffT", bound=Giver)


def check_offered(parties: Parties) -> tuple[Service, accounts.User]:
    """`check_given` of what `load_parties` read."""
    return check_given(parties.service, parties.staff, gives=parties.gives)


def check_given(
    service: ServiceT | None, staff: StaffT | None, *, gives: bool
) -> tuple[ServiceT, StaffT]:
    """The service and the staff member, when the one is offered now and the other gives
    it; else NOT_FOUND (no such service, no such user) or INVALID, on the input at fault."""
    if service is None:
        raise DomainError(ErrorCode.NOT_FOUND, "No such service", "service_id")
    if not service.is_active:
        raise DomainError(ErrorCode.INVALID, f"{service.name} is not offered now", "service_id")
    if staff is None:
        raise DomainError(ErrorCode.NOT_FOUND, "No such staff member", "staff_id")
    if not is_staff_member(staff):
        message = f"{staff.full_name} is not a staff member (an active user with role STAFF)"
        raise DomainError(ErrorCode.INVALID, message, "staff_id")
    if not gives:
        message = f"{staff.full_name} does not give {service.name}"
        raise DomainError(ErrorCode.INVALID, message, "staff_id")
    return service, staff


def zone_of(staff: Giver) -> ZoneInfo:
    """The staff member's time zone (their profile's; UTC should it name none known)."""
    try:
        return ZoneInfo(staff.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


async def load_calendar(
    session: AsyncSession, *, staff: accounts.User, start: datetime, end: datetime
) -> Calendar:
    """A booking's statements 2 and 3: the staff member's week, and their time off
    overlapping [start, end)."""
    assert staff.id is not None
    week = (await session.exec(_WEEK, params={"staff_id": staff.id})).all()
    hours = [slots.WeeklyHours(weekday, begins, ends) for weekday, begins, ends in week]
    bounds = {"staff_id": staff.id, "start": start, "end": end}
    rows = (await session.exec(_AWAY, params=bounds)).all()
    busy = [slots.Busy(a, b) for a, b in rows]
    return Calendar(zone_of(staff), hours, busy)


# Built once (building it took a good part of the CPU of a booking's reads); the week as
# plain columns, not WorkingHours objects.
_AWAY: Any = calendar_reads.away_query(bindparam("staff_id"), bindparam("start"), bindparam("end"))
_WEEK: Any = reads.working_hours_query(
    staff_id=bindparam("staff_id"),  # type: ignore[arg-type]
    columns=[col(WorkingHours.weekday), col(WorkingHours.start_time), col(WorkingHours.end_time)],
)


def free_slots(
    calendar: Calendar,
    *,
    duration: timedelta,
    policy: Policy,
    start: datetime,
    end: datetime,
    now: datetime,
) -> list[slots.Slot]:
    """The slots of `duration` starting in [start, end), `policy.notice` from `now` on."""
    return slots.available_slots(
        hours=calendar.hours,
        zone=calendar.zone,
        busy=calendar.busy,
        duration=duration,
        grid=policy.grid,
        start=start,
        end=end,
        earliest=now + policy.notice,
    )


def check_query_range(start: datetime, end: datetime) -> None:
    """The slot list's range: aware, `start` before `end`, at most MAX_RANGE, before LATEST."""
    try:
        slots.check_range(start, end)
    except ValueError as error:
        raise DomainError(ErrorCode.INVALID, str(error), "to") from None
    if end > LATEST:
        raise DomainError(ErrorCode.INVALID, f"`to` must be before {LATEST.year}", "to")


async def available_slots(
    driver: Any,
    *,
    service_id: int,
    staff_id: int,
    start: datetime,
    end: datetime,
    policy: Policy,
) -> list[slots.Slot]:
    """`availableSlots`: the free slots of the service with the staff member starting in
    [start, end) (at most MAX_RANGE), in one statement on asyncpg's connection `driver`. A
    range refused is INVALID on `to` (the bound that ends it); a service not offered, or
    a staff member who does not give it: the DomainError of `check_given`."""
    check_query_range(start, end)
    now = utcnow()
    lower = max(start, now + policy.notice)
    found = await calendar_reads.read(
        driver, service_id=service_id, staff_id=staff_id, start=lower, end=end
    )
    service, staff = check_given(found.service, found.staff, gives=found.gives)
    if lower >= end:
        return []  # the whole range is past, or sooner than the notice
    calendar = Calendar(zone_of(staff), found.hours, found.busy)
    duration = timedelta(minutes=service.duration_minutes)
    return free_slots(calendar, duration=duration, policy=policy, start=start, end=end, now=now)


def offered_at(
    calendar: Calendar, *, starts_at: datetime, duration: timedelta, policy: Policy, now: datetime
) -> bool:
    """Whether the slot list (of `calendar`) offers a slot starting exactly at `starts_at`."""
    moment = starts_at.astimezone(UTC)
    found = free_slots(
        calendar,
        duration=duration,
        policy=policy,
        start=moment,
        end=moment + timedelta(microseconds=1),
        now=now,
    )
    return any(slot.starts_at == moment for slot in found)


def why_not_offered(
    calendar: Calendar, *, starts_at: datetime, duration: timedelta, policy: Policy
) -> DomainError:
    """Why a start the slot list does not offer is refused (the notice already checked):
    OUTSIDE_WORKING_HOURS (outside their hours, or during their time off), else INVALID
    (inside working time, but not on the grid)."""
    ends_at = starts_at + duration
    zone = calendar.zone
    local = f"{starts_at.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})"
    if not slots.within_working_hours(calendar.hours, zone, starts_at, ends_at):
        span = f"{starts_at.astimezone(zone):%Y-%m-%d %H:%M}-{ends_at.astimezone(zone):%H:%M}"
        message = f"{span} ({zone.key}) is not within the staff member's working hours"
        return DomainError(ErrorCode.OUTSIDE_WORKING_HOURS, message, "starts_at")
    if any(b.starts_at < ends_at and starts_at < b.ends_at for b in calendar.busy):
        message = f"The staff member is away (time off) at {local}"
        return DomainError(ErrorCode.OUTSIDE_WORKING_HOURS, message, "starts_at")
    grid = int(policy.grid.total_seconds() // 60)
    message = (
        f"{local} is not a slot: slots start every {grid} minutes from the start of the "
        "working hours (see availableSlots)"
    )
    return DomainError(ErrorCode.INVALID, message, "starts_at")

"""The bookings benchmarks' data, written straight into the tables through the models (no
rules, no audit, no mail): fast to make and the same on every run.

- `busy_staff`: for `availableSlots` over 31 days, a staff member in Europe/Berlin working
  Monday to Saturday 08:00-12:00 and 13:00-19:00, with two days off and one afternoon off
  in the range and `appointments` (300) live appointments of half an hour spread over its
  other working days (a fixed seed picks the times), the range starting at the next local
  midnight but one.
- `open_calendars`: for `bookAppointment`, staff members working every day 06:00-22:00
  (UTC) with nothing booked, and `free_slots`, the half-hour slots they offer from the
  next midnight but one, staff member by staff member within each time, so that
  concurrent bookers ask different people.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import count, cycle
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import col

from hom.accounts.models import User
from hom.bookings.models import (
    Appointment,
    AppointmentStatus,
    Service,
    StaffService,
    TimeOff,
    WorkingHours,
)
from hom.core.unit_of_work import SessionMaker, unit_of_work

SEED = 20_261_206
MINUTES = 30  # the benchmarks' service
BERLIN = ZoneInfo("Europe/Berlin")
Week = dict[int, tuple[tuple[time, time], ...]]  # weekday (0 Monday): local ranges
BUSY_WEEK: Week = {day: ((time(8), time(12)), (time(13), time(19))) for day in range(6)}
OPEN_WEEK: Week = {day: ((time(6), time(22)),) for day in range(7)}
RANGE = timedelta(days=31)
DAYS_OFF = (9, 10)  # days of the range (from 0) off entirely
AFTERNOON_OFF = 19  # and one afternoon (13:00-19:00)


@dataclass(frozen=True)
class SlotsCase:
    """What `availableSlots` is asked: service, staff member, [start, end)."""

    service_id: int
    staff_id: int
    start: datetime
    end: datetime
    appointments: int
    time_off: int


def first_day(now: datetime, zone: ZoneInfo) -> date:
    """The day after tomorrow in `zone`: clear of any minimum notice."""
    return now.astimezone(zone).date() + timedelta(days=2)


def places(day: date, week: Week, zone: ZoneInfo) -> list[datetime]:
    """The half-hour starts of a day's working ranges (local times, aware)."""
    return [
        datetime.combine(day, start, tzinfo=zone) + timedelta(minutes=m)
        for start, end in week.get(day.weekday(), ())
        for m in range(0, _minutes(start, end) - MINUTES + 1, MINUTES)
    ]


def _minutes(start: time, end: time) -> int:
    return (end.hour - start.hour) * 60 + end.minute - start.minute


def time_off(first: date) -> list[tuple[datetime, datetime]]:
    """The busy staff member's time off in the range: two whole days and an afternoon."""
    days = [first + timedelta(days=n) for n in (*DAYS_OFF, AFTERNOON_OFF)]
    whole = (
        datetime.combine(days[0], time(0), tzinfo=BERLIN),
        datetime.combine(days[1] + timedelta(days=1), time(0), tzinfo=BERLIN),
    )
    afternoon = (
        datetime.combine(days[2], time(13), tzinfo=BERLIN),
        datetime.combine(days[2], time(19), tzinfo=BERLIN),
    )
    return [whole, afternoon]


def appointment_starts(first: date, appointments: int) -> list[datetime]:
    """Where the busy staff member's appointments start: at working places clear of time
    off, spread evenly over the range's days (a fixed seed picks the places of a day)."""
    away = time_off(first)
    days = [first + timedelta(days=n) for n in range(RANGE.days)]
    free = [[p for p in places(day, BUSY_WEEK, BERLIN) if not _clashes(p, away)] for day in days]
    free = [day for day in free if day]
    rng = random.Random(SEED)
    starts: list[datetime] = []
    for index, day_places in enumerate(free):
        left_days = len(free) - index
        wanted = -(-(appointments - len(starts)) // left_days)  # ceiling
        starts += sorted(rng.sample(day_places, min(wanted, len(day_places))))
    if len(starts) != appointments:
        raise ValueError(f"{appointments} appointments do not fit the range's working hours")
    return starts


def _clashes(start: datetime, busy: Sequence[tuple[datetime, datetime]]) -> bool:
    end = start + timedelta(minutes=MINUTES)
    return any(a < end and start < b for a, b in busy)


async def _staff(maker: SessionMaker, staff_ids: Sequence[int], zone: str, week: Week) -> int:
    """Make the users staff members in `zone` working `week`, all giving one new service
    (its id)."""
    async with unit_of_work(maker) as session:
        await session.exec(
            update(User)
            .where(col(User.id).in_(staff_ids))
            .values(role="STAFF", timezone=zone, full_name="Bench Staff")
        )
        service = Service(name=f"Bench cut {zone}", duration_minutes=MINUTES, price=Decimal(20))
        session.add(service)
        await session.flush()
        assert service.id is not None
        for staff_id in staff_ids:
            session.add(StaffService(service_id=service.id, staff_id=staff_id))
            for weekday, ranges in week.items():
                for start, end in ranges:
                    session.add(
                        WorkingHours(
                            staff_id=staff_id, weekday=weekday, start_time=start, end_time=end
                        )
                    )
        return service.id


async def busy_staff(
    maker: SessionMaker, staff_id: int, customer_ids: Sequence[int], appointments: int = 300
) -> SlotsCase:
    """The staff member of `availableSlots`, with time off and `appointments` live ones
    (pending and confirmed, alternately) of the customers in turn."""
    service_id = await _staff(maker, [staff_id], "Europe/Berlin", BUSY_WEEK)
    first = first_day(datetime.now(UTC), BERLIN)
    away = time_off(first)
    customers = cycle(customer_ids)
    async with unit_of_work(maker) as session:
        for a, b in away:
            session.add(TimeOff(staff_id=staff_id, starts_at=a, ends_at=b, reason="Bench"))
        for n, start in enumerate(appointment_starts(first, appointments)):
            confirmed = n % 2 == 1
            session.add(
                Appointment(
                    customer_id=next(customers),
                    staff_id=staff_id,
                    service_id=service_id,
                    starts_at=start,
                    ends_at=start + timedelta(minutes=MINUTES),
                    status=(
                        AppointmentStatus.CONFIRMED if confirmed else AppointmentStatus.PENDING
                    ),
                    confirmed_at=datetime.now(UTC) if confirmed else None,
                )
            )
    start = datetime.combine(first, time(0), tzinfo=BERLIN).astimezone(UTC)
    return SlotsCase(service_id, staff_id, start, start + RANGE, appointments, len(away))


@dataclass(frozen=True)
class OpenCalendars:
    service_id: int
    staff_ids: list[int]
    first: date


async def open_calendars(maker: SessionMaker, staff_ids: Sequence[int]) -> OpenCalendars:
    """Staff members (in UTC) working every day 06:00-22:00, nothing booked."""
    service_id = await _staff(maker, staff_ids, "UTC", OPEN_WEEK)
    return OpenCalendars(service_id, list(staff_ids), first_day(datetime.now(UTC), ZoneInfo("UTC")))


def free_slots(calendars: OpenCalendars) -> Iterator[tuple[int, datetime]]:
    """(staff id, start) of every free slot, soonest first, staff member by staff member
    within each time; endless."""
    for n in count():
        day = calendars.first + timedelta(days=n)
        for start in places(day, OPEN_WEEK, ZoneInfo("UTC")):
            for staff_id in calendars.staff_ids:
                yield staff_id, start

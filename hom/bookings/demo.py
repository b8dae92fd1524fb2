"""`hom seed-demo`'s bookings: a few services, three staff members in two time zones who
give them, each one's weekly hours, and a handful of the demo customers' appointments.

Everything is made through the bookings' rules (audited as a demo admin's work, the
front desk `desk@demo.example.com`, whose password is random: nobody signs in as it).
The staff members sign in with the demo customers' published password, to try their
own schedule. One service is inactive (what admins alone see).

The appointments are written straight into their table, in every status (pending and
confirmed ones ahead, completed, missed and cancelled ones behind, one cancelled ahead),
at times relative to the day of the seeding: the n-th working day of the staff member
after (or before) today, at a local time inside their hours. Live ones never overlap, so
the exclusion constraint has nothing to refuse. They are not booked through the rules: no
mail, no reminder, no audit entry. A planned appointment whose demo customer does not
exist (the catalog's demo makes them) is left out.

Idempotent: a service is known by its name, a staff member by their email, an
appointment by its customer, staff member and service. What exists, whatever happened to
it since, is left alone: a service's staff are assigned when it is made, a staff
member's hours are set when they are made.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.accounts import admin as accounts_admin
from hom.accounts import service as accounts
from hom.bookings import offering, schedule
from hom.bookings.models import STAGE_CHECKS, Appointment, AppointmentStatus, Service, Weekday
from hom.catalog import service as catalog
from hom.core.clock import utcnow
from hom.core.demo import DemoRun, SeedReport
from hom.core.roles import Role
from hom.core.viewer import Viewer

DESK_EMAIL = "desk@demo.example.com"
STAFF_EMAIL = "staff{number}@demo.example.com"
STAFF_PASSWORD = "hom-demo-password"  # noqa: S105 - the demo's published password
D = Weekday
WEEKDAYS = (D.MONDAY, D.TUESDAY, D.WEDNESDAY, D.THURSDAY, D.FRIDAY)


@dataclass(frozen=True)
class DemoStaff:
    full_name: str
    timezone: str
    week: tuple[tuple[Weekday, str, str], ...]  # (day, "HH:MM", "HH:MM")


@dataclass(frozen=True)
class DemoService:
    name: str
    minutes: int
    price: str
    description: str
    staff: tuple[int, ...]  # the demo staff members' numbers
    active: bool = True


# Numbered from 1 in this order (the email is staff<n>@demo.example.com).
STAFF = (
    DemoStaff(
        "Anna Berger",
        "Europe/Berlin",
        tuple(
            (day, start, end)
            for day in WEEKDAYS
            for start, end in (("09:00", "12:30"), ("13:30", "17:00"))
        ),
    ),
    DemoStaff(
        "Mia Johnson",
        "America/New_York",
        tuple(
            (day, "10:00", "18:00")
            for day in (D.TUESDAY, D.WEDNESDAY, D.THURSDAY, D.FRIDAY, D.SATURDAY)
        ),
    ),
    DemoStaff(
        "Lena Fischer",
        "Europe/Berlin",
        tuple((day, "08:00", "14:00") for day in (D.MONDAY, D.WEDNESDAY, D.FRIDAY)),
    ),
)
SERVICES = (
    DemoService("Haircut", 30, "35.00", "Wash, cut and dry.", (1, 2)),
    DemoService("Colour and cut", 90, "89.00", "A new colour, then a cut.", (1,)),
    DemoService("Beard trim", 15, "15.00", "Shaped and trimmed.", (2, 3)),
    DemoService("Style consultation", 45, "0.00", "What would suit you, over a coffee.", (3,)),
    DemoService("Perm", 120, "120.00", "Back in spring.", (1,), active=False),
)
S = AppointmentStatus
_, CONFIRMED_ONCE = STAGE_CHECKS["confirmed_at_set"]  # the statuses with a confirmed_at


@dataclass(frozen=True)
class DemoAppointment:
    customer: int  # the demo customer's number (customer<n>@demo.example.com)
    staff: int  # the demo staff member's number
    service: str
    workday: int  # the staff member's n-th working day after today (before: negative)
    start: str  # local "HH:MM", in the staff member's time zone
    status: AppointmentStatus
    notes: str | None = None
    cancel_reason: str | None = None


# Each (customer, staff member, service) once: that is how a run knows one is there.
APPOINTMENTS = (
    DemoAppointment(1, 1, "Haircut", 2, "10:00", S.PENDING, "First time here."),
    DemoAppointment(2, 1, "Colour and cut", 3, "14:00", S.CONFIRMED, "Something darker."),
    DemoAppointment(3, 2, "Haircut", 1, "11:00", S.CONFIRMED),
    DemoAppointment(4, 3, "Beard trim", 2, "09:30", S.PENDING),
    DemoAppointment(5, 3, "Style consultation", 4, "11:00", S.CANCELLED, None, "Caught a cold."),
    DemoAppointment(1, 2, "Beard trim", -3, "16:00", S.COMPLETED),
    DemoAppointment(2, 1, "Haircut", -2, "09:00", S.COMPLETED, "Short at the back."),
    DemoAppointment(6, 1, "Haircut", -1, "15:00", S.NO_SHOW),
    DemoAppointment(7, 2, "Haircut", -5, "12:00", S.CANCELLED, None, "Could not make it."),
)


async def seed(session: AsyncSession, *, run: DemoRun) -> None:
    """The bookings' part of `hom seed-demo` (its declared `demo`): after the orders'."""
    await seed_bookings(session, report=run.report)


async def seed_bookings(session: AsyncSession, *, report: SeedReport) -> None:
    desk = await _desk(session, report)
    staff = {
        n: await _staff_member(session, n, member, report)
        for n, member in enumerate(STAFF, start=1)
    }
    services = {
        offered.name: await _service(session, offered, staff, desk, report) for offered in SERVICES
    }
    await _appointments(session, staff, services, report)


def _viewer(user_id: int | None, role: Role) -> Viewer:
    assert user_id is not None
    return Viewer(user_id=user_id, role=role, sid="demo", jti="demo", expires_at=0)


async def _desk(session: AsyncSession, report: SeedReport) -> Viewer:
    """The demo admin the offering's changes are audited as, made on first use."""
    user = await accounts.find_by_email(session, email=DESK_EMAIL)
    created = user is None
    if user is None:
        new = accounts_admin.NewUser(
            email=DESK_EMAIL,
            password=secrets.token_urlsafe(24),
            full_name="Demo front desk",
            role=Role.ADMIN,
            email_verified=True,
        )
        user = await accounts_admin.create_user(session, new=new)
    report.count("admins").add(wanted=1, created=int(created))
    return _viewer(user.id, Role.ADMIN)


async def _staff_member(
    session: AsyncSession, number: int, member: DemoStaff, report: SeedReport
) -> int:
    """The staff member's user id; made (in their time zone, with their week) when missing."""
    email = STAFF_EMAIL.format(number=number)
    user = await accounts.find_by_email(session, email=email)
    report.count("staff").add(wanted=1, created=int(user is None))
    if user is not None:
        assert user.id is not None
        report.count("working hours").add(wanted=len(member.week), created=0)
        return user.id
    new = accounts_admin.NewUser(
        email=email,
        password=STAFF_PASSWORD,
        full_name=member.full_name,
        role=Role.STAFF,
        email_verified=True,
    )
    user = await accounts_admin.create_user(session, new=new)
    me = _viewer(user.id, Role.STAFF)
    await accounts.update_profile(session, viewer=me, full_name=None, timezone=member.timezone)
    hours = [
        schedule.HoursRange(day, time.fromisoformat(start), time.fromisoformat(end))
        for day, start, end in member.week
    ]
    await schedule.set_working_hours(session, staff_id=me.user_id, hours=hours, actor=me)
    report.count("working hours").add(wanted=len(hours), created=len(hours))
    return me.user_id


async def _service(
    session: AsyncSession,
    offered: DemoService,
    staff: dict[int, int],
    desk: Viewer,
    report: SeedReport,
) -> int:
    """The service's id; made, with its staff assigned, when missing."""
    statement = select(col(Service.id)).where(func.lower(col(Service.name)) == offered.name.lower())
    found = (await session.exec(statement)).first()
    report.count("services").add(wanted=1, created=int(found is None))
    if found is not None:
        return found
    new = offering.NewService(
        name=offered.name,
        duration_minutes=offered.minutes,
        price=Decimal(offered.price),
        description=offered.description,
        is_active=offered.active,
    )
    made = await offering.create_service(session, new=new, actor=desk)
    assert made.id is not None
    for number in offered.staff:
        await offering.assign_staff(session, service_id=made.id, staff_id=staff[number], actor=desk)
    return made.id


# --- appointments ----------------------------------------------------------------------------


def starts_at(planned: DemoAppointment, now: datetime) -> datetime:
    """When the planned appointment starts, seeded at `now` (aware)."""
    member = STAFF[planned.staff - 1]
    zone = ZoneInfo(member.timezone)
    day = _workday(now.astimezone(zone).date(), planned.workday, member)
    return datetime.combine(day, time.fromisoformat(planned.start), tzinfo=zone)


def _workday(today: date, n: int, member: DemoStaff) -> date:
    """The n-th day after today (n < 0: before) on which the staff member works."""
    works = {day.number for day, _, _ in member.week}
    step = timedelta(days=1 if n > 0 else -1)
    day, left = today, abs(n)
    while left:
        day += step
        left -= day.weekday() in works
    return day


def appointment_row(
    planned: DemoAppointment, ids: tuple[int, int, int], minutes: int, now: datetime
) -> Appointment:
    """The planned appointment (ids: customer, staff member, service), with the stamps of
    its status: booked a week ahead (or now, when that is later), confirmed at once."""
    start = starts_at(planned, now)
    end = start + timedelta(minutes=minutes)
    booked = min(now, start - timedelta(days=7))
    status = planned.status
    customer_id, staff_id, service_id = ids
    return Appointment(
        customer_id=customer_id,
        staff_id=staff_id,
        service_id=service_id,
        starts_at=start,
        ends_at=end,
        status=status.value,
        notes=planned.notes,
        cancel_reason=planned.cancel_reason,
        created_at=booked,
        confirmed_at=booked if status in CONFIRMED_ONCE else None,
        completed_at=end if status is S.COMPLETED else None,
        no_show_at=start + timedelta(minutes=15) if status is S.NO_SHOW else None,
        cancelled_at=min(now, start - timedelta(days=1)) if status is S.CANCELLED else None,
    )


async def _appointments(
    session: AsyncSession, staff: dict[int, int], services: dict[str, int], report: SeedReport
) -> None:
    """The planned appointments of the demo customers that exist, those not there yet."""
    customers = await _customers(session)
    minutes = {offered.name: offered.minutes for offered in SERVICES}
    made = await _made(session, list(staff.values()))
    now, created = utcnow(), 0
    planned = [p for p in APPOINTMENTS if p.customer in customers]
    for p in planned:
        ids = (customers[p.customer], staff[p.staff], services[p.service])
        if ids not in made:
            session.add(appointment_row(p, ids, minutes[p.service], now))
            created += 1
    await session.flush()
    report.count("appointments").add(wanted=len(planned), created=created)


async def _customers(session: AsyncSession) -> dict[int, int]:
    """{demo customer number: user id} of the planned appointments' customers that exist."""
    emails = {
        catalog.DEMO_CUSTOMER_EMAIL.format(number=p.customer): p.customer for p in APPOINTMENTS
    }
    found = await accounts.user_ids_by_email(session, emails=list(emails))
    return {emails[email]: user_id for email, user_id in found.items()}


async def _made(session: AsyncSession, staff_ids: list[int]) -> set[tuple[int, int, int]]:
    """(customer, staff member, service) of the demo staff's appointments."""
    statement = select(
        col(Appointment.customer_id), col(Appointment.staff_id), col(Appointment.service_id)
    ).where(col(Appointment.staff_id).in_(staff_ids))
    return {tuple(row) for row in await session.exec(statement)}  # type: ignore[misc]

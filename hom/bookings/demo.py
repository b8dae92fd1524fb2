"""`hom seed-demo`'s bookings: a few services, three staff members in two time zones who
give them, and each one's weekly hours.

Everything is made through the bookings' rules (audited as a demo admin's work, the
front desk `desk@demo.example.com`, whose password is random: nobody signs in as it).
The staff members sign in with the demo customers' published password, to try their
own schedule. One service is inactive (what admins alone see).

Idempotent: a service is known by its name, a staff member by their email. What exists,
whatever happened to it since, is left alone: a service's staff are assigned when it is
made, a staff member's hours are set when they are made.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import time
from decimal import Decimal

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.accounts import service as accounts
from hom.bookings import offering, schedule
from hom.bookings.models import Service, Weekday
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


async def seed(session: AsyncSession, *, run: DemoRun) -> None:
    """The bookings' part of `hom seed-demo` (its declared `demo`): after the orders'."""
    await seed_bookings(session, report=run.report)


async def seed_bookings(session: AsyncSession, *, report: SeedReport) -> None:
    desk = await _desk(session, report)
    staff = {
        n: await _staff_member(session, n, member, report)
        for n, member in enumerate(STAFF, start=1)
    }
    for offered in SERVICES:
        await _service(session, offered, staff, desk, report)


def _viewer(user_id: int | None, role: Role) -> Viewer:
    assert user_id is not None
    return Viewer(user_id=user_id, role=role, sid="demo", jti="demo", expires_at=0)


async def _desk(session: AsyncSession, report: SeedReport) -> Viewer:
    """The demo admin the offering's changes are audited as, made on first use."""
    user = await accounts.find_by_email(session, email=DESK_EMAIL)
    created = user is None
    if user is None:
        new = accounts.NewUser(
            email=DESK_EMAIL,
            password=secrets.token_urlsafe(24),
            full_name="Demo front desk",
            role=Role.ADMIN,
            email_verified=True,
        )
        user = await accounts.create_user(session, new=new)
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
    new = accounts.NewUser(
        email=email,
        password=STAFF_PASSWORD,
        full_name=member.full_name,
        role=Role.STAFF,
        email_verified=True,
    )
    user = await accounts.create_user(session, new=new)
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
) -> None:
    """The service, made with its staff assigned when missing."""
    statement = select(col(Service.id)).where(func.lower(col(Service.name)) == offered.name.lower())
    exists = (await session.exec(statement)).first() is not None
    report.count("services").add(wanted=1, created=int(not exists))
    if exists:
        return
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

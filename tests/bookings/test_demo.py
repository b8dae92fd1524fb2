"""The demo's bookings: services, staff members in two time zones with their weeks, made
through the real rules (audited), the demo customers' appointments in every status (inside
working hours, live ones ahead and apart, whatever the day of the seeding), idempotent,
and what a visitor and a customer then read."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import text

from hom.bookings import demo
from hom.bookings.models import LIVE, AppointmentStatus
from hom.bookings.slots import WeeklyHours, within_working_hours
from hom.catalog.service import DEMO_CUSTOMER_EMAIL
from hom.core.demo import SeedReport
from hom.core.unit_of_work import SessionMaker, unit_of_work
from tests.factories import create_user, login_tokens
from tests.support import GraphQLClient

STAFF = """
SELECT u.full_name, u.timezone, u.role, count(h.id)
FROM user_account u LEFT JOIN working_hours h ON h.staff_id = u.id
WHERE u.email LIKE 'staff%@demo.example.com' GROUP BY u.id ORDER BY u.email
"""
# Everything the bookings' demo leaves behind, to compare two runs by.
TRACES = """
SELECT (SELECT count(*) FROM service), (SELECT count(*) FROM staff_service),
       (SELECT count(*) FROM working_hours), (SELECT count(*) FROM user_account),
       (SELECT count(*) FROM audit_entry), (SELECT count(*) FROM appointment)
"""
APPOINTMENTS = """
SELECT c.email, st.email, sv.name, a.starts_at, a.ends_at, a.status, a.notes, a.cancel_reason
FROM appointment a JOIN user_account c ON c.id = a.customer_id
JOIN user_account st ON st.id = a.staff_id JOIN service sv ON sv.id = a.service_id
ORDER BY a.starts_at
"""
S = AppointmentStatus
# A Friday evening in Berlin, two days before its clocks go forward (Sunday 31 March).
SEEDED_AT = datetime(2030, 3, 29, 19, 30, tzinfo=UTC)
pytestmark = pytest.mark.usefixtures("features_learnt")


async def seed(maker: SessionMaker) -> SeedReport:
    report = SeedReport()
    async with unit_of_work(maker) as session:
        await demo.seed_bookings(session, report=report)
    return report


async def rows_of(maker: SessionMaker, sql: str) -> list[tuple[Any, ...]]:
    async with maker() as session:
        return [tuple(row) for row in await session.exec(text(sql))]  # type: ignore[call-overload]


async def test_the_demo_has_services_and_staff_in_two_time_zones(
    session_maker: SessionMaker,
) -> None:
    report = await seed(session_maker)
    assert {kind: count.created for kind, count in report.counts.items()} == {
        "admins": 1,
        "staff": 3,
        "working hours": 10 + 5 + 3,
        "services": 5,
        "appointments": 0,  # no demo customers: the catalog's demo makes them
    }
    assert await rows_of(session_maker, STAFF) == [
        ("Anna Berger", "Europe/Berlin", "STAFF", 10),
        ("Mia Johnson", "America/New_York", "STAFF", 5),
        ("Lena Fischer", "Europe/Berlin", "STAFF", 3),
    ]
    ((_, links, _, _, audits, _),) = await rows_of(session_maker, TRACES)
    assert links == sum(len(service.staff) for service in demo.SERVICES)
    assert audits == 5 + links + 3  # services made, staff assigned, weeks set


async def test_seeding_again_creates_nothing(session_maker: SessionMaker) -> None:
    await seed(session_maker)
    traces = await rows_of(session_maker, TRACES)
    second = await seed(session_maker)
    assert {kind: count.created for kind, count in second.counts.items()} == {
        "admins": 0,
        "staff": 0,
        "working hours": 0,
        "services": 0,
        "appointments": 0,
    }
    assert second.counts["services"].existing == len(demo.SERVICES)
    assert await rows_of(session_maker, TRACES) == traces


async def test_a_visitor_sees_what_can_be_booked_and_with_whom(
    session_maker: SessionMaker, gql: GraphQLClient
) -> None:
    await seed(session_maker)
    body = await gql("{ services { name durationMinutes staff { fullName } } }")
    assert body["data"]["services"] == [
        {"name": "Beard trim", "durationMinutes": 15, "staff": [
            {"fullName": "Lena Fischer"}, {"fullName": "Mia Johnson"}]},
        {"name": "Colour and cut", "durationMinutes": 90, "staff": [{"fullName": "Anna Berger"}]},
        {"name": "Haircut", "durationMinutes": 30, "staff": [
            {"fullName": "Anna Berger"}, {"fullName": "Mia Johnson"}]},
        {"name": "Style consultation", "durationMinutes": 45, "staff": [
            {"fullName": "Lena Fischer"}]},
    ]  # fmt: skip


@pytest.fixture
def seeded_at(monkeypatch: pytest.MonkeyPatch) -> datetime:
    monkeypatch.setattr(demo, "utcnow", lambda: SEEDED_AT)
    return SEEDED_AT


async def demo_customers(maker: SessionMaker) -> None:
    for number in sorted({planned.customer for planned in demo.APPOINTMENTS}):
        await create_user(maker, email=DEMO_CUSTOMER_EMAIL.format(number=number))


def staff_email(number: int) -> str:
    return demo.STAFF_EMAIL.format(number=number)


async def test_the_demo_customers_have_appointments_in_every_status(
    session_maker: SessionMaker, seeded_at: datetime
) -> None:
    await demo_customers(session_maker)
    report = await seed(session_maker)
    assert report.counts["appointments"].created == len(demo.APPOINTMENTS) == 9
    rows = await rows_of(session_maker, APPOINTMENTS)
    assert Counter(row[5] for row in rows) == {
        "PENDING": 2, "CONFIRMED": 2, "COMPLETED": 2, "NO_SHOW": 1, "CANCELLED": 2,
    }  # fmt: skip
    berlin, new_york = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
    # Mia works Tuesday to Saturday: her 1st working day after that Friday is Saturday.
    ahead = [row for row in rows if row[3] > SEEDED_AT]
    assert ahead[0][:4] == (
        "customer3@demo.example.com",
        staff_email(2),
        "Haircut",
        datetime(2030, 3, 30, 11, 0, tzinfo=new_york),
    )
    assert rows[-1][1:8] == (
        staff_email(3),
        "Style consultation",
        datetime(2030, 4, 8, 11, 0, tzinfo=berlin),
        datetime(2030, 4, 8, 11, 45, tzinfo=berlin),
        "CANCELLED",
        None,
        "Caught a cold.",
    )
    # Anna works Monday to Friday: her 2nd working day after that Friday is Tuesday, after
    # the clocks went forward (10:00 is still 10:00 local, at another offset).
    first_pending = next(row for row in rows if row[5] == "PENDING" and row[1] == staff_email(1))
    assert first_pending[3:5] == (
        datetime(2030, 4, 2, 10, 0, tzinfo=berlin),
        datetime(2030, 4, 2, 10, 30, tzinfo=berlin),
    )
    for row in rows:
        starts_at, status = row[3], row[5]
        assert (starts_at > SEEDED_AT) == (status in LIVE or row[7] == "Caught a cold."), row


async def test_seeding_the_appointments_again_creates_none(
    session_maker: SessionMaker, seeded_at: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    await demo_customers(session_maker)
    await seed(session_maker)
    traces = await rows_of(session_maker, TRACES)
    monkeypatch.setattr(demo, "utcnow", lambda: SEEDED_AT + timedelta(days=9))
    again = await seed(session_maker)
    assert again.counts["appointments"].created == 0
    assert again.counts["appointments"].existing == len(demo.APPOINTMENTS)
    assert await rows_of(session_maker, TRACES) == traces


def weekly_hours(member: demo.DemoStaff) -> list[WeeklyHours]:
    return [
        WeeklyHours(day.number, time.fromisoformat(start), time.fromisoformat(end))
        for day, start, end in member.week
    ]


@pytest.mark.parametrize(
    "now",
    [
        SEEDED_AT,
        datetime(2030, 3, 8, 23, 59, tzinfo=UTC),  # New York's clocks go forward on Sunday
        datetime(2030, 10, 26, 12, 0, tzinfo=UTC),  # Berlin's go back on Sunday
        datetime(2030, 11, 1, 3, 30, tzinfo=UTC),  # late Thursday evening in New York
        datetime(2031, 1, 5, 10, 0, tzinfo=UTC),  # a Sunday
    ],
)
def test_the_plan_fits_the_staff_weeks_whenever_it_is_seeded(now: datetime) -> None:
    """Inside working hours, with a service the staff member gives; live ones (and the
    cancelled one ahead) after the seeding, the others before; live ones of a staff
    member never overlap; each (customer, staff member, service) once."""
    live: dict[int, list[tuple[datetime, datetime]]] = {}
    for planned in demo.APPOINTMENTS:
        service = next(s for s in demo.SERVICES if s.name == planned.service)
        assert planned.staff in service.staff
        assert service.active
        starts_at = demo.starts_at(planned, now)
        ends_at = starts_at + timedelta(minutes=service.minutes)
        member = demo.STAFF[planned.staff - 1]
        zone = ZoneInfo(member.timezone)
        assert within_working_hours(weekly_hours(member), zone, starts_at, ends_at), planned
        assert (starts_at > now) == (planned.workday > 0), planned
        if planned.status in LIVE:
            assert planned.workday > 0
            live.setdefault(planned.staff, []).append((starts_at, ends_at))
    for intervals in live.values():
        intervals.sort()
        assert all(a[1] <= b[0] for a, b in pairwise(intervals))
    keys = [(p.customer, p.staff, p.service) for p in demo.APPOINTMENTS]
    assert len(set(keys)) == len(keys)


MINE = """{ myAppointments { edges { node {
  status startsAt service { name } staff { fullName } cancelReason } } } }"""


async def test_a_demo_customer_reads_their_appointments(
    session_maker: SessionMaker,
    gql: GraphQLClient,
    client: httpx.AsyncClient,
    seeded_at: datetime,
) -> None:
    await demo_customers(session_maker)
    await seed(session_maker)
    tokens = await login_tokens(client, DEMO_CUSTOMER_EMAIL.format(number=2))
    body = await gql(MINE, token=tokens.access_token)
    assert [edge["node"] for edge in body["data"]["myAppointments"]["edges"]] == [
        {
            "status": "COMPLETED",
            "startsAt": "2030-03-27T08:00:00+00:00",
            "service": {"name": "Haircut"},
            "staff": {"fullName": "Anna Berger"},
            "cancelReason": None,
        },
        {
            "status": "CONFIRMED",
            "startsAt": "2030-04-03T12:00:00+00:00",
            "service": {"name": "Colour and cut"},
            "staff": {"fullName": "Anna Berger"},
            "cancelReason": None,
        },
    ]

"""`availableSlots` over GraphQL: public, the slot rules over what the database holds (hours
in the staff member's zone, time off, live appointments, the notice), its refusals
(BAD_USER_INPUT naming the argument), and its statements: one, whatever the range holds, on
either read path (each answer of the compiled path is compared with the executor's by the
`gql` client)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import select
from starlette.applications import Starlette

from hom.accounts.models import User
from hom.bookings import service as service_rules
from hom.bookings.models import Appointment, AppointmentStatus, Service, Weekday
from hom.bookings.schedule import NewTimeOff
from hom.core.db import SessionMaker
from hom.core.unit_of_work import unit_of_work
from tests.bookings.clock import Clock
from tests.bookings.factories import a_service, a_staff_member, an_admin, set_hours
from tests.catalog.factories import global_id
from tests.factories import create_user
from tests.support import GraphQLClient, count_statements, error_codes

S = AppointmentStatus
# Wednesday 1 May 2030, 06:00 UTC (08:00 in Berlin); the Monday after is 6 May.
NOW = datetime(2030, 5, 1, 6, 0, tzinfo=UTC)
MONDAY = datetime(2030, 5, 6, tzinfo=UTC)
SLOTS = """query ($service: ID!, $staff: ID!, $from: DateTime!, $to: DateTime!) {
  availableSlots(serviceId: $service, staffId: $staff, from: $from, to: $to) { startsAt endsAt }
}"""
WEEKDAYS = [Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY, Weekday.FRIDAY]


def iso(moment: datetime) -> str:
    return moment.isoformat()


def starts(body: dict[str, Any]) -> list[str]:
    assert "errors" not in body, body
    return [slot["startsAt"][11:16] for slot in body["data"]["availableSlots"]]


async def ask(
    gql: GraphQLClient, service: Service, staff: User, start: datetime, end: datetime
) -> dict[str, Any]:
    variables = {
        "service": global_id("Service", service.id),
        "staff": global_id("Person", staff.id),
        "from": iso(start),
        "to": iso(end),
    }
    return await gql(SLOTS, variables)


async def a_berlin_week(session_maker: SessionMaker) -> tuple[Service, User]:
    """A staff member in Berlin, weekdays 09:00-17:00, giving a 30-minute service."""
    admin = await an_admin(session_maker)
    staff = await a_staff_member(session_maker, "Bea Berger", "Europe/Berlin")
    await set_hours(session_maker, admin, staff, *((day, "09:00", "17:00") for day in WEEKDAYS))
    return await a_service(session_maker, admin, "Haircut", staff=(staff,)), staff


async def appointments(
    session_maker: SessionMaker, service: Service, staff: User, starts_at: list[datetime]
) -> None:
    """Live appointments of the service with the staff member (in one transaction)."""
    customer = await create_user(session_maker, full_name="Customer")
    async with unit_of_work(session_maker) as session:
        session.add_all(
            Appointment(
                customer_id=customer.id or 0,
                staff_id=staff.id or 0,
                service_id=service.id or 0,
                starts_at=at,
                ends_at=at + timedelta(minutes=service.duration_minutes),
            )
            for at in starts_at
        )


async def test_the_slots_are_the_working_hours_minus_what_is_booked(
    gql: GraphQLClient, session_maker: SessionMaker, clock: Clock
) -> None:
    clock.now = NOW
    service, staff = await a_berlin_week(session_maker)
    # Monday 09:00-10:30 Berlin (07:00-08:30 UTC): one appointment 09:30-10:00 local.
    await appointments(session_maker, service, staff, [MONDAY + timedelta(hours=7, minutes=30)])
    body = await ask(gql, service, staff, MONDAY, MONDAY + timedelta(hours=8, minutes=30))
    # Before the working day (00:00-07:00 UTC) nothing; a slot ending at 07:30 or starting
    # at 08:00 touches the appointment without clashing.
    assert starts(body) == ["07:00", "08:00", "08:15"]
    # A slot may end after `to`, and the answer is UTC with its length.
    body = await ask(
        gql, service, staff, MONDAY + timedelta(hours=8, minutes=15), MONDAY.replace(hour=9)
    )
    assert body["data"]["availableSlots"][:1] == [
        {"startsAt": "2030-05-06T08:15:00+00:00", "endsAt": "2030-05-06T08:45:00+00:00"}
    ]


async def test_a_cancelled_appointment_and_time_off_count_as_they_should(
    gql: GraphQLClient, session_maker: SessionMaker, clock: Clock
) -> None:
    clock.now = NOW
    service, staff = await a_berlin_week(session_maker)
    await appointments(session_maker, service, staff, [MONDAY.replace(hour=7)])
    async with unit_of_work(session_maker) as session:
        row = (await session.exec(select(Appointment))).one()
        row.status, row.cancelled_at = S.CANCELLED.value, NOW
    admin = await an_admin(session_maker)
    async with unit_of_work(session_maker) as session:
        away = NewTimeOff(
            staff_id=staff.id or 0,
            starts_at=MONDAY.replace(hour=7, minute=45),
            ends_at=MONDAY.replace(hour=8),
        )
        await service_rules.add_time_off(session, new=away, actor=admin)
    body = await ask(gql, service, staff, MONDAY.replace(hour=7), MONDAY.replace(hour=8))
    # The cancelled appointment holds nothing; the time off 07:45-08:00 does.
    assert starts(body) == ["07:00", "07:15"]


async def test_the_notice_and_the_past_leave_no_slot(
    gql: GraphQLClient, session_maker: SessionMaker, clock: Clock
) -> None:
    service, staff = await a_berlin_week(session_maker)
    clock.now = MONDAY.replace(hour=7, minute=5)
    # BOOKING_MIN_NOTICE_MIN is 60: nothing before 08:05 UTC; the grid stays at :00/:15.
    body = await ask(gql, service, staff, MONDAY, MONDAY.replace(hour=9))
    assert starts(body) == ["08:15", "08:30", "08:45"]
    past = await ask(gql, service, staff, MONDAY - timedelta(days=3), MONDAY)
    assert starts(past) == []


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (MONDAY, MONDAY + timedelta(days=31, seconds=1)),
        (MONDAY, MONDAY),
        (MONDAY + timedelta(hours=1), MONDAY),
    ],
)
async def test_a_bad_range_is_bad_user_input(
    gql: GraphQLClient,
    session_maker: SessionMaker,
    clock: Clock,
    start: datetime,
    end: datetime,
) -> None:
    clock.now = NOW
    service, staff = await a_berlin_week(session_maker)
    body = await ask(gql, service, staff, start, end)
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert "from" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["argument"] == "to"
    full = await ask(gql, service, staff, MONDAY, MONDAY + timedelta(days=31))
    assert "errors" not in full


async def test_a_naive_datetime_is_bad_user_input(
    gql: GraphQLClient, session_maker: SessionMaker, clock: Clock
) -> None:
    clock.now = NOW
    service, staff = await a_berlin_week(session_maker)
    variables = {
        "service": global_id("Service", service.id),
        "staff": global_id("Person", staff.id),
        "from": "2030-05-06T09:00:00",
        "to": "2030-05-07T09:00:00Z",
    }
    body = await gql(SLOTS, variables)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert "offset" in body["errors"][0]["message"]


async def test_asking_for_what_cannot_be_booked_is_bad_user_input(
    gql: GraphQLClient, session_maker: SessionMaker, clock: Clock
) -> None:
    clock.now = NOW
    service, staff = await a_berlin_week(session_maker)
    admin = await an_admin(session_maker)
    retired = await a_service(session_maker, admin, "Perm", active=False, staff=(staff,))
    ungiven = await a_service(session_maker, admin, "Massage")
    customer = await create_user(session_maker, full_name="Not Staff")
    end = MONDAY + timedelta(days=1)
    cases = [
        (await ask(gql, retired, staff, MONDAY, end), "serviceId", "Perm is not offered now"),
        (await ask(gql, ungiven, staff, MONDAY, end), "staffId", "does not give Massage"),
        (await ask(gql, service, customer, MONDAY, end), "staffId", "is not a staff member"),
        (await ask(gql, _gone(service), staff, MONDAY, end), "serviceId", "No such service"),
    ]
    for body, argument, message in cases:
        assert error_codes(body) == ["BAD_USER_INPUT"], body
        assert body["errors"][0]["extensions"]["argument"] == argument
        assert message in body["errors"][0]["message"]


def _gone(service: Service) -> Service:
    return Service(id=(service.id or 0) + 1000, name="Gone", duration_minutes=30, price=Decimal(0))


@pytest.mark.usefixtures("features_learnt")
@pytest.mark.parametrize("path", ["compiled", "executor"])
async def test_slots_over_31_days_cost_one_statement_whatever_is_booked(
    app: Starlette, gql: GraphQLClient, session_maker: SessionMaker, clock: Clock, path: str
) -> None:
    app.state.compiled.enabled = path == "compiled"
    clock.now = NOW
    service, staff = await a_berlin_week(session_maker)
    start = MONDAY
    end = start + timedelta(days=31)
    # Weekday mornings from 09:00 Berlin (07:00 UTC), back to back: 300 fit in 31 days.
    days = [
        start + timedelta(days=d) for d in range(31) if (start + timedelta(days=d)).weekday() < 5
    ]
    booked = [day + timedelta(hours=7, minutes=30 * n) for day in days for n in range(16)]
    counts, sizes = {}, {}
    done = 0
    # asyncpg asks the server about array types once per connection (two statements).
    await ask(gql, service, staff, start, end)
    answered = app.state.compiled.answered
    for total in (0, 30, 300):
        await appointments(session_maker, service, staff, booked[done:total])
        done = total
        with count_statements(app.state.services.engine) as log:
            body = await ask(gql, service, staff, start, end)
        counts[total], sizes[total] = log.count, len(starts(body))
    assert counts == {0: 1, 30: 1, 300: 1}, counts
    assert app.state.compiled.answered - answered == (3 if path == "compiled" else 0)
    # 23 weekdays of 16 half-hours, a slot every 15 minutes: 31 a day; less what is booked.
    assert sizes[0] == 23 * 31
    assert sizes[0] > sizes[30] > sizes[300]


async def test_the_far_future_is_bad_user_input_not_an_overflow(
    gql: GraphQLClient, session_maker: SessionMaker, clock: Clock
) -> None:
    clock.now = NOW
    service, staff = await a_berlin_week(session_maker)
    far = datetime(9999, 12, 30, tzinfo=UTC)
    body = await ask(gql, service, staff, far, far + timedelta(hours=12))
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["argument"] == "to"

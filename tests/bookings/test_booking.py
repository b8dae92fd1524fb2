"""`bookAppointment` over GraphQL: what it books, who may book for whom, every refusal
changing nothing, collisions refused by the database under truly concurrent requests,
recurring bookings all or nothing, and its SQL statements."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import col
from starlette.applications import Starlette

from hom.app import create_app
from hom.bookings import service as rules
from hom.bookings.models import Appointment, AppointmentStatus
from hom.core.config import Settings
from hom.core.db import SessionMaker
from hom.core.roles import Role
from hom.core.unit_of_work import unit_of_work
from tests.bookings.booking_support import (
    BOOK,
    MONDAY_9,
    NOW,
    Desk,
    a_desk,
    book,
    codes,
    live_starts,
    traces,
)
from tests.bookings.clock import Clock
from tests.bookings.factories import a_service
from tests.catalog.factories import global_id
from tests.orders.order_support import Caller, a_caller
from tests.support import GraphQLClient, count_statements, error_codes, live_server

S = AppointmentStatus


@pytest.fixture
async def desk(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker, clock: Clock
) -> Desk:
    clock.now = NOW
    return await a_desk(client, gql, session_maker)


@pytest.fixture
async def customer(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> Caller:
    return await a_caller(client, gql, session_maker)


async def test_a_customer_books_a_slot_for_themselves(desk: Desk, customer: Caller) -> None:
    answer = await book(customer, desk.booking("2030-05-06T09:00:00+02:00", notes=" Short "))
    assert answer["errors"] == []
    booked = answer["appointment"]
    assert {k: booked[k] for k in ("startsAt", "endsAt", "status", "notes", "seriesId")} == {
        "startsAt": "2030-05-06T07:00:00+00:00",
        "endsAt": "2030-05-06T07:30:00+00:00",
        "status": "PENDING",
        "notes": "Short",
        "seriesId": None,
    }
    assert booked["staff"] == {"fullName": "Bea Berger"}
    assert answer["appointments"] == [{"startsAt": booked["startsAt"], "seriesId": None}]


@pytest.mark.usefixtures("features_learnt")
async def test_a_booking_costs_seven_statements_for_one_week_or_twelve(
    app: Starlette, desk: Desk, customer: Caller
) -> None:
    document = (
        "mutation ($input: BookAppointmentInput!) { bookAppointment(input: $input) {"
        " appointment { id startsAt status } errors { code } } }"
    )
    # The service, the staff member and the customer; the week; the time off; the INSERT;
    # then what people are told (hom.bookings.notices, about the people and the service
    # read first): the mail, the customer's and the staff member's notifications (one
    # INSERT), the reminders (one upsert for all of them). asyncpg asks the server about the
    # INSERT's array types once per connection (two statements): a booking first.
    warm = await customer(document, desk.booking(MONDAY_9 + timedelta(hours=2)))
    assert warm["data"]["bookAppointment"]["errors"] == [], warm
    for n, weeks in enumerate((1, 12)):
        variables = desk.booking(MONDAY_9 + timedelta(hours=n), recurrence={"weeks": weeks})
        with count_statements(app.state.services.engine) as log:
            body = await customer(document, variables)
        assert body["data"]["bookAppointment"]["errors"] == [], body
        assert log.count == 7, log.statements


# --- collisions ----------------------------------------------------------------------------


async def test_thirty_customers_after_one_slot_get_one_appointment(
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    settings: Settings,
    desk: Desk,
) -> None:
    buyers = [await a_caller(client, gql, session_maker) for _ in range(30)]
    slot = MONDAY_9 + timedelta(minutes=30)

    # Each customer over a connection of their own to a server running in another thread.
    with live_server(create_app(settings)) as url:

        async def attempt(buyer: Caller) -> dict[str, Any]:
            async with httpx.AsyncClient(base_url=url, timeout=60) as http:
                response = await http.post(
                    "/graphql",
                    json={"query": BOOK, "variables": desk.booking(slot)},
                    headers={"Authorization": f"Bearer {buyer.token}"},
                )
            body: dict[str, Any] = response.json()
            assert "errors" not in body, body
            return body["data"]["bookAppointment"]  # type: ignore[no-any-return]

        answers = await asyncio.gather(*(attempt(buyer) for buyer in buyers))

    outcomes = [tuple(codes(answer)) for answer in answers]
    assert outcomes.count(()) == 1
    assert outcomes.count(("SLOT_UNAVAILABLE",)) == 29
    assert await live_starts(session_maker, desk.staff) == ["2030-05-06T07:30:00+00:00"]
    # Back to back is fine: the slot ending where it starts, and the one starting where it ends.
    for neighbour in (slot - timedelta(minutes=30), slot + timedelta(minutes=30)):
        assert codes(await book(buyers[0], desk.booking(neighbour))) == []
    assert len(await live_starts(session_maker, desk.staff)) == 3


async def test_the_same_instant_in_another_offset_or_an_overlap_is_taken(
    desk: Desk, customer: Caller, session_maker: SessionMaker
) -> None:
    assert codes(await book(customer, desk.booking("2030-05-06T10:00:00+02:00"))) == []
    before = await traces(session_maker)
    for moment in ("2030-05-06T04:00:00-04:00", "2030-05-06T08:00:00Z", "2030-05-06T07:45:00Z"):
        answer = await book(customer, desk.booking(moment))
        assert codes(answer) == ["SLOT_UNAVAILABLE"], (moment, answer)
        assert answer["appointment"] is None
        assert "is not free" in answer["errors"][0]["message"]
    assert await traces(session_maker) == before


async def test_a_cancelled_slot_can_be_booked_again(
    desk: Desk, customer: Caller, session_maker: SessionMaker
) -> None:
    first = await book(customer, desk.booking(MONDAY_9))
    async with unit_of_work(session_maker) as session:
        await session.exec(
            update(Appointment)
            .where(col(Appointment.starts_at) == MONDAY_9)
            .values(status=S.CANCELLED.value, cancelled_at=NOW)
        )
    again = await book(customer, desk.booking(MONDAY_9))
    assert codes(again) == []
    assert again["appointment"]["id"] != first["appointment"]["id"]


# --- recurring -----------------------------------------------------------------------------


async def test_a_recurring_booking_keeps_the_local_time_across_a_clock_change(
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    clock: Clock,
    customer: Caller,
) -> None:
    clock.now = datetime(2030, 3, 1, tzinfo=UTC)
    desk = await a_desk(client, gql, session_maker)
    # Monday 18 March 2030, 10:00 in Berlin (UTC+1), weekly for 3 weeks: on 31 March the
    # clocks go forward, so the third is 10:00 CEST, an hour earlier in UTC.
    answer = await book(
        customer, desk.booking("2030-03-18T10:00:00+01:00", recurrence={"weeks": 3})
    )
    assert codes(answer) == []
    listed = answer["appointments"]
    assert [a["startsAt"] for a in listed] == [
        "2030-03-18T09:00:00+00:00",
        "2030-03-25T09:00:00+00:00",
        "2030-04-01T08:00:00+00:00",
    ]
    assert len({a["seriesId"] for a in listed}) == 1
    assert listed[0]["seriesId"] is not None
    assert answer["appointment"]["startsAt"] == listed[0]["startsAt"]


async def test_a_recurring_booking_with_one_clashing_week_books_nothing(
    desk: Desk,
    customer: Caller,
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
) -> None:
    other = await a_caller(client, gql, session_maker)
    assert codes(await book(other, desk.booking(MONDAY_9 + timedelta(weeks=2)))) == []
    before = await traces(session_maker)

    answer = await book(customer, desk.booking(MONDAY_9, recurrence={"weeks": 4}))

    assert codes(answer) == ["SLOT_UNAVAILABLE"]
    assert answer["errors"][0]["message"].startswith("Week 3: 2030-05-20 09:00 (Europe/Berlin)")
    assert (answer["appointment"], answer["appointments"]) == (None, None)
    assert await traces(session_maker) == before
    # A week outside working hours (a holiday taken as time off) is named too.
    async with unit_of_work(session_maker) as session:
        away = rules.NewTimeOff(
            staff_id=desk.staff.id or 0,
            starts_at=MONDAY_9 + timedelta(weeks=1),
            ends_at=MONDAY_9 + timedelta(weeks=1, days=1),
        )
        await rules.add_time_off(session, new=away, actor=desk.admin)
    before = await traces(session_maker)
    answer = await book(customer, desk.booking(MONDAY_9, recurrence={"weeks": 2}))
    assert codes(answer) == ["OUTSIDE_WORKING_HOURS"]
    assert answer["errors"][0]["message"].startswith("Week 2:")
    assert await traces(session_maker) == before


# --- refusals ------------------------------------------------------------------------------


async def test_each_refusal_changes_nothing(
    desk: Desk,
    customer: Caller,
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
) -> None:
    retired = await a_service(session_maker, desk.admin, "Perm", active=False, staff=(desk.staff,))
    ungiven = await a_service(session_maker, desk.admin, "Massage")
    async with unit_of_work(session_maker) as session:
        away = rules.NewTimeOff(
            staff_id=desk.staff.id or 0,
            starts_at=MONDAY_9 + timedelta(days=1),
            ends_at=MONDAY_9 + timedelta(days=1, hours=2),
        )
        await rules.add_time_off(session, new=away, actor=desk.admin)
    service_of = {"serviceId": global_id("Service", retired.id)}
    cases = [
        (desk.booking(MONDAY_9 - timedelta(hours=1)), "OUTSIDE_WORKING_HOURS", "startsAt"),
        (
            desk.booking(MONDAY_9 + timedelta(hours=7, minutes=45)),
            "OUTSIDE_WORKING_HOURS",
            "startsAt",
        ),
        (
            desk.booking(MONDAY_9 - timedelta(days=2)),
            "OUTSIDE_WORKING_HOURS",
            "startsAt",
        ),  # Saturday
        (desk.booking(MONDAY_9 + timedelta(days=1, hours=1)), "OUTSIDE_WORKING_HOURS", "startsAt"),
        (desk.booking(MONDAY_9 + timedelta(minutes=5)), "INVALID", "startsAt"),  # off the grid
        (desk.booking(NOW - timedelta(days=1)), "INVALID", "startsAt"),
        (desk.booking(NOW + timedelta(minutes=30)), "INVALID", "startsAt"),
        ({"input": {**desk.booking(MONDAY_9)["input"], **service_of}}, "INVALID", "serviceId"),
        (
            {
                "input": {
                    **desk.booking(MONDAY_9)["input"],
                    "serviceId": global_id("Service", ungiven.id),
                }
            },
            "INVALID",
            "staffId",
        ),
        (
            {
                "input": {
                    **desk.booking(MONDAY_9)["input"],
                    "serviceId": global_id("Service", 999999),
                }
            },
            "NOT_FOUND",
            "serviceId",
        ),
        (desk.booking(MONDAY_9, notes="x" * 1001), "INVALID", "notes"),
        (desk.booking(MONDAY_9, recurrence={"weeks": 13}), "INVALID", "recurrence.weeks"),
        (desk.booking(MONDAY_9, recurrence={"weeks": 0}), "INVALID", "recurrence.weeks"),
    ]
    unverified = await a_caller(client, gql, session_maker, verified=False)
    before = await traces(session_maker)
    for variables, code, field in cases:
        answer = await book(customer, variables)
        assert [(e["code"], e["field"]) for e in answer["errors"]] == [(code, field)], (
            variables,
            answer,
        )
        assert answer["appointment"] is None
    assert codes(await book(unverified, desk.booking(MONDAY_9))) == ["EMAIL_NOT_VERIFIED"]
    assert await traces(session_maker) == before


async def test_a_staff_member_who_no_longer_gives_appointments_cannot_be_booked(
    desk: Desk, customer: Caller, session_maker: SessionMaker
) -> None:
    async with unit_of_work(session_maker) as session:
        await rules.unassign_staff(
            session, service_id=desk.haircut.id or 0, staff_id=desk.staff.id or 0, actor=desk.admin
        )
    answer = await book(customer, desk.booking(MONDAY_9))
    assert [(e["code"], e["field"]) for e in answer["errors"]] == [("INVALID", "staffId")]
    assert "does not give Haircut" in answer["errors"][0]["message"]


# --- who books for whom --------------------------------------------------------------------


async def test_who_may_book_for_whom(
    desk: Desk,
    customer: Caller,
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
) -> None:
    for_customer = {"customerId": global_id("Person", customer.user_id)}
    before = await traces(session_maker)

    anonymous = await gql(BOOK, desk.booking(MONDAY_9))
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]
    someone = await a_caller(client, gql, session_maker)
    forbidden = await someone(BOOK, desk.booking(MONDAY_9, **for_customer))
    assert error_codes(forbidden) == ["FORBIDDEN"]
    operator = await a_caller(client, gql, session_maker, Role.OPERATOR)
    assert error_codes(await operator(BOOK, desk.booking(MONDAY_9, **for_customer))) == [
        "FORBIDDEN"
    ]
    assert await traces(session_maker) == before

    # A staff member books a customer into their own calendar; an admin into anyone's.
    by_staff = await book(desk.staff_caller, desk.booking(MONDAY_9, **for_customer))
    assert codes(by_staff) == []
    assert by_staff["appointment"]["customer"]["fullName"] == "Test User"
    by_admin = await book(
        desk.admin_caller, desk.booking(MONDAY_9 + timedelta(hours=1), **for_customer)
    )
    assert codes(by_admin) == []
    # Operators (and anyone signed in) book for themselves; naming yourself is the same.
    mine = {"customerId": global_id("Person", operator.user_id)}
    assert codes(await book(operator, desk.booking(MONDAY_9 + timedelta(hours=2), **mine))) == []


async def test_a_staff_member_books_customers_into_their_own_calendar_only(
    desk: Desk,
    customer: Caller,
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
) -> None:
    colleague = await a_caller(client, gql, session_maker, Role.STAFF)
    for_customer = {"customerId": global_id("Person", customer.user_id)}
    before = await traces(session_maker)
    answer = await book(colleague, desk.booking(MONDAY_9, **for_customer))
    assert [(e["code"], e["field"]) for e in answer["errors"]] == [("INVALID", "staffId")]
    with_themselves = {"customerId": global_id("Person", desk.staff.id)}
    answer = await book(desk.staff_caller, desk.booking(MONDAY_9, **with_themselves))
    assert [(e["code"], e["field"]) for e in answer["errors"]] == [("INVALID", "customerId")]
    assert await traces(session_maker) == before
    # For themselves, a staff member books a colleague like any customer.
    assert codes(await book(colleague, desk.booking(MONDAY_9))) == []


async def test_the_far_future_is_refused_not_an_overflow(desk: Desk, customer: Caller) -> None:
    for weeks in (1, 12):
        answer = await book(
            customer, desk.booking("9999-12-27T09:00:00+01:00", recurrence={"weeks": weeks})
        )
        assert [(e["code"], e["field"]) for e in answer["errors"]] == [("INVALID", "startsAt")]

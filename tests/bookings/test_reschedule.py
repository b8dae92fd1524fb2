"""`rescheduleAppointment` over GraphQL: a move in one step (the old time is free after,
a clash leaves it where it was), the same checks as booking for the new time, who may
move what (customers until the cancellation window), and refusals changing nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from starlette.applications import Starlette

from hom.bookings.models import Appointment, AppointmentStatus
from hom.core.db import SessionMaker
from hom.core.roles import Role
from hom.core.unit_of_work import unit_of_work
from tests.bookings.booking_support import (
    MONDAY_9,
    NOW,
    RESCHEDULE,
    Desk,
    a_desk,
    book,
    codes,
    live_starts,
    traces,
)
from tests.bookings.clock import Clock
from tests.orders.order_support import Caller, a_caller
from tests.support import GraphQLClient, count_statements, error_codes

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


async def booked_id(caller: Caller, desk: Desk, starts_at: Any = MONDAY_9) -> str:
    answer = await book(caller, desk.booking(starts_at))
    assert codes(answer) == [], answer
    return str(answer["appointment"]["id"])


async def move(caller: Caller, appointment_id: str, starts_at: Any) -> dict[str, Any]:
    moment = starts_at if isinstance(starts_at, str) else starts_at.isoformat()
    body = await caller(RESCHEDULE, {"input": {"id": appointment_id, "startsAt": moment}})
    assert "errors" not in body, body
    return body["data"]["rescheduleAppointment"]  # type: ignore[no-any-return]


async def test_a_move_frees_the_old_time(
    desk: Desk,
    customer: Caller,
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
) -> None:
    appointment = await booked_id(customer, desk)
    answer = await move(customer, appointment, "2030-05-07T14:00:00+02:00")
    assert answer["errors"] == []
    moved = answer["appointment"]
    assert (moved["id"], moved["startsAt"], moved["endsAt"], moved["status"]) == (
        appointment,
        "2030-05-07T12:00:00+00:00",
        "2030-05-07T12:30:00+00:00",
        "PENDING",
    )
    other = await a_caller(client, gql, session_maker)
    assert codes(await book(other, desk.booking(MONDAY_9))) == []  # the old time is free
    assert await live_starts(session_maker, desk.staff) == [
        "2030-05-06T07:00:00+00:00",
        "2030-05-07T12:00:00+00:00",
    ]


async def test_a_move_onto_part_of_its_own_time_is_fine(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker, clock: Clock
) -> None:
    clock.now = NOW
    desk = await a_desk(client, gql, session_maker, minutes=60)
    customer = await a_caller(client, gql, session_maker)
    appointment = await booked_id(customer, desk)
    answer = await move(customer, appointment, MONDAY_9 + timedelta(minutes=30))
    assert answer["errors"] == []
    assert answer["appointment"]["endsAt"] == "2030-05-06T08:30:00+00:00"


async def test_a_clash_leaves_it_where_it_was(
    desk: Desk,
    customer: Caller,
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
) -> None:
    appointment = await booked_id(customer, desk)
    other = await a_caller(client, gql, session_maker)
    await booked_id(other, desk, MONDAY_9 + timedelta(hours=2))
    before = await traces(session_maker)
    for clash in (MONDAY_9 + timedelta(hours=2), MONDAY_9 + timedelta(hours=1, minutes=45)):
        answer = await move(customer, appointment, clash)
        assert [(e["code"], e["field"]) for e in answer["errors"]] == [("SLOT_UNAVAILABLE", None)]
        assert answer["appointment"] is None
    assert await traces(session_maker) == before


async def test_two_moves_onto_one_time_at_once_make_one(
    desk: Desk, client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    people = [await a_caller(client, gql, session_maker) for _ in range(6)]
    ids = [
        await booked_id(person, desk, MONDAY_9 + timedelta(hours=n))
        for n, person in enumerate(people)
    ]
    target = MONDAY_9 + timedelta(days=1)
    answers = await asyncio.gather(
        *(move(person, id_, target) for person, id_ in zip(people, ids, strict=True))
    )
    outcomes = sorted(tuple(codes(answer)) for answer in answers)
    assert outcomes == [()] + [("SLOT_UNAVAILABLE",)] * 5
    starts = await live_starts(session_maker, desk.staff)
    assert len(starts) == 6
    assert target.isoformat() in starts


async def test_the_new_time_is_checked_as_a_booking_is(
    desk: Desk, customer: Caller, session_maker: SessionMaker
) -> None:
    appointment = await booked_id(customer, desk)
    before = await traces(session_maker)
    cases = [
        (MONDAY_9 - timedelta(hours=1), "OUTSIDE_WORKING_HOURS", "startsAt"),
        (MONDAY_9 + timedelta(minutes=10), "INVALID", "startsAt"),
        (NOW + timedelta(minutes=30), "INVALID", "startsAt"),
        (NOW - timedelta(days=1), "INVALID", "startsAt"),
    ]
    for starts_at, code, field in cases:
        answer = await move(customer, appointment, starts_at)
        assert [(e["code"], e["field"]) for e in answer["errors"]] == [(code, field)], answer
    assert await traces(session_maker) == before


async def test_who_may_move_what(
    desk: Desk,
    customer: Caller,
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    clock: Clock,
) -> None:
    appointment = await booked_id(customer, desk)
    someone = await a_caller(client, gql, session_maker)
    operator = await a_caller(client, gql, session_maker, Role.OPERATOR)
    colleague = await a_caller(client, gql, session_maker, Role.STAFF)
    before = await traces(session_maker)
    anonymous = await gql(
        RESCHEDULE, {"input": {"id": appointment, "startsAt": "2030-05-07T09:00:00Z"}}
    )
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]
    for stranger in (someone, operator, colleague):
        answer = await move(stranger, appointment, MONDAY_9 + timedelta(hours=1))
        assert [(e["code"], e["field"]) for e in answer["errors"]] == [("NOT_FOUND", "id")]
    missing = await move(customer, "QXBwb2ludG1lbnQ6OTk5OTk=", MONDAY_9)  # Appointment:99999
    assert [(e["code"], e["field"]) for e in missing["errors"]] == [("NOT_FOUND", "id")]
    assert await traces(session_maker) == before

    # Inside the cancellation window (24 h before the start) the customer no longer may;
    # the staff member and admins still do.
    clock.now = MONDAY_9 - timedelta(hours=23)
    late = await move(customer, appointment, MONDAY_9 + timedelta(hours=1))
    assert codes(late) == ["CANCELLATION_WINDOW_CLOSED"]
    assert await traces(session_maker) == before
    by_staff = await move(desk.staff_caller, appointment, MONDAY_9 + timedelta(hours=1))
    assert codes(by_staff) == []
    by_admin = await move(desk.admin_caller, appointment, MONDAY_9 + timedelta(hours=2))
    assert codes(by_admin) == []
    assert by_admin["appointment"]["startsAt"] == "2030-05-06T09:00:00+00:00"


async def test_only_a_live_appointment_moves(
    desk: Desk, customer: Caller, session_maker: SessionMaker
) -> None:
    appointment = await booked_id(customer, desk)
    for status, stamp in ((S.CANCELLED, "cancelled_at"), (S.COMPLETED, "completed_at")):
        async with unit_of_work(session_maker) as session:
            values = {"status": status.value, "cancelled_at": None, stamp: NOW, "confirmed_at": NOW}
            await session.exec(update(Appointment).values(**values))
        before = await traces(session_maker)
        answer = await move(desk.admin_caller, appointment, MONDAY_9 + timedelta(hours=1))
        assert codes(answer) == ["INVALID_TRANSITION"], answer
        assert await traces(session_maker) == before


@pytest.mark.usefixtures("features_learnt")
async def test_a_move_costs_nine_statements(app: Starlette, desk: Desk, customer: Caller) -> None:
    appointment = await booked_id(customer, desk)
    document = (
        "mutation ($input: RescheduleAppointmentInput!) { rescheduleAppointment(input: $input)"
        " { appointment { id startsAt } errors { code } } }"
    )
    variables = {
        "input": {"id": appointment, "startsAt": (MONDAY_9 + timedelta(hours=3)).isoformat()}
    }
    # The appointment; the service and staff member; the week; the time off; the UPDATE;
    # then what people are told: the two people, the service, the mail, the customer's and
    # the staff member's notifications (one INSERT), the reminders moved (one upsert).
    with count_statements(app.state.services.engine) as log:
        body = await customer(document, variables)
    assert body["data"]["rescheduleAppointment"]["errors"] == [], body
    assert log.count == 9, log.statements

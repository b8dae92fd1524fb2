"""The database keeps the bookings' invariants itself (SPEC §7): a staff member's live
appointments never overlap, nor do their working hours of one weekday; the checks
refuse what no rule should have let through."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from hom.bookings.models import APPOINTMENT_OVERLAP, HOURS_OVERLAP, Appointment, WorkingHours
from hom.core.db import violated_constraint
from hom.core.unit_of_work import SessionMaker, unit_of_work
from tests.bookings.factories import a_service, a_staff_member, an_admin
from tests.factories import create_user

NINE = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
HALF_HOUR = timedelta(minutes=30)


@pytest.fixture
async def people(session_maker: SessionMaker) -> dict[str, int]:
    """Two staff members, a customer, and a service they give."""
    admin = await an_admin(session_maker)
    anna, mia = await a_staff_member(session_maker), await a_staff_member(session_maker)
    customer = await create_user(session_maker)
    haircut = await a_service(session_maker, admin, staff=(anna, mia))
    ids = {"anna": anna.id, "mia": mia.id, "customer": customer.id, "service": haircut.id}
    return {name: value for name, value in ids.items() if value is not None}


async def book(
    session_maker: SessionMaker,
    people: dict[str, int],
    starts_at: datetime,
    *,
    staff: str = "anna",
    minutes: int = 30,
    **fields: Any,
) -> Appointment:
    appointment = Appointment(
        customer_id=people["customer"],
        staff_id=people[staff],
        service_id=people["service"],
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        **fields,
    )
    async with unit_of_work(session_maker) as session:
        session.add(appointment)
    return appointment


async def refused(session_maker: SessionMaker, work: Any) -> str | None:
    with pytest.raises(IntegrityError) as caught:
        await work
    return violated_constraint(caught.value)


async def test_two_live_appointments_of_one_staff_member_never_overlap(
    session_maker: SessionMaker, people: dict[str, int]
) -> None:
    await book(session_maker, people, NINE)
    overlapping = book(session_maker, people, NINE + timedelta(minutes=15))
    assert await refused(session_maker, overlapping) == APPOINTMENT_OVERLAP
    confirmed = book(
        session_maker, people, NINE - timedelta(minutes=15), status="CONFIRMED", confirmed_at=NINE
    )
    assert await refused(session_maker, confirmed) == APPOINTMENT_OVERLAP


async def test_the_same_instant_in_another_offset_is_the_same_slot(
    session_maker: SessionMaker, people: dict[str, int]
) -> None:
    await book(session_maker, people, NINE)
    in_new_york = NINE.astimezone(timezone(timedelta(hours=-5)))
    assert await refused(session_maker, book(session_maker, people, in_new_york)) == (
        APPOINTMENT_OVERLAP
    )


async def test_touching_appointments_and_other_staff_members_do_not_collide(
    session_maker: SessionMaker, people: dict[str, int]
) -> None:
    await book(session_maker, people, NINE)
    await book(session_maker, people, NINE + HALF_HOUR)  # starts where the other ends
    await book(session_maker, people, NINE - HALF_HOUR)  # ends where the first starts
    await book(session_maker, people, NINE, staff="mia")  # the same time, another person


@pytest.mark.parametrize(
    "stamps",
    [
        {"status": "CANCELLED", "cancelled_at": NINE},
        {"status": "COMPLETED", "confirmed_at": NINE, "completed_at": NINE},
        {"status": "NO_SHOW", "confirmed_at": NINE, "no_show_at": NINE},
    ],
    ids=["cancelled", "completed", "no-show"],
)
async def test_an_appointment_that_is_no_longer_live_blocks_nothing(
    session_maker: SessionMaker, people: dict[str, int], stamps: dict[str, Any]
) -> None:
    await book(session_maker, people, NINE, **stamps)
    await book(session_maker, people, NINE)
    again = book(session_maker, people, NINE, **stamps)  # any number of them
    await again


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"minutes": 0}, "ck_appointment_starts_before_ends"),
        ({"status": "CONFIRMED"}, "ck_appointment_confirmed_at_set"),
        ({"status": "CANCELLED"}, "ck_appointment_cancelled_at_set"),
        ({"cancel_reason": "x"}, "ck_appointment_cancel_reason_when_cancelled"),
        ({"status": "LOST"}, "ck_appointment_status"),
        ({"notes": "x" * 1001}, "ck_appointment_notes_length"),
    ],
)
async def test_the_checks_refuse_impossible_appointments(
    session_maker: SessionMaker, people: dict[str, int], fields: dict[str, Any], constraint: str
) -> None:
    assert await refused(session_maker, book(session_maker, people, NINE, **fields)) == constraint


async def hours(
    session_maker: SessionMaker, staff_id: int, weekday: int, start: str, end: str
) -> None:
    row = WorkingHours(
        staff_id=staff_id,
        weekday=weekday,
        start_time=time.fromisoformat(start),
        end_time=time.fromisoformat(end),
    )
    async with unit_of_work(session_maker) as session:
        session.add(row)


async def test_a_staff_members_ranges_of_one_weekday_never_overlap(
    session_maker: SessionMaker, people: dict[str, int]
) -> None:
    anna = people["anna"]
    await hours(session_maker, anna, 0, "09:00", "12:00")
    await hours(session_maker, anna, 0, "12:00", "17:00")  # touching
    await hours(session_maker, anna, 1, "10:00", "11:00")  # another day
    await hours(session_maker, people["mia"], 0, "10:00", "11:00")  # someone else
    clash = hours(session_maker, anna, 0, "11:00", "13:00")
    assert await refused(session_maker, clash) == HOURS_OVERLAP


@pytest.mark.parametrize(
    ("values", "constraint"),
    [
        ((7, "09:00", "10:00"), "ck_working_hours_weekday"),
        ((0, "10:00", "10:00"), "ck_working_hours_start_before_end"),
        ((0, "09:00:30", "10:00"), "ck_working_hours_whole_minutes"),
    ],
)
async def test_the_checks_refuse_impossible_hours(
    session_maker: SessionMaker,
    people: dict[str, int],
    values: tuple[int, str, str],
    constraint: str,
) -> None:
    assert await refused(session_maker, hours(session_maker, people["anna"], *values)) == constraint

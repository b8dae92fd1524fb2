"""Booking on the days the clocks change, for a staff member in Europe/Berlin and one in
America/New_York, spring and autumn, with a fixed clock: the slot list keeps local
working hours, a 60-minute slot may end after the clock jumps, and a start can be booked
exactly when `availableSlots` offers it (every quarter hour around the change is tried)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import col

from hom.bookings.models import Appointment, AppointmentStatus, Weekday
from hom.core.db import SessionMaker
from hom.core.unit_of_work import unit_of_work
from tests.bookings.booking_support import a_desk, book, codes
from tests.bookings.clock import Clock
from tests.bookings.factories import set_hours
from tests.catalog.factories import global_id
from tests.orders.order_support import a_caller
from tests.support import GraphQLClient

SLOTS = """query ($service: ID!, $staff: ID!, $from: DateTime!, $to: DateTime!) {
  availableSlots(serviceId: $service, staffId: $staff, from: $from, to: $to) { startsAt endsAt }
}"""
QUARTER = timedelta(minutes=15)
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class ChangeDay:
    zone: str
    day: date
    night: tuple[str, str]  # the working range around the change, local
    first: str  # its first and last 60-minute slot, UTC
    last: str
    crossing: str  # a slot that starts before the change and ends after it, UTC
    morning: str  # 09:00 local that day, UTC


DAYS = [
    # 02:00 CET -> 03:00 CEST: 01:00-04:00 lasts 2 hours.
    ChangeDay("Europe/Berlin", date(2030, 3, 31), ("01:00", "04:00"),
              "2030-03-31T00:00", "2030-03-31T01:00", "2030-03-31T00:45", "2030-03-31T07:00"),
    # 03:00 CEST -> 02:00 CET: 01:00-04:00 lasts 4 hours.
    ChangeDay("Europe/Berlin", date(2030, 10, 27), ("01:00", "04:00"),
              "2030-10-26T23:00", "2030-10-27T02:00", "2030-10-27T00:30", "2030-10-27T08:00"),
    # 02:00 EST -> 03:00 EDT: 00:00-04:00 lasts 3 hours.
    ChangeDay("America/New_York", date(2030, 3, 10), ("00:00", "04:00"),
              "2030-03-10T05:00", "2030-03-10T07:00", "2030-03-10T06:45", "2030-03-10T13:00"),
    # 02:00 EDT -> 01:00 EST: 00:00-04:00 lasts 5 hours.
    ChangeDay("America/New_York", date(2030, 11, 3), ("00:00", "04:00"),
              "2030-11-03T04:00", "2030-11-03T08:00", "2030-11-03T05:30", "2030-11-03T14:00"),
]  # fmt: skip


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def quarters(first: datetime, last: datetime) -> list[datetime]:
    return [first + n * QUARTER for n in range(int((last - first) / QUARTER) + 1)]


@pytest.mark.parametrize("change", DAYS, ids=[f"{d.zone}-{d.day}" for d in DAYS])
async def test_a_start_is_bookable_exactly_when_the_slot_list_offers_it(
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    clock: Clock,
    change: ChangeDay,
) -> None:
    clock.now = datetime.combine(change.day, time(), tzinfo=UTC) - timedelta(days=20)
    desk = await a_desk(client, gql, session_maker, change.zone, minutes=60)
    await set_hours(
        session_maker,
        desk.admin,
        desk.staff,
        (Weekday.SUNDAY, *change.night),
        (Weekday.SUNDAY, "09:00", "17:00"),
    )
    zone = ZoneInfo(change.zone)
    start = datetime.combine(change.day, time(), tzinfo=zone)
    end = datetime.combine(change.day + timedelta(days=1), time(), tzinfo=zone)
    variables = {
        "service": global_id("Service", desk.haircut.id),
        "staff": global_id("Person", desk.staff.id),
        "from": start.isoformat(),
        "to": end.isoformat(),
    }
    body = await gql(SLOTS, variables)
    assert "errors" not in body, body
    offered = [datetime.fromisoformat(s["startsAt"]) for s in body["data"]["availableSlots"]]
    first, last = utc(change.first), utc(change.last)
    night = [at for at in offered if at < utc(change.morning)]
    assert night == quarters(first, last)
    # The day's other range is 09:00-17:00 local, whatever the offset that day.
    assert offered[len(night)] == utc(change.morning)
    assert offered[-1] == utc(change.morning) + 7 * HOUR
    assert body["data"]["availableSlots"][0]["endsAt"] == (first + HOUR).isoformat()

    # Every quarter hour from an hour before the night's range to an hour after it.
    customer = await a_caller(client, gql, session_maker)
    tried = quarters(first - HOUR, last + 2 * HOUR)
    booked = []
    for at in tried:
        answer = await book(customer, desk.booking(at))
        if codes(answer) == []:
            booked.append(at)
            await _cancel(session_maker, at)
        else:
            assert codes(answer) == ["OUTSIDE_WORKING_HOURS"], (at, answer)
    assert booked == [at for at in tried if at in offered]
    assert utc(change.crossing) in booked

    # The slot across the change, booked: its hour is taken in real time.
    answer = await book(customer, desk.booking(utc(change.crossing)))
    assert answer["appointment"]["endsAt"] == (utc(change.crossing) + HOUR).isoformat()
    again = await gql(SLOTS, variables)
    left = {datetime.fromisoformat(s["startsAt"]) for s in again["data"]["availableSlots"]}
    crossing = utc(change.crossing)
    assert {at for at in offered if abs(at - crossing) < HOUR} & left == set()


async def _cancel(session_maker: SessionMaker, starts_at: datetime) -> None:
    async with unit_of_work(session_maker) as session:
        await session.exec(
            update(Appointment)
            .where(col(Appointment.starts_at) == starts_at)
            .values(status=AppointmentStatus.CANCELLED.value, cancelled_at=starts_at)
        )

"""The bookings' part of `exportMyData`: the caller's appointments as a customer and, for a
staff member, the ones they give, with their own week and time off; nobody else's; empty
lists for everyone else. Also over GraphQL, as the whole export."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from hom.bookings import export, service
from hom.bookings.models import AppointmentStatus, Weekday
from hom.core.export import ExportRequest
from hom.core.unit_of_work import SessionMaker, unit_of_work
from tests.bookings.factories import (
    a_service,
    a_staff_member,
    an_admin,
    an_appointment,
    set_hours,
)
from tests.factories import create_user, login_tokens
from tests.support import GraphQLClient

BERLIN_SUMMER = timezone(timedelta(hours=2))


async def exported(session_maker: SessionMaker, user_id: int | None) -> dict[str, Any]:
    assert user_id is not None
    request = ExportRequest(user_id, "x@example.com", None, None, None)  # type: ignore[arg-type]
    async with unit_of_work(session_maker) as session:
        return await export.export_section(session, request=request)


async def test_the_export_holds_the_callers_schedule(session_maker: SessionMaker) -> None:
    admin = await an_admin(session_maker)
    anna, mia = await a_staff_member(session_maker), await a_staff_member(session_maker)
    customer = await create_user(session_maker)
    await set_hours(
        session_maker,
        admin,
        anna,
        (Weekday.FRIDAY, "13:00", "17:00"),
        (Weekday.MONDAY, "09:00", "12:00"),
    )
    await set_hours(session_maker, admin, mia, (Weekday.SUNDAY, "09:00", "12:00"))
    away = service.NewTimeOff(
        staff_id=anna.id or 0,
        starts_at=datetime(2030, 7, 1, 9, tzinfo=BERLIN_SUMMER),
        ends_at=datetime(2030, 7, 2, 9, tzinfo=BERLIN_SUMMER),
        reason="Dentist",
    )
    async with unit_of_work(session_maker) as session:
        await service.add_time_off(session, new=away, actor=admin)

    assert await exported(session_maker, anna.id) == {
        "appointments": [],
        "appointmentsGiven": [],
        "workingHours": [
            {"weekday": "MONDAY", "startTime": "09:00", "endTime": "12:00"},
            {"weekday": "FRIDAY", "startTime": "13:00", "endTime": "17:00"},
        ],
        "timeOff": [
            {
                "startsAt": "2030-07-01T07:00:00+00:00",
                "endsAt": "2030-07-02T07:00:00+00:00",
                "reason": "Dentist",
            }
        ],
    }
    assert await exported(session_maker, customer.id) == {
        "appointments": [],
        "appointmentsGiven": [],
        "workingHours": [],
        "timeOff": [],
    }


S = AppointmentStatus
NOTHING_ELSE = {"seriesId": None, "completedAt": None, "noShowAt": None}


async def test_the_export_holds_the_callers_appointments_on_either_side(
    session_maker: SessionMaker,
) -> None:
    admin = await an_admin(session_maker)
    anna = await a_staff_member(session_maker, "Anna Berger")
    mia = await a_staff_member(session_maker, "Mia Johnson", "America/New_York")
    cleo = await create_user(session_maker, full_name="Cleo Customer")
    other = await create_user(session_maker, full_name="Otto Other")
    haircut = await a_service(session_maker, admin, "Haircut", staff=(anna, mia))
    trim = await a_service(session_maker, admin, "Beard trim", minutes=15, staff=(mia,))
    monday = datetime(2030, 7, 1, 10, 0, tzinfo=BERLIN_SUMMER)
    await an_appointment(
        session_maker,
        customer=cleo.id,
        staff=anna.id,
        service=haircut,
        starts_at=monday,
        status=S.CONFIRMED,
        notes="Short at the back.",
    )
    await an_appointment(
        session_maker,
        customer=cleo.id,
        staff=mia.id,
        service=trim,
        starts_at=monday - timedelta(days=3),
        status=S.CANCELLED,
        reason="Caught a cold.",
    )
    await an_appointment(
        session_maker, customer=other.id, staff=anna.id, service=haircut,
        starts_at=monday + timedelta(hours=1),
    )  # fmt: skip

    cleos = await exported(session_maker, cleo.id)
    assert cleos["appointments"] == [
        {
            "service": {"name": "Beard trim"},
            "staff": {"fullName": "Mia Johnson"},
            "startsAt": "2030-06-28T08:00:00+00:00",
            "endsAt": "2030-06-28T08:15:00+00:00",
            "status": "CANCELLED",
            "notes": None,
            "cancelReason": "Caught a cold.",
            "createdAt": cleos["appointments"][0]["createdAt"],
            "confirmedAt": None,
            "cancelledAt": "2030-06-27T08:00:00+00:00",
            **NOTHING_ELSE,
        },
        {
            "service": {"name": "Haircut"},
            "staff": {"fullName": "Anna Berger"},
            "startsAt": "2030-07-01T08:00:00+00:00",
            "endsAt": "2030-07-01T08:30:00+00:00",
            "status": "CONFIRMED",
            "notes": "Short at the back.",
            "cancelReason": None,
            "createdAt": cleos["appointments"][1]["createdAt"],
            "confirmedAt": "2030-06-30T08:00:00+00:00",
            "cancelledAt": None,
            **NOTHING_ELSE,
        },
    ]
    assert all(a["createdAt"].endswith("+00:00") for a in cleos["appointments"])
    assert cleos["appointmentsGiven"] == []

    annas = await exported(session_maker, anna.id)
    assert annas["appointments"] == []
    given = [
        (a["customer"], a["service"]["name"], a["startsAt"], a["status"])
        for a in annas["appointmentsGiven"]
    ]
    assert given == [
        ({"fullName": "Cleo Customer"}, "Haircut", "2030-07-01T08:00:00+00:00", "CONFIRMED"),
        ({"fullName": "Otto Other"}, "Haircut", "2030-07-01T09:00:00+00:00", "PENDING"),
    ]
    assert "staff" not in annas["appointmentsGiven"][0]
    mias = await exported(session_maker, mia.id)
    assert [a["service"]["name"] for a in mias["appointmentsGiven"]] == ["Beard trim"]


EXPORT = "{ exportMyData }"


async def test_exporting_over_graphql_holds_the_appointments(
    session_maker: SessionMaker, gql: GraphQLClient, client: httpx.AsyncClient
) -> None:
    admin = await an_admin(session_maker)
    anna = await a_staff_member(session_maker, "Anna Berger")
    cleo = await create_user(session_maker, full_name="Cleo Customer")
    haircut = await a_service(session_maker, admin, "Haircut", staff=(anna,))
    starts_at = datetime(2030, 7, 1, 10, 0, tzinfo=BERLIN_SUMMER)
    await an_appointment(
        session_maker, customer=cleo.id, staff=anna.id, service=haircut, starts_at=starts_at
    )
    tokens = await login_tokens(client, cleo.email)
    data = (await gql(EXPORT, token=tokens.access_token))["data"]["exportMyData"]
    [appointment] = data["appointments"]
    assert (appointment["staff"], appointment["startsAt"], appointment["status"]) == (
        {"fullName": "Anna Berger"},
        "2030-07-01T08:00:00+00:00",
        "PENDING",
    )
    assert anna.email not in str(data)

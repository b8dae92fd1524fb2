"""The bookings' part of `exportMyData`: a staff member's own week and time off, nobody
else's; empty lists for everyone else."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from hom.bookings import export, service
from hom.bookings.models import Weekday
from hom.core.export import ExportRequest
from hom.core.unit_of_work import SessionMaker, unit_of_work
from tests.bookings.factories import a_staff_member, an_admin, set_hours
from tests.factories import create_user

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
    assert await exported(session_maker, customer.id) == {"workingHours": [], "timeOff": []}

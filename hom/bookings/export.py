"""The bookings' part of `exportMyData`: a staff member's schedule (working hours, time
off); empty lists for everyone else.

Plain async functions over a session; they never commit and never import strawberry.
"""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from hom.bookings.models import TimeOff, Weekday, WorkingHours
from hom.bookings.schedule import time_off_of, working_hours_of
from hom.core.clock import iso_utc
from hom.core.export import ExportRequest


def _hours(hours: WorkingHours) -> dict[str, Any]:
    return {
        "weekday": Weekday.of(hours.weekday).value,
        "startTime": f"{hours.start_time:%H:%M}",
        "endTime": f"{hours.end_time:%H:%M}",
    }


def _time_off(time_off: TimeOff) -> dict[str, Any]:
    return {
        "startsAt": iso_utc(time_off.starts_at),
        "endsAt": iso_utc(time_off.ends_at),
        "reason": time_off.reason,
    }


async def export_section(session: AsyncSession, *, request: ExportRequest) -> dict[str, Any]:
    hours = await working_hours_of(session, staff_id=request.user_id)
    away = await time_off_of(session, staff_id=request.user_id)
    return {
        "workingHours": [_hours(row) for row in hours],
        "timeOff": [_time_off(row) for row in away],
    }

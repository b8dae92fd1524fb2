"""The bookings' part of `exportMyData`: the caller's appointments as a customer, and as a
staff member the appointments they give and their schedule (working hours, time off);
empty lists where there are none.

People are shown by their public face (`Person`: the full name), services by name.
Plain async functions over a session; they never commit and never import strawberry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.accounts import service as accounts
from hom.bookings.models import Appointment, Service, TimeOff, Weekday, WorkingHours
from hom.bookings.schedule import time_off_of, working_hours_of
from hom.core.clock import iso_utc
from hom.core.export import ExportRequest

STAMPS = {
    "createdAt": "created_at",
    "confirmedAt": "confirmed_at",
    "completedAt": "completed_at",
    "noShowAt": "no_show_at",
    "cancelledAt": "cancelled_at",
}
Side = Literal["customer", "staff"]  # the caller's side of the appointment


def _iso(value: datetime | None) -> str | None:
    return iso_utc(value) if value else None


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


def _appointment(row: Appointment, service: str, other: Side, name: str) -> dict[str, Any]:
    """One appointment; `other`, named `name`, is the person on the other side of it."""
    return {
        "service": {"name": service},
        other: {"fullName": name},
        "startsAt": iso_utc(row.starts_at),
        "endsAt": iso_utc(row.ends_at),
        "status": row.status,
        "notes": row.notes,
        "cancelReason": row.cancel_reason,
        "seriesId": str(row.series_id) if row.series_id else None,
        **{key: _iso(getattr(row, name)) for key, name in STAMPS.items()},
    }


async def export_section(session: AsyncSession, *, request: ExportRequest) -> dict[str, Any]:
    user_id = request.user_id
    hours = await working_hours_of(session, staff_id=user_id)
    away = await time_off_of(session, staff_id=user_id)
    return {
        "appointments": await export_appointments(session, user_id=user_id, side="customer"),
        "appointmentsGiven": await export_appointments(session, user_id=user_id, side="staff"),
        "workingHours": [_hours(row) for row in hours],
        "timeOff": [_time_off(row) for row in away],
    }


async def export_appointments(
    session: AsyncSession, *, user_id: int, side: Side
) -> list[dict[str, Any]]:
    """The user's appointments as a customer or as the staff member, by start."""
    other: Side = "staff" if side == "customer" else "customer"
    person = aliased(accounts.User)
    mine = col(getattr(Appointment, f"{side}_id"))
    statement = (
        select(Appointment, col(Service.name), col(person.full_name))
        .join(Service, col(Service.id) == col(Appointment.service_id))
        .join(person, col(person.id) == col(getattr(Appointment, f"{other}_id")))
        .where(mine == user_id)
        .order_by(col(Appointment.starts_at), col(Appointment.id))
    )
    return [
        _appointment(row, service, other, name)
        for row, service, name in await session.exec(statement)
    ]

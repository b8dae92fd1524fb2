"""A staff member's schedule: their weekly working hours (local times in their time zone)
and their time off (instants). Set by the staff member themselves or by an admin; every
change is audited.

Plain async functions over a session, like the service; they never commit. A refusal
names the entry at fault (`hours.2.end_time`) and changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import delete
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.audit import service as audit
from hom.bookings import reads
from hom.bookings.models import TimeOff, Weekday, WorkingHours
from hom.bookings.staff import check_acts_for, require_staff_member
from hom.core.clock import iso_utc
from hom.core.errors import DomainError, ErrorCode
from hom.core.reasons import check_reason
from hom.core.viewer import Viewer

MAX_RANGES = 50  # a week's ranges: several a day, not hundreds


@dataclass(frozen=True)
class HoursRange:
    """From `start_time` to `end_time` (exclusive) on `weekday`, local times."""

    weekday: Weekday
    start_time: time
    end_time: time

    def __str__(self) -> str:
        return f"{self.weekday.value} {self.start_time:%H:%M}-{self.end_time:%H:%M}"

    def overlaps(self, other: HoursRange) -> bool:
        return (
            self.weekday is other.weekday
            and self.start_time < other.end_time
            and other.start_time < self.end_time
        )


@dataclass(frozen=True, kw_only=True)
class NewTimeOff:
    staff_id: int
    starts_at: datetime
    ends_at: datetime
    reason: str | None = None


# --- working hours -------------------------------------------------------------------------


def check_hours(hours: Sequence[HoursRange]) -> list[HoursRange]:
    """The week as given, each range checked (local, whole minutes, start before end) and
    none overlapping another of its day; else INVALID on the entry at fault."""
    if len(hours) > MAX_RANGES:
        raise DomainError(ErrorCode.INVALID, f"At most {MAX_RANGES} ranges a week", "hours")
    for n, entry in enumerate(hours):
        _check_range(entry, f"hours.{n}")
    for n, entry in enumerate(hours):
        clash = next((m for m in range(n) if hours[m].overlaps(entry)), None)
        if clash is not None:
            message = f"{entry} overlaps {hours[clash]} (entry {clash})"
            raise DomainError(ErrorCode.INVALID, message, f"hours.{n}")
    return list(hours)


def _check_range(entry: HoursRange, at: str) -> None:
    for name in ("start_time", "end_time"):
        value: time = getattr(entry, name)
        if value.tzinfo is not None or value.second or value.microsecond:
            message = "A working time is a local time in whole minutes (HH:MM)"
            raise DomainError(ErrorCode.INVALID, message, f"{at}.{name}")
    if entry.start_time >= entry.end_time:
        message = f"{entry} ends before it starts (a range is within one day)"
        raise DomainError(ErrorCode.INVALID, message, f"{at}.end_time")


def _week(rows: Sequence[WorkingHours]) -> list[str]:
    """A week as the audit log keeps it: `MONDAY 09:00-17:00`, in order."""
    ranges = [HoursRange(Weekday.of(r.weekday), r.start_time, r.end_time) for r in rows]
    return [str(entry) for entry in sorted(ranges, key=_by_day)]


def _by_day(entry: HoursRange) -> tuple[int, time]:
    return entry.weekday.number, entry.start_time


async def working_hours_of(session: AsyncSession, *, staff_id: int) -> list[WorkingHours]:
    """A staff member's week, by weekday then start."""
    return list(
        await reads.run_list(session, statement=reads.working_hours_query(staff_id=staff_id))
    )


async def set_working_hours(
    session: AsyncSession, *, staff_id: int, hours: Sequence[HoursRange], actor: Viewer
) -> list[WorkingHours]:
    """Replace the staff member's whole week with `hours` (empty: no hours at all).
    Appointments already booked stay, inside the new hours or not."""
    check_acts_for(actor, staff_id=staff_id)
    week = check_hours(hours)
    await require_staff_member(session, staff_id=staff_id, lock=True)
    before = _week(await working_hours_of(session, staff_id=staff_id))
    await session.exec(delete(WorkingHours).where(col(WorkingHours.staff_id) == staff_id))
    rows = [
        WorkingHours(
            staff_id=staff_id,
            weekday=entry.weekday.number,
            start_time=entry.start_time,
            end_time=entry.end_time,
        )
        for entry in sorted(week, key=_by_day)
    ]
    session.add_all(rows)
    await session.flush()
    changes = audit.diff({"hours": before}, {"hours": _week(rows)})
    await _audit(
        session,
        actor=actor,
        action="working_hours.set",
        entity="User",
        entity_id=staff_id,
        changes=changes,
    )
    return rows


# --- time off ------------------------------------------------------------------------------


def _check_time_off(new: NewTimeOff) -> str | None:
    """The reason, trimmed (None when blank); INVALID for a range that is not one."""
    for name in ("starts_at", "ends_at"):
        if getattr(new, name).tzinfo is None:
            raise DomainError(ErrorCode.INVALID, "A moment needs an offset", name)
    if new.starts_at >= new.ends_at:
        raise DomainError(ErrorCode.INVALID, "Time off ends after it starts", "ends_at")
    return check_reason(new.reason)


def _time_off_audited(row: TimeOff) -> dict[str, Any]:
    return {
        "staff_id": row.staff_id,
        "starts_at": iso_utc(row.starts_at),
        "ends_at": iso_utc(row.ends_at),
        "reason": row.reason,
    }


async def add_time_off(session: AsyncSession, *, new: NewTimeOff, actor: Viewer) -> TimeOff:
    """The staff member is away from `starts_at` to `ends_at`. Appointments already
    booked then stay (to be moved or cancelled); no new one can be booked then."""
    check_acts_for(actor, staff_id=new.staff_id)
    reason = _check_time_off(new)
    await require_staff_member(session, staff_id=new.staff_id, lock=True)
    row = TimeOff(
        staff_id=new.staff_id, starts_at=new.starts_at, ends_at=new.ends_at, reason=reason
    )
    session.add(row)
    await session.flush()
    assert row.id is not None
    changes = {name: {"from": None, "to": value} for name, value in _time_off_audited(row).items()}
    await _audit(
        session,
        actor=actor,
        action="time_off.add",
        entity="TimeOff",
        entity_id=row.id,
        changes=changes,
    )
    return row


async def remove_time_off(session: AsyncSession, *, time_off_id: int, actor: Viewer) -> int:
    """Remove a time off of the actor's own (admins: anyone's); anyone else's is NOT_FOUND,
    the same answer as for a missing one. Returns its id."""
    row = await session.get(TimeOff, time_off_id)
    if row is None or not (actor.is_admin or actor.user_id == row.staff_id):
        raise DomainError(ErrorCode.NOT_FOUND, "No such time off", "id")
    changes = {name: {"from": value, "to": None} for name, value in _time_off_audited(row).items()}
    await session.delete(row)
    await session.flush()
    await _audit(
        session,
        actor=actor,
        action="time_off.remove",
        entity="TimeOff",
        entity_id=time_off_id,
        changes=changes,
    )
    return time_off_id


async def time_off_of(session: AsyncSession, *, staff_id: int) -> list[TimeOff]:
    """A staff member's time off, by start."""
    return list(await reads.run_list(session, statement=reads.time_off_query(staff_id=staff_id)))


async def _audit(
    session: AsyncSession,
    *,
    actor: Viewer,
    action: str,
    entity: str,
    entity_id: int,
    changes: dict[str, Any],
) -> None:
    await audit.record(
        session, actor=actor, action=action, entity=entity, entity_id=entity_id, changes=changes
    )

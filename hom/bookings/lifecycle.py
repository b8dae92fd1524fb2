"""An appointment's life in one table: which status may follow which, who may move it,
which timestamp the move sets, and when it may happen.

    PENDING → CONFIRMED → COMPLETED | NO_SHOW
    PENDING, CONFIRMED → CANCELLED

Customers cancel their own until the cancellation window (CANCELLATION_WINDOW_HOURS
before the start); its staff member and admins confirm and cancel it anytime, and mark
it completed or missed once it has begun. An appointment the actor may not see
(`rules.APPOINTMENTS`) is NOT_FOUND, the answer for a missing one.

A step is one conditional UPDATE (`WHERE id = … AND status = <from>`, and the time the
step needs): when it matches nothing, the step is refused with INVALID_TRANSITION and
nothing changed. What customers are told (`hom.bookings.notices`) and the audit entry
(staff and admins) follow in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.audit import service as audit
from hom.bookings import notices, rules
from hom.bookings.models import Appointment, AppointmentStatus
from hom.core.clock import utcnow
from hom.core.errors import DomainError, ErrorCode
from hom.core.reasons import check_reason
from hom.core.roles import Role
from hom.core.unit_of_work import retried
from hom.core.viewer import Viewer


class Party(StrEnum):
    """Who moves an appointment, as far as the table is concerned."""

    CUSTOMER = "CUSTOMER"  # whom it is for
    STAFF = "STAFF"  # the staff member who gives it
    ADMIN = "ADMIN"


@dataclass(frozen=True, kw_only=True)
class Step:
    source: AppointmentStatus
    target: AppointmentStatus
    action: str  # the audit action is `appointment.<action>`
    stamp: str  # the appointment's column set to the time of the step
    parties: frozenset[Party]
    after_start: bool = False  # only once the appointment has begun
    windowed: bool = False  # a customer alone only until the cancellation window

    def allows(self, parties: frozenset[Party]) -> bool:
        return not self.parties.isdisjoint(parties)

    def window_applies(self, parties: frozenset[Party]) -> bool:
        """Whether the cancellation window binds: the customer, and nobody more, acts."""
        return self.windowed and parties == {Party.CUSTOMER}


S = AppointmentStatus
GIVERS = frozenset({Party.STAFF, Party.ADMIN})
ANYONE_CONCERNED = frozenset({Party.CUSTOMER, Party.STAFF, Party.ADMIN})

STEPS = (
    Step(source=S.PENDING, target=S.CONFIRMED, action="confirm", stamp="confirmed_at",
         parties=GIVERS),
    Step(source=S.CONFIRMED, target=S.COMPLETED, action="complete", stamp="completed_at",
         parties=GIVERS, after_start=True),
    Step(source=S.CONFIRMED, target=S.NO_SHOW, action="no_show", stamp="no_show_at",
         parties=GIVERS, after_start=True),
    Step(source=S.PENDING, target=S.CANCELLED, action="cancel", stamp="cancelled_at",
         parties=ANYONE_CONCERNED, windowed=True),
    Step(source=S.CONFIRMED, target=S.CANCELLED, action="cancel", stamp="cancelled_at",
         parties=ANYONE_CONCERNED, windowed=True),
)  # fmt: skip
TABLE: dict[tuple[AppointmentStatus, AppointmentStatus], Step] = {
    (step.source, step.target): step for step in STEPS
}
# How a refusal names a step ("it cannot be confirmed").
DONE = {
    S.CONFIRMED: "confirmed",
    S.COMPLETED: "marked completed",
    S.NO_SHOW: "marked as a no-show",
    S.CANCELLED: "cancelled",
}


def step(source: AppointmentStatus, target: AppointmentStatus) -> Step | None:
    """The step from `source` to `target`, None when the table has none."""
    return TABLE.get((source, target))


def parties(actor: Viewer, appointment: Appointment) -> frozenset[Party]:
    """What `actor` is to the appointment (nothing: they may not even see it)."""
    found = {Party.ADMIN} if actor.is_admin else set()
    if actor.user_id == appointment.customer_id:
        found.add(Party.CUSTOMER)
    if actor.user_id == appointment.staff_id:
        found.add(Party.STAFF)
    return frozenset(found)


def audited(actor: Viewer) -> bool:
    """Staff members' and admins' steps leave an audit entry (customers' do not)."""
    return actor.has_role(Role.STAFF)


# --- carrying a step out -------------------------------------------------------------------


async def require_appointment(
    session: AsyncSession, *, appointment_id: int, actor: Viewer, field: str = "id"
) -> Appointment:
    """The appointment, when `actor` may see it (its customer, its staff member, admins);
    anyone else's is NOT_FOUND, the same answer as for a missing one."""
    appointment = await session.get(Appointment, appointment_id, populate_existing=True)
    if appointment is None or not rules.APPOINTMENTS.allows(actor.reader, appointment):
        raise DomainError(ErrorCode.NOT_FOUND, "No such appointment", field)
    return appointment


async def confirm_appointment(
    session: AsyncSession, *, appointment_id: int, actor: Viewer
) -> Appointment:
    """PENDING → CONFIRMED (its staff member, admins); the customer is told."""
    target = S.CONFIRMED
    return await change_status(session, appointment_id=appointment_id, target=target, actor=actor)


async def complete_appointment(
    session: AsyncSession, *, appointment_id: int, actor: Viewer
) -> Appointment:
    """CONFIRMED → COMPLETED once it has begun (its staff member, admins)."""
    target = S.COMPLETED
    return await change_status(session, appointment_id=appointment_id, target=target, actor=actor)


async def mark_no_show(session: AsyncSession, *, appointment_id: int, actor: Viewer) -> Appointment:
    """CONFIRMED → NO_SHOW once it has begun (its staff member, admins)."""
    target = S.NO_SHOW
    return await change_status(session, appointment_id=appointment_id, target=target, actor=actor)


async def cancel_appointment(
    session: AsyncSession,
    *,
    appointment_id: int,
    actor: Viewer,
    window: timedelta,
    reason: str | None = None,
) -> Appointment:
    """PENDING or CONFIRMED → CANCELLED: its customer until `window` before the start
    (CANCELLATION_WINDOW_CLOSED after), its staff member and admins anytime. Its reminders
    are cancelled; the customer (and the staff member) are told."""
    return await change_status(
        session,
        appointment_id=appointment_id,
        target=S.CANCELLED,
        actor=actor,
        window=window,
        reason=reason,
    )


async def change_status(
    session: AsyncSession,
    *,
    appointment_id: int,
    target: AppointmentStatus,
    actor: Viewer,
    window: timedelta = timedelta(0),
    reason: str | None = None,
) -> Appointment:
    """Take the table's step from the appointment's status to `target`, as `actor`;
    INVALID_TRANSITION when there is no such step, `actor` may not take it (or not yet),
    or the appointment changed meanwhile."""
    reason = check_reason(reason)

    async def attempt() -> Appointment:
        appointment = await require_appointment(session, appointment_id=appointment_id, actor=actor)
        now, actors = utcnow(), parties(actor, appointment)
        taken = _allowed_step(appointment, target, actors, now, window)
        timing = _timing(taken, actors, now, window)
        moved = await _move(session, appointment, taken, now=now, timing=timing, reason=reason)
        await _effects(session, moved, taken, actor=actor)
        return moved

    return await retried(session, attempt)


def _allowed_step(
    appointment: Appointment,
    target: AppointmentStatus,
    actors: frozenset[Party],
    now: datetime,
    window: timedelta,
) -> Step:
    """The step, if `actors` may take it now; else why not."""
    taken = step(AppointmentStatus(appointment.status), target)
    done = DONE[target]
    if taken is None:
        message = f"The appointment is {appointment.status}: it cannot be {done}"
        raise DomainError(ErrorCode.INVALID_TRANSITION, message, "id")
    if not taken.allows(actors):
        message = f"Only its staff member or an admin can have the appointment {done}"
        raise DomainError(ErrorCode.INVALID_TRANSITION, message, "id")
    if taken.after_start and now < appointment.starts_at:
        message = f"The appointment has not begun: it cannot be {done} yet"
        raise DomainError(ErrorCode.INVALID_TRANSITION, message, "id")
    if taken.window_applies(actors) and appointment.starts_at < now + window:
        hours = window / timedelta(hours=1)
        message = f"Appointments can be cancelled until {hours:g} hours before they start"
        raise DomainError(ErrorCode.CANCELLATION_WINDOW_CLOSED, message, "id")
    return taken


def _timing(
    taken: Step, actors: frozenset[Party], now: datetime, window: timedelta
) -> list[ColumnElement[bool]]:
    """The time conditions of `_allowed_step`, in SQL over the row as it is when updated
    (an appointment moved meanwhile is judged at its new time)."""
    starts_at = col(Appointment.starts_at)
    return [
        *([starts_at <= now] if taken.after_start else []),
        *([starts_at >= now + window] if taken.window_applies(actors) else []),
    ]


async def _move(
    session: AsyncSession,
    appointment: Appointment,
    taken: Step,
    *,
    now: datetime,
    timing: list[ColumnElement[bool]],
    reason: str | None,
) -> Appointment:
    """The conditional UPDATE: only from `taken.source` and at a time the step allows;
    refused when the appointment moved or changed meanwhile."""
    values: dict[str, Any] = {"status": taken.target.value, taken.stamp: now, "updated_at": now}
    if taken.target is S.CANCELLED:
        values["cancel_reason"] = reason
    statement = (
        update(Appointment)
        .where(
            col(Appointment.id) == appointment.id,
            col(Appointment.status) == taken.source.value,
            *timing,
        )
        .values(**values)
        .returning(Appointment)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    moved: Appointment | None = (await session.exec(statement)).scalar_one_or_none()
    if moved is None:
        message = "The appointment changed meanwhile; nothing was done"
        raise DomainError(ErrorCode.INVALID_TRANSITION, message, "id")
    return moved


async def _effects(
    session: AsyncSession, appointment: Appointment, taken: Step, *, actor: Viewer
) -> None:
    """What the step tells (mail, notifications, reminders) and the audit entry."""
    if taken.target is S.CONFIRMED:
        await notices.confirmed(session, appointment=appointment)
    elif taken.target is S.CANCELLED:
        await notices.cancelled(session, appointment=appointment, by=actor.user_id)
    if audited(actor):
        assert appointment.id is not None
        changes = audit.diff({"status": taken.source.value}, {"status": taken.target.value})
        if appointment.cancel_reason:
            changes["reason"] = appointment.cancel_reason
        await audit.record(
            session,
            actor=actor,
            action=f"appointment.{taken.action}",
            entity="Appointment",
            entity_id=appointment.id,
            changes=changes,
        )

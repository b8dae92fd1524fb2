"""What the lifecycle and notices tests share: a fixed clock for the modules that read the
time (the steps, the notices, the mail worker), the people around one appointment, and
what a change leaves behind (the row, the outbox, the notifications, the audit log)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from hom.accounts.models import User
from hom.audit.models import AuditEntry
from hom.bookings import service
from hom.bookings.models import Appointment, AppointmentStatus, Service
from hom.core.roles import Role
from hom.core.unit_of_work import SessionMaker, unit_of_work
from hom.core.viewer import Viewer
from hom.notifications.models import Notification, OutboxMessage
from tests.bookings.clock import Clock
from tests.bookings.clock import fixed_clock as bookings_clock
from tests.bookings.factories import a_service, a_staff_member, an_appointment, viewer_of
from tests.factories import create_user

# Monday 6 May 2030, 10:00 in Berlin: every test's appointment starts then.
START = datetime(2030, 5, 6, 8, 0, tzinfo=UTC)
WINDOW = timedelta(hours=24)


def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The bookings' clock (tests.bookings.clock), fixed three days before START."""
    return bookings_clock(monkeypatch, START - timedelta(days=3))


@dataclass
class Cast:
    """An appointment's customer and staff member, and everybody else who might try."""

    customer: User
    staff: User
    other_customer: User
    other_staff: User
    operator: User
    admin: User
    service: Service

    def viewer(self, name: str) -> Viewer:
        user: User = getattr(self, name.replace(" ", "_"))
        return viewer_of(user)

    async def appointment(
        self,
        session_maker: SessionMaker,
        status: AppointmentStatus = AppointmentStatus.PENDING,
        starts_at: datetime = START,
    ) -> Appointment:
        return await an_appointment(
            session_maker,
            customer=self.customer.id,
            staff=self.staff.id,
            service=self.service,
            starts_at=starts_at,
            status=status,
        )


async def a_cast(session_maker: SessionMaker) -> Cast:
    admin = await create_user(session_maker, role=Role.ADMIN, full_name="Admin")
    staff = await a_staff_member(session_maker, "Bea Berger")
    customer = await create_user(session_maker, full_name="Cem Customer")
    async with unit_of_work(session_maker) as session:
        found = await session.get(User, customer.id)
        assert found is not None
        found.timezone = "Europe/Berlin"
    service = await a_service(session_maker, viewer_of(admin), "Haircut", staff=(staff,))
    return Cast(
        customer=found,
        staff=staff,
        other_customer=await create_user(session_maker, full_name="Other Customer"),
        other_staff=await a_staff_member(session_maker, "Other Staff"),
        operator=await create_user(session_maker, role=Role.OPERATOR),
        admin=admin,
        service=service,
    )


async def stored(session_maker: SessionMaker, appointment_id: int | None) -> Appointment:
    async with unit_of_work(session_maker) as session:
        found = await session.get(Appointment, appointment_id)
    assert found is not None
    return found


async def outbox(session_maker: SessionMaker) -> list[OutboxMessage]:
    async with unit_of_work(session_maker) as session:
        statement = select(OutboxMessage).order_by(col(OutboxMessage.id))
        return list((await session.exec(statement)).all())


async def notifications_of(session_maker: SessionMaker, user: User) -> list[Notification]:
    async with unit_of_work(session_maker) as session:
        statement = (
            select(Notification)
            .where(col(Notification.user_id) == user.id)
            .order_by(col(Notification.id))
        )
        return list((await session.exec(statement)).all())


async def audit_log(session_maker: SessionMaker) -> list[AuditEntry]:
    async with unit_of_work(session_maker) as session:
        statement = select(AuditEntry).order_by(col(AuditEntry.id))
        return list((await session.exec(statement)).all())


async def traces(session_maker: SessionMaker, appointment_id: int | None) -> dict[str, Any]:
    """Everything a step may change: to compare before and after a refusal."""
    async with unit_of_work(session_maker) as session:
        row = await session.get(Appointment, appointment_id)
        mail = (await session.exec(select(OutboxMessage))).all()
        told = (await session.exec(select(Notification))).all()
        audited = (await session.exec(select(AuditEntry))).all()
    assert row is not None
    return {
        "appointment": row.model_dump(),
        "outbox": sorted((m.id, m.status, str(m.send_after)) for m in mail),
        "notifications": len(told),
        "audit": len(audited),
    }


STEP_TO = {
    AppointmentStatus.CONFIRMED: service.confirm_appointment,
    AppointmentStatus.COMPLETED: service.complete_appointment,
    AppointmentStatus.NO_SHOW: service.mark_no_show,
}


async def take(
    session_maker: SessionMaker,
    target: AppointmentStatus,
    appointment: Appointment,
    actor: Viewer,
    *,
    window: timedelta = WINDOW,
    reason: str | None = None,
) -> Appointment:
    """The lifecycle's step to `target`, in a transaction of its own."""
    assert appointment.id is not None
    async with unit_of_work(session_maker) as session:
        if target is AppointmentStatus.CANCELLED:
            return await service.cancel_appointment(
                session, appointment_id=appointment.id, actor=actor, window=window, reason=reason
            )
        return await STEP_TO[target](session, appointment_id=appointment.id, actor=actor)

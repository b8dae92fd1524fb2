"""Factories of the bookings: staff members, services and schedules, made through the
bookings' rules (as an admin), and what a test reads back."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from hom.accounts.models import User
from hom.audit.models import AuditEntry
from hom.bookings import service
from hom.bookings.models import (
    Appointment,
    AppointmentStatus,
    Service,
    StaffService,
    TimeOff,
    Weekday,
    WorkingHours,
)
from hom.core.roles import Role
from hom.core.unit_of_work import SessionMaker, unit_of_work
from hom.core.viewer import Viewer
from tests.factories import create_user


def viewer_of(user: User) -> Viewer:
    assert user.id is not None
    return Viewer(user_id=user.id, role=Role(user.role), sid="s", jti="j", expires_at=0)


async def an_admin(session_maker: SessionMaker) -> Viewer:
    return viewer_of(await create_user(session_maker, role=Role.ADMIN, full_name="Admin"))


async def a_staff_member(
    session_maker: SessionMaker, full_name: str = "Staff Member", timezone: str = "Europe/Berlin"
) -> User:
    user = await create_user(session_maker, role=Role.STAFF, full_name=full_name)
    async with unit_of_work(session_maker) as session:
        found = await session.get(User, user.id)
        assert found is not None
        found.timezone = timezone
    return found


async def a_service(
    session_maker: SessionMaker,
    admin: Viewer,
    name: str = "Haircut",
    *,
    minutes: int = 30,
    price: str = "35.00",
    active: bool = True,
    staff: tuple[User, ...] = (),
) -> Service:
    new = service.NewService(
        name=name, duration_minutes=minutes, price=Decimal(price), is_active=active
    )
    async with unit_of_work(session_maker) as session:
        made = await service.create_service(session, new=new, actor=admin)
        assert made.id is not None
        for member in staff:
            assert member.id is not None
            await service.assign_staff(session, service_id=made.id, staff_id=member.id, actor=admin)
    return made


def week(*ranges: tuple[Weekday, str, str]) -> list[service.HoursRange]:
    return [
        service.HoursRange(day, time.fromisoformat(a), time.fromisoformat(b))
        for day, a, b in ranges
    ]


async def set_hours(
    session_maker: SessionMaker, admin: Viewer, staff: User, *ranges: tuple[Weekday, str, str]
) -> list[WorkingHours]:
    assert staff.id is not None
    async with unit_of_work(session_maker) as session:
        return await service.set_working_hours(
            session, staff_id=staff.id, hours=week(*ranges), actor=admin
        )


async def count(session_maker: SessionMaker, model: Any, *where: Any) -> int:
    async with unit_of_work(session_maker) as session:
        statement = select(func.count()).select_from(model).where(*where)
        return int((await session.exec(statement)).one())


async def traces(session_maker: SessionMaker) -> dict[str, Any]:
    """Everything the bookings' mutations write: to compare before and after a refusal."""
    async with unit_of_work(session_maker) as session:
        services = (await session.exec(select(Service).order_by(col(Service.id)))).all()
        links = (await session.exec(select(StaffService.service_id, StaffService.staff_id))).all()
        hours = (await session.exec(select(WorkingHours).order_by(col(WorkingHours.id)))).all()
        away = (await session.exec(select(TimeOff).order_by(col(TimeOff.id)))).all()
        audits = (await session.exec(select(func.count()).select_from(AuditEntry))).one()
    return {
        "services": [row.model_dump() for row in services],
        "links": sorted(tuple(link) for link in links),
        "hours": [row.model_dump() for row in hours],
        "time_off": [row.model_dump() for row in away],
        "audit": audits,
    }


async def an_appointment(
    session_maker: SessionMaker,
    *,
    customer: int | None,
    staff: int | None,
    service: Service,
    starts_at: datetime,
    status: AppointmentStatus = AppointmentStatus.PENDING,
    notes: str | None = None,
    reason: str | None = None,
) -> Appointment:
    """An appointment written as it is (no rule checked), with the stamps its status needs."""
    S = AppointmentStatus
    at = starts_at - timedelta(days=1)
    row = Appointment(
        customer_id=customer or 0,
        staff_id=staff or 0,
        service_id=service.id or 0,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=service.duration_minutes),
        status=status.value,
        notes=notes,
        cancel_reason=reason,
        confirmed_at=at if status in (S.CONFIRMED, S.COMPLETED, S.NO_SHOW) else None,
        completed_at=starts_at if status is S.COMPLETED else None,
        no_show_at=starts_at if status is S.NO_SHOW else None,
        cancelled_at=at if status is S.CANCELLED else None,
    )
    async with unit_of_work(session_maker) as session:
        session.add(row)
    return row

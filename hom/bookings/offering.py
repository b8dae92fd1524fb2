"""The offering: services (created and changed by admins) and who gives them. Audited.

Plain async functions over a session, like the service; they never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.audit import service as audit
from hom.bookings.models import MAX_DURATION, MAX_NAME, MIN_DURATION, Service, StaffService
from hom.bookings.staff import require_staff_member
from hom.catalog import service as catalog
from hom.core.clock import utcnow
from hom.core.db import save_unique
from hom.core.errors import DomainError, ErrorCode
from hom.core.viewer import Viewer

UNIQUE_FIELDS = {"uq_service_name_lower": "name"}


@dataclass(frozen=True, kw_only=True)
class NewService:
    name: str
    duration_minutes: int
    price: Decimal
    description: str = ""
    currency: str = "EUR"
    is_active: bool = True


@dataclass(frozen=True, kw_only=True)
class ServiceChanges:
    """Only the fields given (not None) change."""

    service_id: int
    name: str | None = None
    description: str | None = None
    duration_minutes: int | None = None
    price: Decimal | None = None
    currency: str | None = None
    is_active: bool | None = None


def check_duration(minutes: int) -> int:
    if not MIN_DURATION <= minutes <= MAX_DURATION:
        message = f"A service takes {MIN_DURATION} to {MAX_DURATION} minutes"
        raise DomainError(ErrorCode.INVALID, message, "duration_minutes")
    return minutes


def check_name(name: str) -> str:
    return catalog.check_text(name, field="name", label="Name", longest=MAX_NAME)


CHECKS: dict[str, Any] = {
    "name": check_name,
    "description": catalog.check_description,
    "duration_minutes": check_duration,
    "price": catalog.check_price,
    "currency": catalog.check_currency,
}


def _checked(values: dict[str, Any]) -> dict[str, Any]:
    """The given values (not None), each checked."""
    given = {name: value for name, value in values.items() if value is not None}
    return {name: CHECKS.get(name, lambda v: v)(value) for name, value in given.items()}


def _audited(service: Service) -> dict[str, Any]:
    return {
        "name": service.name,
        "description": service.description,
        "duration_minutes": service.duration_minutes,
        "price": str(service.price),
        "currency": service.currency,
        "is_active": service.is_active,
    }


async def _audit(
    session: AsyncSession, *, actor: Viewer, action: str, service: Service, changes: dict[str, Any]
) -> None:
    assert service.id is not None
    await audit.record(
        session,
        actor=actor,
        action=action,
        entity="Service",
        entity_id=service.id,
        changes=changes,
    )


async def get_service(session: AsyncSession, *, service_id: int) -> Service | None:
    return await session.get(Service, service_id)


async def require_service(
    session: AsyncSession, *, service_id: int, field: str = "id", active: bool = False
) -> Service:
    """The service, else NOT_FOUND on `field`; with `active`, INVALID when it is not."""
    service = await get_service(session, service_id=service_id)
    if service is None:
        raise DomainError(ErrorCode.NOT_FOUND, "No such service", field)
    if active and not service.is_active:
        raise DomainError(ErrorCode.INVALID, f"{service.name} is not offered now", field)
    return service


async def create_service(session: AsyncSession, *, new: NewService, actor: Viewer) -> Service:
    values = {f.name: getattr(new, f.name) for f in fields(new)}
    service = Service(**_checked(values))
    await save_unique(session, service, UNIQUE_FIELDS)
    await _audit(
        session, actor=actor, action="service.create", service=service, changes=_audited(service)
    )
    return service


async def update_service(
    session: AsyncSession, *, changes: ServiceChanges, actor: Viewer
) -> Service:
    values = {f.name: getattr(changes, f.name) for f in fields(changes) if f.name != "service_id"}
    checked = _checked(values)
    service = await require_service(session, service_id=changes.service_id)
    before = _audited(service)
    for name, value in checked.items():
        setattr(service, name, value)
    changed = audit.diff(before, _audited(service))
    if changed:
        service.updated_at = utcnow()
        await save_unique(session, service, UNIQUE_FIELDS)
    await _audit(session, actor=actor, action="service.update", service=service, changes=changed)
    return service


async def assign_staff(
    session: AsyncSession, *, service_id: int, staff_id: int, actor: Viewer
) -> Service:
    """The staff member gives the service from now on (idempotent: audited when new)."""
    service = await require_service(session, service_id=service_id, field="service_id")
    await require_staff_member(session, staff_id=staff_id)
    added = await session.exec(
        insert(StaffService)
        .values(service_id=service_id, staff_id=staff_id)
        .on_conflict_do_nothing()
        .returning(col(StaffService.staff_id))
    )
    if added.first() is not None:
        changes = {"staff_id": {"from": None, "to": staff_id}}
        await _audit(
            session, actor=actor, action="service.assign_staff", service=service, changes=changes
        )
    return service


async def unassign_staff(
    session: AsyncSession, *, service_id: int, staff_id: int, actor: Viewer
) -> Service:
    """The staff member no longer gives the service (idempotent: audited when they did).
    Their appointments already booked for it stay."""
    service = await require_service(session, service_id=service_id, field="service_id")
    removed = await session.exec(
        delete(StaffService)
        .where(col(StaffService.service_id) == service_id, col(StaffService.staff_id) == staff_id)
        .returning(col(StaffService.staff_id))
    )
    if removed.first() is not None:
        changes = {"staff_id": {"from": staff_id, "to": None}}
        await _audit(
            session, actor=actor, action="service.unassign_staff", service=service, changes=changes
        )
    return service


async def gives_service(session: AsyncSession, *, staff_id: int, service_id: int) -> bool:
    """Whether the staff member is assigned to the service (whatever their role now)."""
    statement = select(col(StaffService.staff_id)).where(
        col(StaffService.service_id) == service_id, col(StaffService.staff_id) == staff_id
    )
    return (await session.exec(statement)).first() is not None

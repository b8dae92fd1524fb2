"""BookingsMutation: thin resolvers over the bookings' service.

The offering (services, who gives them) is the admins' (SPEC §6); a schedule (working
hours, time off) is its staff member's own and the admins'. Each runs in the request's
transaction; a refusal is in the payload's `errors`, with nothing changed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry.relay import to_base64

from hom.accounts.types import user_id_of
from hom.bookings import service
from hom.bookings.inputs import (
    AddTimeOffInput,
    AddTimeOffPayload,
    AssignStaffToServiceInput,
    AssignStaffToServicePayload,
    CreateServiceInput,
    CreateServicePayload,
    RemoveTimeOffPayload,
    SetWorkingHoursInput,
    SetWorkingHoursPayload,
    UnassignStaffFromServiceInput,
    UnassignStaffFromServicePayload,
    UpdateServiceInput,
    UpdateServicePayload,
)
from hom.bookings.schema.queries import service_id_of
from hom.bookings.types import ServiceType, TimeOffType, WorkingHoursType
from hom.core.graphql.payloads import mutate
from hom.core.graphql.permissions import IsAdmin, has_role, require_viewer
from hom.core.graphql.relay import decode_id
from hom.core.graphql.visibility import present, present_all
from hom.core.roles import Role
from hom.core.viewer import Viewer

# Staff members keep their own schedule; admins anyone's (checked by the service).
KeepsSchedule = has_role(Role.STAFF)
PayloadT = TypeVar("PayloadT")


async def _changed(
    info: strawberry.Info,
    payload: type[PayloadT],
    work: Callable[[AsyncSession, Viewer], Awaitable[Any]],
    convert: Callable[[Viewer, Any], Any],
) -> PayloadT:
    """The payload of a change made by the viewer: what it changed, or the refusal."""
    viewer = await require_viewer(info)
    return await mutate(info, payload, lambda s: work(s, viewer), lambda r: convert(viewer, r))


def _service(viewer: Viewer, row: service.Service) -> ServiceType | None:
    return present(viewer.reader, ServiceType, row)


def _staff_and_service(
    input: AssignStaffToServiceInput | UnassignStaffFromServiceInput,
) -> dict[str, int]:
    return {
        "service_id": service_id_of(input.service_id, "input.serviceId"),
        "staff_id": user_id_of(input.staff_id, "input.staffId"),
    }


@strawberry.type
class BookingsMutation:
    @strawberry.mutation(permission_classes=[IsAdmin], description="Offer a service (admins).")
    async def create_service(
        self, info: strawberry.Info, input: CreateServiceInput
    ) -> CreateServicePayload:
        new = service.NewService(
            name=input.name,
            description=input.description,
            duration_minutes=input.duration_minutes,
            price=input.price,
            currency=input.currency,
            is_active=input.is_active,
        )
        return await _changed(
            info,
            CreateServicePayload,
            lambda s, v: service.create_service(s, new=new, actor=v),
            _service,
        )

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Change any of a service's fields, or stop (start) offering it (admins).",
    )
    async def update_service(
        self, info: strawberry.Info, input: UpdateServiceInput
    ) -> UpdateServicePayload:
        changes = service.ServiceChanges(
            service_id=service_id_of(input.id, "input.id"),
            name=input.name,
            description=input.description,
            duration_minutes=input.duration_minutes,
            price=input.price,
            currency=input.currency,
            is_active=input.is_active,
        )
        return await _changed(
            info,
            UpdateServicePayload,
            lambda s, v: service.update_service(s, changes=changes, actor=v),
            _service,
        )

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="A staff member gives a service from now on (admins; idempotent).",
    )
    async def assign_staff_to_service(
        self, info: strawberry.Info, input: AssignStaffToServiceInput
    ) -> AssignStaffToServicePayload:
        ids = _staff_and_service(input)
        return await _changed(
            info,
            AssignStaffToServicePayload,
            lambda s, v: service.assign_staff(s, **ids, actor=v),
            _service,
        )

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="A staff member no longer gives a service (admins; idempotent); what "
        "is booked with them stays.",
    )
    async def unassign_staff_from_service(
        self, info: strawberry.Info, input: UnassignStaffFromServiceInput
    ) -> UnassignStaffFromServicePayload:
        ids = _staff_and_service(input)
        return await _changed(
            info,
            UnassignStaffFromServicePayload,
            lambda s, v: service.unassign_staff(s, **ids, actor=v),
            _service,
        )

    @strawberry.mutation(
        permission_classes=[KeepsSchedule],
        description="Replace a staff member's whole week of working hours: your own (staff), "
        "anyone's (admins).",
    )
    async def set_working_hours(
        self, info: strawberry.Info, input: SetWorkingHoursInput
    ) -> SetWorkingHoursPayload:
        staff_id = user_id_of(input.staff_id, "input.staffId")
        hours = [
            service.HoursRange(entry.weekday, entry.start_time, entry.end_time)
            for entry in input.hours
        ]
        return await _changed(
            info,
            SetWorkingHoursPayload,
            lambda s, v: service.set_working_hours(s, staff_id=staff_id, hours=hours, actor=v),
            lambda v, rows: present_all(v.reader, WorkingHoursType, rows),
        )

    @strawberry.mutation(
        permission_classes=[KeepsSchedule],
        description="A staff member is away for a while: your own time off (staff), anyone's "
        "(admins).",
    )
    async def add_time_off(
        self, info: strawberry.Info, input: AddTimeOffInput
    ) -> AddTimeOffPayload:
        new = service.NewTimeOff(
            staff_id=user_id_of(input.staff_id, "input.staffId"),
            starts_at=input.starts_at,
            ends_at=input.ends_at,
            reason=input.reason,
        )
        return await _changed(
            info,
            AddTimeOffPayload,
            lambda s, v: service.add_time_off(s, new=new, actor=v),
            lambda v, row: present(v.reader, TimeOffType, row),
        )

    @strawberry.mutation(
        permission_classes=[KeepsSchedule],
        description="Remove a time off: your own (staff), anyone's (admins).",
    )
    async def remove_time_off(
        self, info: strawberry.Info, id: strawberry.ID
    ) -> RemoveTimeOffPayload:
        time_off_id = decode_id(id, "TimeOff")
        return await _changed(
            info,
            RemoveTimeOffPayload,
            lambda s, v: service.remove_time_off(s, time_off_id=time_off_id, actor=v),
            lambda v, removed: strawberry.ID(to_base64("TimeOff", removed)),
        )

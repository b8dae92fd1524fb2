"""AppointmentLifecycleMutation: thin resolvers over an appointment's lifecycle
(`hom.bookings.lifecycle`): confirm, cancel, complete, mark a no-show.

Each runs in the request's transaction; a refusal is in the payload's `errors`
(INVALID_TRANSITION, CANCELLATION_WINDOW_CLOSED, NOT_FOUND for an appointment the caller
may not see), with nothing changed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.bookings import service
from hom.bookings.inputs import (
    AppointmentStepPayload,
    CancelAppointmentInput,
    CancelAppointmentPayload,
    CompleteAppointmentPayload,
    ConfirmAppointmentPayload,
    MarkNoShowPayload,
)
from hom.bookings.models import Appointment
from hom.bookings.schema.appointments import GivesAppointments, appointment_id_of
from hom.bookings.types import AppointmentType
from hom.core.graphql.payloads import mutate
from hom.core.graphql.permissions import IsAuthenticated, require_viewer
from hom.core.graphql.visibility import present
from hom.core.viewer import Viewer

PayloadT = TypeVar("PayloadT", bound=AppointmentStepPayload)
Step = Callable[..., Awaitable[Appointment]]


async def _changed(
    info: strawberry.Info,
    payload: type[PayloadT],
    work: Callable[[AsyncSession, Viewer], Awaitable[Appointment]],
) -> PayloadT:
    """The payload of a change made by the viewer: the appointment after it, or the refusal."""
    viewer = await require_viewer(info)
    return await mutate(
        info,
        payload,
        lambda s: work(s, viewer),
        lambda row: present(viewer.reader, AppointmentType, row),
    )


async def _stepped(
    info: strawberry.Info, payload: type[PayloadT], take: Step, id: strawberry.ID
) -> PayloadT:
    appointment_id = appointment_id_of(id)
    return await _changed(
        info, payload, lambda s, v: take(s, appointment_id=appointment_id, actor=v)
    )


@strawberry.type
class AppointmentLifecycleMutation:
    @strawberry.mutation(
        permission_classes=[GivesAppointments],
        description="Confirm a pending appointment: your own (staff), anyone's (admins). The "
        "customer is told.",
    )
    async def confirm_appointment(
        self, info: strawberry.Info, id: strawberry.ID
    ) -> ConfirmAppointmentPayload:
        return await _stepped(info, ConfirmAppointmentPayload, service.confirm_appointment, id)

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Cancel a pending or confirmed appointment: yours as its customer until "
        "CANCELLATION_WINDOW_HOURS before it starts (CANCELLATION_WINDOW_CLOSED after); your "
        "own as its staff member, or anyone's (admins), anytime. Its reminders are dropped.",
    )
    async def cancel_appointment(
        self, info: strawberry.Info, input: CancelAppointmentInput
    ) -> CancelAppointmentPayload:
        appointment_id = appointment_id_of(input.id, "input.id")
        window = timedelta(hours=info.context.settings.cancellation_window_hours)
        return await _changed(
            info,
            CancelAppointmentPayload,
            lambda s, v: service.cancel_appointment(
                s, appointment_id=appointment_id, actor=v, window=window, reason=input.reason
            ),
        )

    @strawberry.mutation(
        permission_classes=[GivesAppointments],
        description="A confirmed appointment that has begun took place: your own (staff), "
        "anyone's (admins).",
    )
    async def complete_appointment(
        self, info: strawberry.Info, id: strawberry.ID
    ) -> CompleteAppointmentPayload:
        return await _stepped(info, CompleteAppointmentPayload, service.complete_appointment, id)

    @strawberry.mutation(
        permission_classes=[GivesAppointments],
        description="The customer of a confirmed appointment that has begun did not come: "
        "your own (staff), anyone's (admins).",
    )
    async def mark_no_show(self, info: strawberry.Info, id: strawberry.ID) -> MarkNoShowPayload:
        return await _stepped(info, MarkNoShowPayload, service.mark_no_show, id)

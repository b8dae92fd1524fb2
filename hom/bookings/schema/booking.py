"""AvailabilityQuery / BookingMutation: the time side of appointments, thin resolvers over
`hom.bookings.availability` and `hom.bookings.booking`.

`availableSlots` is computed, on either read path, by `slots_of` (the one service call):
the executor's resolver on the request's connection, the compiled path on a pooled one
(`ComputedSource`), which leaves any refusal to the executor.

`availableSlots` is public; `bookAppointment` and `rescheduleAppointment` are for signed-in
users (customers for themselves; staff members and admins on behalf of a customer), each
in the request's transaction, a refusal in the payload's `errors` with nothing changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from hom.accounts.types import user_id_of
from hom.bookings import availability, booking, slots
from hom.bookings.inputs import (
    BookAppointmentInput,
    BookAppointmentPayload,
    RescheduleAppointmentInput,
    RescheduleAppointmentPayload,
)
from hom.bookings.models import Appointment
from hom.bookings.schema.appointments import appointment_id_of
from hom.bookings.schema.queries import service_id_of
from hom.bookings.types import AppointmentType, SlotType
from hom.core.config import Settings
from hom.core.errors import DomainError, InvalidInput
from hom.core.graphql.compiled import ComputedSource, source
from hom.core.graphql.cost import estimate
from hom.core.graphql.errors import forbidden
from hom.core.graphql.payloads import fields, mutate
from hom.core.graphql.permissions import IsAuthenticated, Public, require_viewer
from hom.core.graphql.visibility import present, present_all
from hom.core.roles import Role
from hom.core.row_reads import driver_of
from hom.core.viewer import Viewer

SLOTS_DESCRIPTION = (
    "The times the service can be booked with the staff member, starting in [from, to) "
    "(at most 31 days; `from` before `to`; both with an offset), soonest first, in UTC: "
    "on the SLOT_GRID_MINUTES grid from the start of each stretch of working hours (local "
    "time of the staff member's zone, clock changes included), minus time off, live "
    "appointments and the minimum notice (BOOKING_MIN_NOTICE_MIN). A slot may end after "
    "`to`. Exactly these starts can be booked (`bookAppointment`), unless someone books "
    "them first. Asking for a service that does not exist or is not offered now, a staff "
    "member who does not exist or is not one, or one who does not give the service is "
    "BAD_USER_INPUT naming the argument (not an empty list, which means: nothing free)."
)


async def slots_of(
    driver: Any,
    settings: Settings,
    *,
    service_id: strawberry.ID,
    staff_id: strawberry.ID,
    from_: datetime,
    to: datetime,
) -> list[slots.Slot]:
    """`availableSlots` of the field's arguments, on asyncpg's connection `driver`; a
    refusal raised (BAD_USER_INPUT for an id, DomainError)."""
    return await availability.available_slots(
        driver,
        service_id=service_id_of(service_id, "serviceId"),
        staff_id=user_id_of(staff_id, "staffId"),
        start=from_,
        end=to,
        policy=availability.Policy.of(settings),
    )


@strawberry.type
class AvailabilityQuery:
    @strawberry.field(
        permission_classes=[Public],
        description=SLOTS_DESCRIPTION,
        metadata={**source(ComputedSource(slots_of)), **estimate(100)},
    )
    async def available_slots(
        self,
        info: strawberry.Info,
        service_id: strawberry.ID,
        staff_id: strawberry.ID,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
    ) -> list[SlotType]:
        try:
            async with (
                info.context.db.session() as session,
                driver_of(await session.connection()) as driver,
            ):
                found = await slots_of(
                    driver,
                    info.context.settings,
                    service_id=service_id,
                    staff_id=staff_id,
                    from_=from_,
                    to=to,
                )
        except DomainError as error:
            raise InvalidInput(error.message, error.field) from None
        return [SlotType(starts_at=slot.starts_at, ends_at=slot.ends_at) for slot in found]


BOOK_DESCRIPTION = (
    "Book an appointment at a start `availableSlots` offers (and, with `recurrence`, the "
    "same local time each following week: all of them or none). For yourself (a verified "
    "email: EMAIL_NOT_VERIFIED); staff members (in their own calendar) and admins for a "
    "`customerId` (anyone else naming another customer: FORBIDDEN). Refused: "
    "OUTSIDE_WORKING_HOURS (outside the staff member's hours, or during their time off), "
    "INVALID (in the past, sooner than the minimum notice, off the slot grid, an inactive "
    "service, a staff member who does not give it, notes over 1000 characters, 1 to 12 "
    "weeks), SLOT_UNAVAILABLE (another live appointment holds that time, in any week: the "
    "message names it). New appointments are PENDING."
)
RESCHEDULE_DESCRIPTION = (
    "Move a live (PENDING or CONFIRMED) appointment to another start `availableSlots` "
    "offers, keeping its length and status, in one step: the old time is let go only when "
    "the new one is taken (SLOT_UNAVAILABLE leaves it where it was). Its staff member and "
    "admins anytime; its customer until CANCELLATION_WINDOW_HOURS before its current start, "
    "as for cancelling (CANCELLATION_WINDOW_CLOSED). The new time is checked as for "
    "`bookAppointment`; one appointment of a recurring booking moves alone. Someone else's "
    "appointment is NOT_FOUND, as a missing one; a cancelled, completed or missed one is "
    "INVALID_TRANSITION."
)


def _new_booking(input: BookAppointmentInput, viewer: Viewer) -> booking.NewBooking:
    """The booking asked for; FORBIDDEN for a customer naming someone else."""
    customer = input.customer_id
    customer_id = None if customer is None else user_id_of(customer, "input.customerId")
    if customer_id not in (None, viewer.user_id) and not viewer.has_role(Role.STAFF):
        raise forbidden("You book appointments for yourself only")
    return booking.NewBooking(
        service_id=service_id_of(input.service_id, "input.serviceId"),
        staff_id=user_id_of(input.staff_id, "input.staffId"),
        starts_at=input.starts_at,
        customer_id=customer_id,
        notes=input.notes,
        weeks=1 if input.recurrence is None else input.recurrence.weeks,
    )


def _shown(viewer: Viewer, rows: list[Appointment]) -> object:
    shown = present_all(viewer.reader, AppointmentType, rows)
    return fields(appointment=shown[0] if shown else None, appointments=shown)


@strawberry.type
class BookingMutation:
    @strawberry.mutation(permission_classes=[IsAuthenticated], description=BOOK_DESCRIPTION)
    async def book_appointment(
        self, info: strawberry.Info, input: BookAppointmentInput
    ) -> BookAppointmentPayload:
        viewer = await require_viewer(info)
        new = _new_booking(input, viewer)
        policy = availability.Policy.of(info.context.settings)
        return await mutate(
            info,
            BookAppointmentPayload,
            lambda s: booking.book_appointment(s, booking=new, actor=viewer, policy=policy),
            lambda rows: _shown(viewer, rows),
        )

    @strawberry.mutation(permission_classes=[IsAuthenticated], description=RESCHEDULE_DESCRIPTION)
    async def reschedule_appointment(
        self, info: strawberry.Info, input: RescheduleAppointmentInput
    ) -> RescheduleAppointmentPayload:
        viewer = await require_viewer(info)
        appointment_id = appointment_id_of(input.id, "input.id")
        policy = availability.Policy.of(info.context.settings)
        return await mutate(
            info,
            RescheduleAppointmentPayload,
            lambda s: booking.reschedule_appointment(
                s,
                appointment_id=appointment_id,
                starts_at=input.starts_at,
                actor=viewer,
                policy=policy,
            ),
            lambda row: present(viewer.reader, AppointmentType, row),
        )

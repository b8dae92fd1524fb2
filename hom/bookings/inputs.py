"""Inputs and payloads of the bookings' mutations (BookingsMutation)."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

import strawberry

from hom.accounts.types import user_id_of
from hom.bookings import reads
from hom.bookings.models import AppointmentStatus, Weekday
from hom.bookings.types import AppointmentType, ServiceType, TimeOffType, WorkingHoursType
from hom.core.graphql.cost import estimate
from hom.core.graphql.payloads import Payload


@strawberry.input
class CreateServiceInput:
    name: str = strawberry.field(description="1 to 120 characters, unique (in any case).")
    duration_minutes: int = strawberry.field(description="5 to 480.")
    price: Decimal = strawberry.field(description="At least 0, at most two decimals.")
    description: str = ""
    currency: str = "EUR"
    is_active: bool = strawberry.field(
        default=True, description="Offered now; an inactive service is seen by admins only."
    )


@strawberry.input(description="Only the fields given change.")
class UpdateServiceInput:
    id: strawberry.ID
    name: str | None = None
    description: str | None = None
    duration_minutes: int | None = strawberry.field(
        default=None, description="Appointments already booked keep their length."
    )
    price: Decimal | None = None
    currency: str | None = None
    is_active: bool | None = None


@strawberry.input(description="A staff member (a Person or User id) and a service.")
class AssignStaffToServiceInput:
    service_id: strawberry.ID
    staff_id: strawberry.ID


@strawberry.input(description="A staff member (a Person or User id) and a service.")
class UnassignStaffFromServiceInput:
    service_id: strawberry.ID
    staff_id: strawberry.ID


@strawberry.input(description="One range of a week: local times of the staff member's zone.")
class WorkingHoursRangeInput:
    weekday: Weekday
    start_time: time
    end_time: time = strawberry.field(description="Later the same day (exclusive).")


@strawberry.input
class SetWorkingHoursInput:
    staff_id: strawberry.ID = strawberry.field(description="Whose week (a Person or User id).")
    hours: list[WorkingHoursRangeInput] = strawberry.field(
        description="The whole week: it replaces every range there was (an empty list: no "
        "hours). Several ranges a day may be given; two of one day must not overlap."
    )


@strawberry.input
class AddTimeOffInput:
    staff_id: strawberry.ID = strawberry.field(description="Who is away (a Person or User id).")
    starts_at: datetime
    ends_at: datetime = strawberry.field(description="When they are back: after `startsAt`.")
    reason: str | None = strawberry.field(default=None, description="At most 500 characters.")


@strawberry.type
class ServicePayload(Payload):
    service: ServiceType | None = None


@strawberry.type
class CreateServicePayload(ServicePayload):
    pass


@strawberry.type
class UpdateServicePayload(ServicePayload):
    pass


@strawberry.type
class AssignStaffToServicePayload(ServicePayload):
    pass


@strawberry.type
class UnassignStaffFromServicePayload(ServicePayload):
    pass


@strawberry.type
class SetWorkingHoursPayload(Payload):
    working_hours: list[WorkingHoursType] | None = strawberry.field(
        default=None,
        description="The staff member's week as it is now, by weekday and start.",
        metadata=estimate(10),
    )


@strawberry.type
class AddTimeOffPayload(Payload):
    time_off: TimeOffType | None = None


@strawberry.type
class RemoveTimeOffPayload(Payload):
    removed_time_off_id: strawberry.ID | None = strawberry.field(
        default=None, description="The id the removed time off had."
    )


# --- booking -------------------------------------------------------------------------------


@strawberry.input(description="Book the same local time for several weeks in a row.")
class RecurrenceInput:
    weeks: int = strawberry.field(
        default=1,
        description="How many weekly appointments, the first included: 1 to 12, all or none.",
    )


@strawberry.input
class BookAppointmentInput:
    service_id: strawberry.ID
    staff_id: strawberry.ID = strawberry.field(description="The staff member (a Person id).")
    starts_at: datetime = strawberry.field(
        description="A start `availableSlots` offers (with an offset)."
    )
    notes: str | None = strawberry.field(default=None, description="At most 1000 characters.")
    customer_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="For whom (a Person id): staff members (in their own calendar) and admins "
        "book for a customer; anyone else books for themselves (omit it, or give your own).",
    )
    recurrence: RecurrenceInput | None = strawberry.field(
        default=None,
        description="Weekly at the same local time of the staff member's zone (omitted: once).",
    )


@strawberry.type
class BookAppointmentPayload(Payload):
    appointment: AppointmentType | None = strawberry.field(
        default=None, description="The (first) appointment booked."
    )
    appointments: list[AppointmentType] | None = strawberry.field(
        default=None,
        description="Every appointment booked, by start: one, or a recurring booking's weeks "
        "(sharing a `seriesId`).",
        metadata=estimate(12),
    )


@strawberry.input
class RescheduleAppointmentInput:
    id: strawberry.ID
    starts_at: datetime = strawberry.field(
        description="The new start, one `availableSlots` offers; the appointment keeps its length."
    )


@strawberry.type
class RescheduleAppointmentPayload(Payload):
    appointment: AppointmentType | None = None


# --- appointments --------------------------------------------------------------------------


@strawberry.input(
    name="MyAppointmentFilter", description="Your appointments matching every condition given."
)
class MyAppointmentFilterInput:
    status: AppointmentStatus | None = None
    from_: datetime | None = strawberry.field(
        default=None, name="from", description="Starting at or after (inclusive)."
    )
    to: datetime | None = strawberry.field(default=None, description="Starting before (exclusive).")

    def to_filter(self) -> reads.AppointmentFilter:
        return reads.AppointmentFilter(
            status=self.status, starts_from=self.from_, starts_to=self.to
        )


@strawberry.input(
    name="AppointmentFilter", description="Appointments matching every condition given."
)
class AppointmentFilterInput:
    staff_id: strawberry.ID | None = strawberry.field(
        default=None, description="The staff member's Person (or User) id."
    )
    status: AppointmentStatus | None = None
    from_: datetime | None = strawberry.field(
        default=None, name="from", description="Starting at or after (inclusive)."
    )
    to: datetime | None = strawberry.field(default=None, description="Starting before (exclusive).")

    def to_filter(self) -> reads.AppointmentFilter:
        staff = self.staff_id
        return reads.AppointmentFilter(
            status=self.status,
            staff_id=None if staff is None else user_id_of(staff, "filter.staffId"),
            starts_from=self.from_,
            starts_to=self.to,
        )

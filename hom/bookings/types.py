"""Strawberry types of the bookings: services, a staff member's working hours and time
off, and appointments, each field declared once for both read paths.

Staff members and customers are people (`Person`, the public person type): a service's
`staff` are the active STAFF users linked to it through `staff_service`. Working hours
and time off are their own and the admins' (`rules.SCHEDULE`); an appointment is its
customer's, its staff member's and the admins' (`rules.APPOINTMENTS`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time

import strawberry
from strawberry import relay

from hom.accounts.types import PersonType
from hom.bookings import reads, rules
from hom.bookings.loaders import (
    appointment_by_id,
    service_by_id,
    time_off_by_id,
    working_hours_by_id,
)
from hom.bookings.models import (
    Appointment,
    AppointmentStatus,
    Service,
    TimeOff,
    Weekday,
    WorkingHours,
)
from hom.catalog.types import Money
from hom.core.graphql.relations import derived, embedded, nodes_by_id, to_many, to_one
from hom.core.graphql.visibility import personal, rows_of

strawberry.enum(Weekday, name="Weekday", description="A day of the week, Monday first.")
strawberry.enum(
    AppointmentStatus,
    name="AppointmentStatus",
    description="PENDING → CONFIRMED → COMPLETED | NO_SHOW; CANCELLED from PENDING or "
    "CONFIRMED. PENDING and CONFIRMED ones hold the staff member's time.",
)


@rows_of(Service, visible=rules.SERVICES)
@strawberry.type(
    name="Service",
    description="Something a customer can book with a staff member: how long it takes and "
    "what it costs.",
)
class ServiceType(relay.Node):
    service_id: relay.NodeID[int]
    name: str
    description: str
    duration_minutes: int = strawberry.field(description="How long an appointment takes: 5 to 480.")
    row: strawberry.Private[Service]
    price: Money = embedded(Money, amount="price", currency="currency")
    is_active: bool = strawberry.field(
        description="False while it is not offered (then only admins see it)."
    )
    staff: list[PersonType] = to_many(
        key="service_id",
        through=reads.STAFF_OF_SERVICE,
        order=reads.by_full_name,
        target=lambda: PersonType,
        estimate=5,
        description="The staff members who give it, by name (active STAFF users only).",
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, service: Service) -> ServiceType:
        """The API object of a row (use `present` so visibility applies)."""
        assert service.id is not None
        assert service.created_at is not None
        assert service.updated_at is not None
        return cls(
            service_id=service.id,
            name=service.name,
            description=service.description,
            duration_minutes=service.duration_minutes,
            row=service,
            is_active=service.is_active,
            created_at=service.created_at,
            updated_at=service.updated_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[ServiceType | None]:
        return await nodes_by_id(info, cls, service_by_id, node_ids)


@rows_of(WorkingHours, visible=rules.SCHEDULE)
@strawberry.type(
    name="WorkingHours",
    description="One range of a staff member's week, in local time of their time zone (their "
    "profile's `timezone`): for them and admins.",
)
class WorkingHoursType(relay.Node):
    working_hours_id: relay.NodeID[int]
    day: strawberry.Private[Weekday]
    weekday: Weekday = derived(
        python=lambda hours: hours.day, sql=lambda row, _: reads.weekday_name(row)
    )
    start_time: time = strawberry.field(description="When it starts (inclusive).")
    end_time: time = strawberry.field(description="When it ends (exclusive), later that day.")
    staff_id: strawberry.Private[int]
    staff: PersonType = to_one(
        key="staff_id", target=lambda: PersonType, description="Whose it is."
    )

    @classmethod
    def from_model(cls, hours: WorkingHours) -> WorkingHoursType:
        assert hours.id is not None
        return cls(
            working_hours_id=hours.id,
            day=Weekday.of(hours.weekday),
            start_time=hours.start_time,
            end_time=hours.end_time,
            staff_id=hours.staff_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[WorkingHoursType | None]:
        return await nodes_by_id(info, cls, working_hours_by_id, node_ids)


@rows_of(TimeOff, visible=rules.SCHEDULE)
@strawberry.type(
    name="TimeOff",
    description="A time a staff member is away (no appointment can be booked then): for them "
    "and admins.",
)
class TimeOffType(relay.Node):
    time_off_id: relay.NodeID[int]
    starts_at: datetime
    ends_at: datetime = strawberry.field(description="When they are back (exclusive).")
    reason: str | None = personal("Why, if they said.")
    created_at: datetime
    staff_id: strawberry.Private[int]
    staff: PersonType = to_one(
        key="staff_id", target=lambda: PersonType, description="Who is away."
    )

    @classmethod
    def from_model(cls, time_off: TimeOff) -> TimeOffType:
        assert time_off.id is not None
        assert time_off.created_at is not None
        return cls(
            time_off_id=time_off.id,
            starts_at=time_off.starts_at,
            ends_at=time_off.ends_at,
            reason=time_off.reason,
            created_at=time_off.created_at,
            staff_id=time_off.staff_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[TimeOffType | None]:
        return await nodes_by_id(info, cls, time_off_by_id, node_ids)


@rows_of(Appointment, visible=rules.APPOINTMENTS)
@strawberry.type(
    name="Appointment",
    description="A customer's appointment with a staff member for a service: for the "
    "customer, the staff member and admins (anyone else: no such appointment).",
)
class AppointmentType(relay.Node):
    appointment_id: relay.NodeID[int]
    starts_at: datetime
    ends_at: datetime = strawberry.field(description="When it ends (exclusive).")
    status: AppointmentStatus
    service_id: strawberry.Private[int]
    service: ServiceType | None = to_one(
        key="service_id",
        target=lambda: ServiceType,
        description="What it is for; null once the service is no longer offered (except "
        "for admins).",
    )
    staff_id: strawberry.Private[int]
    staff: PersonType = to_one(
        key="staff_id", target=lambda: PersonType, description="Who gives it."
    )
    customer_id: strawberry.Private[int]
    customer: PersonType = to_one(
        key="customer_id", target=lambda: PersonType, description="Who it is for."
    )
    notes: str | None = personal("What the customer (or whoever booked it) wrote.")
    cancel_reason: str | None = strawberry.field(
        description="Why it was cancelled (null: not cancelled, or no reason given)."
    )
    series_id: strawberry.ID | None = strawberry.field(
        description="The same for every appointment of one recurring booking; null for a "
        "single one."
    )
    created_at: datetime
    updated_at: datetime
    confirmed_at: datetime | None
    completed_at: datetime | None
    no_show_at: datetime | None
    cancelled_at: datetime | None

    @classmethod
    def from_model(cls, appointment: Appointment) -> AppointmentType:
        """The API object of a row (use `present` so visibility applies)."""
        assert appointment.id is not None
        assert appointment.created_at is not None
        assert appointment.updated_at is not None
        series = appointment.series_id
        return cls(
            appointment_id=appointment.id,
            starts_at=appointment.starts_at,
            ends_at=appointment.ends_at,
            status=AppointmentStatus(appointment.status),
            service_id=appointment.service_id,
            staff_id=appointment.staff_id,
            customer_id=appointment.customer_id,
            notes=appointment.notes,
            cancel_reason=appointment.cancel_reason,
            series_id=None if series is None else strawberry.ID(str(series)),
            created_at=appointment.created_at,
            updated_at=appointment.updated_at,
            confirmed_at=appointment.confirmed_at,
            completed_at=appointment.completed_at,
            no_show_at=appointment.no_show_at,
            cancelled_at=appointment.cancelled_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[AppointmentType | None]:
        return await nodes_by_id(info, cls, appointment_by_id, node_ids)


@strawberry.type(
    name="Slot",
    description="A time a service can be booked with a staff member: [startsAt, endsAt).",
)
class SlotType:
    starts_at: datetime = strawberry.field(description="What `bookAppointment` takes.")
    ends_at: datetime = strawberry.field(
        description="`startsAt` plus the service's duration (real time, across clock changes)."
    )

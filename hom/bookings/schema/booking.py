"""AvailabilityQuery / BookingMutation: the time side of appointments, thin resolvers over
`hom.bookings.availability` and `hom.bookings.booking`.

`availableSlots` is public; `bookAppointment` and `rescheduleAppointment` are for signed-in
users (customers for themselves; staff members and admins on behalf of a customer), each
in the request's transaction, a refusal in the payload's `errors` with nothing changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from hom.accounts.types import user_id_of
from hom.bookings import availability
from hom.bookings.schema.queries import service_id_of
from hom.bookings.types import SlotType
from hom.core.errors import DomainError, InvalidInput
from hom.core.graphql.compiled import executor_only
from hom.core.graphql.cost import estimate
from hom.core.graphql.permissions import Public

COMPUTED = "slots are computed in Python from the week, the time zone and the busy times"
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


@strawberry.type
class AvailabilityQuery:
    @strawberry.field(
        permission_classes=[Public],
        description=SLOTS_DESCRIPTION,
        metadata={**executor_only(COMPUTED), **estimate(100)},
    )
    async def available_slots(
        self,
        info: strawberry.Info,
        service_id: strawberry.ID,
        staff_id: strawberry.ID,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
    ) -> list[SlotType]:
        service = service_id_of(service_id, "serviceId")
        staff = user_id_of(staff_id, "staffId")
        policy = availability.Policy.of(info.context.settings)
        try:
            async with info.context.db.session() as session:
                found = await availability.available_slots(
                    session,
                    service_id=service,
                    staff_id=staff,
                    start=from_,
                    end=to,
                    policy=policy,
                )
        except ValueError as error:
            raise InvalidInput(str(error)) from None
        except DomainError as error:
            raise InvalidInput(error.message, error.field) from None
        return [SlotType(starts_at=slot.starts_at, ends_at=slot.ends_at) for slot in found]

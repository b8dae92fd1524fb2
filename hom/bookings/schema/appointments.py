"""AppointmentsQuery / AppointmentsMutation: thin resolvers over the appointments.

Reading: `myAppointments` (yours, as a customer), `staffAppointments` (a staff member's
own; admins anyone's), `appointment(id)` (its customer's, its staff member's and the
admins'; anyone else's is null, as a missing one). The compiled read path answers the
three from the same statements (`*_query` below) as their resolvers.
"""

from __future__ import annotations

from typing import Any

import strawberry

from hom.bookings import reads
from hom.bookings.inputs import AppointmentFilterInput, MyAppointmentFilterInput
from hom.bookings.loaders import appointment_by_id
from hom.bookings.types import AppointmentType
from hom.core.graphql import compiled
from hom.core.graphql.permissions import IsAuthenticated, has_role, require_viewer
from hom.core.graphql.reading import counted
from hom.core.graphql.relations import present_one, present_page
from hom.core.graphql.relay import Connection, CountedConnection, decode_id
from hom.core.pagination import PageQuery
from hom.core.roles import Role
from hom.core.viewer import Reader

# Staff members read their own appointments; admins anyone's.
GivesAppointments = has_role(Role.STAFF)


def appointment_id_of(global_id: str, argument: str = "id") -> int:
    return decode_id(global_id, "Appointment", argument=argument)


def my_appointments_query(
    reader: Reader,
    features: Any,
    *,
    first: int | None = None,
    after: str | None = None,
    filter: MyAppointmentFilterInput | None = None,
    last: int | None = None,
    before: str | None = None,
    owner: Any = None,
) -> PageQuery:
    """The page `myAppointments` answers with: its resolver's (`owner`: the viewer's id)
    and the compiled path's (the viewer's id as the statement's parameter)."""
    criteria = (filter or MyAppointmentFilterInput()).to_filter()
    mine = compiled.viewer_id() if owner is None else owner
    return reads.appointments_query(criteria, (first, after, last, before), customer=mine)


def staff_appointments_query(
    reader: Reader,
    features: Any,
    *,
    first: int | None = None,
    after: str | None = None,
    filter: AppointmentFilterInput | None = None,
    last: int | None = None,
    before: str | None = None,
    owner: Any = None,
) -> PageQuery:
    """The page `staffAppointments` answers with: an admin's of anyone (or of the filter's
    `staffId`), a staff member's of their own (another's `staffId` matches nothing)."""
    criteria = (filter or AppointmentFilterInput()).to_filter()
    mine = None if reader.is_admin else compiled.viewer_id() if owner is None else owner
    return reads.appointments_query(criteria, (first, after, last, before), staff=mine)


def appointment_query(reader: Reader, features: Any, *, id: strawberry.ID) -> Any:
    """The row `appointment` answers with (the type's rule hides anyone else's)."""
    return reads.appointment_lookup(appointment_id=appointment_id_of(id))


@strawberry.type
class AppointmentsQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="The appointments you booked (or were booked for), soonest first; "
        "`totalCount`: how many match the filter.",
        metadata=compiled.source(compiled.ConnectionSource(my_appointments_query)),
    )
    async def my_appointments(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        filter: MyAppointmentFilterInput | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> CountedConnection[AppointmentType]:
        viewer = await require_viewer(info)
        query = my_appointments_query(
            viewer.reader,
            None,
            first=first,
            after=after,
            filter=filter,
            last=last,
            before=before,
            owner=viewer.user_id,
        )
        criteria = (filter or MyAppointmentFilterInput()).to_filter()
        async with info.context.db.session() as session:
            page = await reads.run_appointments_query(session, query=query)
        size = counted(
            info,
            lambda s: reads.count_appointments(s, filter=criteria, customer=viewer.user_id),
        )
        found: CountedConnection[AppointmentType] = await present_page(
            info, AppointmentType, page, size
        )
        return found

    @strawberry.field(
        permission_classes=[GivesAppointments],
        description="The appointments a staff member gives, soonest first: your own (staff; "
        "another's `staffId` matches nothing), anyone's (admins).",
        metadata=compiled.source(compiled.ConnectionSource(staff_appointments_query)),
    )
    async def staff_appointments(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        filter: AppointmentFilterInput | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[AppointmentType]:
        viewer = await require_viewer(info)
        query = staff_appointments_query(
            viewer.reader,
            None,
            first=first,
            after=after,
            filter=filter,
            last=last,
            before=before,
            owner=viewer.user_id,
        )
        async with info.context.db.session() as session:
            page = await reads.run_appointments_query(session, query=query)
        found: Connection[AppointmentType] = await present_page(info, AppointmentType, page)
        return found

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="An appointment by its id: yours (as its customer or its staff member), "
        "or (admins) anyone's; null for one that does not exist or that you may not see.",
        metadata=compiled.source(compiled.RowSource(appointment_query)),
    )
    async def appointment(self, info: strawberry.Info, id: strawberry.ID) -> AppointmentType | None:
        found = await info.context.loaders.get(appointment_by_id).load(appointment_id_of(id))
        return await present_one(info, AppointmentType, found)

"""BookingsQuery: thin resolvers over the bookings' reads.

Public: `services` (active ones; admins see inactive ones too), `service(id)` and
`staffMembers(serviceId)` (people). Signed in: `workingHours(staffId)` and
`timeOff(staffId)`, a staff member's own and the admins' (anyone else reads an empty
list, as for a staff member with none). The compiled read path answers each from the
same statement (`*_query` below) as its resolver.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from hom.accounts.types import PersonType, user_id_of
from hom.bookings import reads
from hom.bookings.loaders import service_by_id
from hom.bookings.types import ServiceType, TimeOffType, WorkingHoursType
from hom.core.graphql import compiled
from hom.core.graphql.cost import estimate
from hom.core.graphql.permissions import IsAuthenticated, Public
from hom.core.graphql.reading import read_list
from hom.core.graphql.relations import present_one
from hom.core.graphql.relay import decode_id
from hom.core.viewer import Reader


def service_id_of(global_id: str, argument: str = "id") -> int:
    return decode_id(global_id, "Service", argument=argument)


def services_query(reader: Reader, features: Any) -> Any:
    return reads.services_query()


def service_query(reader: Reader, features: Any, *, id: strawberry.ID) -> Any:
    """The row `service` answers with (the type's rule hides an inactive one)."""
    return reads.service_lookup(service_id=service_id_of(id))


def staff_members_query(
    reader: Reader, features: Any, *, service_id: strawberry.ID | None = None
) -> Any:
    service = None if service_id is None else service_id_of(service_id, "serviceId")
    return reads.staff_members_query(reader, service_id=service)


def working_hours_query(reader: Reader, features: Any, *, staff_id: strawberry.ID) -> Any:
    return reads.working_hours_query(staff_id=user_id_of(staff_id, "staffId"))


def time_off_query(
    reader: Reader,
    features: Any,
    *,
    staff_id: strawberry.ID,
    from_: datetime | None = None,
    to: datetime | None = None,
) -> Any:
    return reads.time_off_query(
        staff_id=user_id_of(staff_id, "staffId"), ends_after=from_, starts_before=to
    )


def listed(query: Any, count: int) -> dict[str, Any]:
    """A root list's metadata: its compiled source, and how many it usually holds."""
    return {**compiled.source(compiled.ListSource(query)), **estimate(count)}


@strawberry.type
class BookingsQuery:
    @strawberry.field(
        permission_classes=[Public],
        description="The services offered, by name; inactive ones too for admins.",
        metadata=listed(services_query, 20),
    )
    async def services(self, info: strawberry.Info) -> list[ServiceType]:
        return await read_list(
            info, ServiceType, lambda s: reads.run_list(s, statement=reads.services_query())
        )

    @strawberry.field(
        permission_classes=[Public],
        description="A service by its id (null for an inactive one, but for admins).",
        metadata=compiled.source(compiled.RowSource(service_query)),
    )
    async def service(self, info: strawberry.Info, id: strawberry.ID) -> ServiceType | None:
        found = await info.context.loaders.get(service_by_id).load(service_id_of(id))
        return await present_one(info, ServiceType, found)

    @strawberry.field(
        permission_classes=[Public],
        description="The staff members (active users with role STAFF) by name; with "
        "`serviceId`, those who give that service.",
        metadata=listed(staff_members_query, 10),
    )
    async def staff_members(
        self, info: strawberry.Info, service_id: strawberry.ID | None = None
    ) -> list[PersonType]:
        statement = staff_members_query(await info.context.reader(), None, service_id=service_id)
        return await read_list(info, PersonType, lambda s: reads.run_list(s, statement=statement))

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="A staff member's week, by weekday and start: for them and admins (anyone "
        "else reads an empty list).",
        metadata=listed(working_hours_query, 10),
    )
    async def working_hours(
        self, info: strawberry.Info, staff_id: strawberry.ID
    ) -> list[WorkingHoursType]:
        statement = working_hours_query(await info.context.reader(), None, staff_id=staff_id)
        return await read_list(
            info, WorkingHoursType, lambda s: reads.run_list(s, statement=statement)
        )

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="A staff member's time off by start, only what overlaps [from, to) where "
        "given: for them and admins (anyone else reads an empty list).",
        metadata=listed(time_off_query, 10),
    )
    async def time_off(
        self,
        info: strawberry.Info,
        staff_id: strawberry.ID,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> list[TimeOffType]:
        reader = await info.context.reader()
        statement = time_off_query(reader, None, staff_id=staff_id, from_=from_, to=to)
        return await read_list(info, TimeOffType, lambda s: reads.run_list(s, statement=statement))

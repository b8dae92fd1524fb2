"""SPEC §6 for every bookings root field: who gets UNAUTHENTICATED, FORBIDDEN, or an answer.

Services and staff members are for everyone; the offering is the admins'; a schedule is
its staff member's own (the STAFF caller's, here) and the admins'. Readers of a schedule
who may not see it get an answer all the same (an empty list: see test_reads)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from strawberry.types.base import get_object_definition
from strawberry.utils.str_converters import to_camel_case

from hom.accounts.models import User
from hom.audit.models import AuditEntry
from hom.bookings import service
from hom.bookings.models import Service, TimeOff, Weekday
from hom.bookings.schema import BookingsMutation, BookingsQuery
from hom.core.db import SessionMaker
from hom.core.roles import Role
from hom.core.unit_of_work import unit_of_work
from hom.core.viewer import Viewer
from tests.accounts.test_role_matrix import CALLERS, DENY, OK, UNAUTH, Expect
from tests.bookings.factories import a_service, a_staff_member, an_admin, count, set_hours
from tests.catalog.factories import global_id
from tests.factories import create_user, login_tokens
from tests.support import GraphQLClient, error_codes

# field                       anonymous  CUSTOMER  STAFF  OPERATOR  ADMIN
MATRIX: dict[str, tuple[Expect, Expect, Expect, Expect, Expect]] = {
    "services":                 (OK,     OK,       OK,    OK,       OK),
    "service":                  (OK,     OK,       OK,    OK,       OK),
    "staffMembers":             (OK,     OK,       OK,    OK,       OK),
    "workingHours":             (UNAUTH, OK,       OK,    OK,       OK),
    "timeOff":                  (UNAUTH, OK,       OK,    OK,       OK),
    "createService":            (UNAUTH, DENY,     DENY,  DENY,     OK),
    "updateService":            (UNAUTH, DENY,     DENY,  DENY,     OK),
    "assignStaffToService":     (UNAUTH, DENY,     DENY,  DENY,     OK),
    "unassignStaffFromService": (UNAUTH, DENY,     DENY,  DENY,     OK),
    "setWorkingHours":          (UNAUTH, DENY,     OK,    DENY,     OK),
    "addTimeOff":               (UNAUTH, DENY,     OK,    DENY,     OK),
    "removeTimeOff":            (UNAUTH, DENY,     OK,    DENY,     OK),
}  # fmt: skip


@dataclass(frozen=True)
class Rows:
    """What an operation may refer to: a service, the staff member whose schedule it is
    (the caller when STAFF, else someone else), and their time off."""

    service: Service
    staff: User
    time_off: TimeOff


@dataclass(frozen=True)
class Operation:
    document: str
    variables: Callable[[Rows], dict[str, Any]]


def service_gid(rows: Rows) -> dict[str, Any]:
    return {"id": global_id("Service", rows.service.id)}


def staff_gid(rows: Rows) -> dict[str, Any]:
    return {"id": global_id("Person", rows.staff.id)}


def both(rows: Rows) -> dict[str, Any]:
    staff = global_id("Person", rows.staff.id)
    return {"input": {"serviceId": global_id("Service", rows.service.id), "staffId": staff}}


def payload(name: str, input_type: str, selection: str) -> str:
    return (
        f"mutation ($input: {input_type}!) "
        f"{{ {name}(input: $input) {{ {selection} errors {{ field code }} }} }}"
    )


OPERATIONS: dict[str, Operation] = {
    "services": Operation("{ services { name } }", lambda _: {}),
    "service": Operation("query ($id: ID!) { service(id: $id) { name } }", service_gid),
    "staffMembers": Operation(
        "query ($id: ID!) { staffMembers(serviceId: $id) { fullName } }", service_gid
    ),
    "workingHours": Operation(
        "query ($id: ID!) { workingHours(staffId: $id) { weekday } }", staff_gid
    ),
    "timeOff": Operation("query ($id: ID!) { timeOff(staffId: $id) { startsAt } }", staff_gid),
    "createService": Operation(
        payload("createService", "CreateServiceInput", "service { id }"),
        lambda _: {"input": {"name": "New", "durationMinutes": 30, "price": "10"}},
    ),
    "updateService": Operation(
        payload("updateService", "UpdateServiceInput", "service { id }"),
        lambda rows: {"input": {**service_gid(rows), "price": "12.50"}},
    ),
    "assignStaffToService": Operation(
        payload("assignStaffToService", "AssignStaffToServiceInput", "service { id }"), both
    ),
    "unassignStaffFromService": Operation(
        payload("unassignStaffFromService", "UnassignStaffFromServiceInput", "service { id }"),
        both,
    ),
    "setWorkingHours": Operation(
        payload("setWorkingHours", "SetWorkingHoursInput", "workingHours { id }"),
        lambda rows: {
            "input": {
                "staffId": global_id("Person", rows.staff.id),
                "hours": [{"weekday": "MONDAY", "startTime": "09:00", "endTime": "17:00"}],
            }
        },
    ),
    "addTimeOff": Operation(
        payload("addTimeOff", "AddTimeOffInput", "timeOff { id }"),
        lambda rows: {
            "input": {
                "staffId": global_id("Person", rows.staff.id),
                "startsAt": "2030-01-01T00:00:00Z",
                "endsAt": "2030-01-02T00:00:00Z",
            }
        },
    ),
    "removeTimeOff": Operation(
        "mutation ($id: ID!) { removeTimeOff(id: $id) { removedTimeOffId errors { code } } }",
        lambda rows: {"id": global_id("TimeOff", rows.time_off.id)},
    ),
}


def matrix_cases() -> list[Any]:
    return [
        pytest.param(name, caller, expected, id=f"{name}-{caller or 'anonymous'}")
        for name, row in MATRIX.items()
        for caller, expected in zip(CALLERS, row, strict=True)
    ]


def test_matrix_covers_every_bookings_root_field() -> None:
    fields = {
        to_camel_case(f.python_name)
        for root in (BookingsQuery, BookingsMutation)
        for f in get_object_definition(root, strict=True).fields
    }
    assert fields == set(MATRIX) == set(OPERATIONS)


@pytest.mark.parametrize(("name", "caller", "expected"), matrix_cases())
async def test_role_matrix(
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    name: str,
    caller: Role | None,
    expected: Expect,
) -> None:
    admin = await an_admin(session_maker)
    me = None if caller is None else await create_user(session_maker, role=caller)
    staff = me if caller is Role.STAFF else await a_staff_member(session_maker)
    assert staff is not None
    await set_hours(session_maker, admin, staff, (Weekday.FRIDAY, "09:00", "12:00"))
    rows = Rows(
        service=await a_service(session_maker, admin, staff=(staff,)),
        staff=staff,
        time_off=await _time_off(session_maker, admin, staff),
    )
    token = None if me is None else (await login_tokens(client, me.email)).access_token
    operation = OPERATIONS[name]
    audited = await _audited(session_maker)

    body = await gql(operation.document, operation.variables(rows), token=token)

    codes = error_codes(body)
    if expected is Expect.OK:
        assert codes == [], body
        answer = body["data"][name]
        assert answer is not None, body
        if isinstance(answer, dict) and "errors" in answer:
            assert answer["errors"] == [], body
    else:
        assert codes == [expected.value], body
        assert body["errors"][0]["path"] == [name]
        assert body["data"] is None, body
        assert await _audited(session_maker) == audited, "a refused caller changed nothing"


async def _time_off(session_maker: SessionMaker, admin: Viewer, staff: User) -> TimeOff:
    new = service.NewTimeOff(
        staff_id=staff.id or 0,
        starts_at=datetime(2030, 2, 1, tzinfo=UTC),
        ends_at=datetime(2030, 2, 3, tzinfo=UTC),
    )
    async with unit_of_work(session_maker) as session:
        return await service.add_time_off(session, new=new, actor=admin)


async def _audited(session_maker: SessionMaker) -> int:
    return await count(session_maker, AuditEntry)

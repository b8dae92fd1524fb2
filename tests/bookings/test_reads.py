"""Reading the bookings over GraphQL, for every caller: the services and who gives them
(public; an inactive service is the admins' alone), a staff member's working hours and
time off (theirs and the admins'; anyone else reads nothing), `node(id:)` obeying the same
rules, and what the lists cost in SQL statements on both read paths."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from hom.bookings.models import Weekday
from hom.core.db import SessionMaker
from tests.bookings.conftest import ROLES, Offering, user_of
from tests.bookings.factories import a_service, a_staff_member, an_admin, set_hours, viewer_of
from tests.catalog.factories import global_id
from tests.factories import login_tokens
from tests.orders.order_support import Caller
from tests.support import GraphQLClient, count_statements, error_codes

pytestmark = pytest.mark.usefixtures("features_learnt")

SERVICES = (
    "{ services { name isActive durationMinutes price { amount currency } staff { fullName } } }"
)
SERVICE = "query ($id: ID!) { service(id: $id) { name isActive staff { fullName } } }"
STAFF_MEMBERS = "query ($id: ID) { staffMembers(serviceId: $id) { fullName } }"
WORKING_HOURS = (
    "query ($id: ID!) { workingHours(staffId: $id) {"
    " weekday startTime endTime staff { fullName } } }"
)
TIME_OFF = (
    "query ($id: ID!, $from: DateTime, $to: DateTime) {"
    " timeOff(staffId: $id, from: $from, to: $to) { startsAt endsAt reason staff { fullName } } }"
)
NODE = "query ($id: ID!) { node(id: $id) { id } }"
# Who reads a staff member's schedule: themselves and admins.
SCHEDULE_READERS = ("staff", "admin")
BOTH = [{"fullName": "Ada Adler"}, {"fullName": "Bea Berger"}]


def haircut(staff: list[dict[str, str]] = BOTH) -> dict[str, Any]:
    return {
        "name": "Haircut",
        "isActive": True,
        "durationMinutes": 30,
        "price": {"amount": "35.00", "currency": "EUR"},
        "staff": staff,
    }


# --- services ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
async def test_everyone_reads_the_active_services_and_admins_the_inactive_too(
    callers: dict[str, Caller], offering: Offering, role: str
) -> None:
    body = await callers[role](SERVICES)
    names = [(s["name"], s["isActive"]) for s in body["data"]["services"]]
    if role == "admin":
        assert names == [("Haircut", True), ("Massage", True), ("Perm", False)]
    else:
        assert names == [("Haircut", True), ("Massage", True)]
    assert body["data"]["services"][0] == haircut()


@pytest.mark.parametrize("role", ROLES)
async def test_an_inactive_service_is_as_missing_but_for_admins(
    callers: dict[str, Caller], offering: Offering, role: str
) -> None:
    active = await callers[role](SERVICE, {"id": global_id("Service", offering.haircut.id)})
    assert active["data"]["service"] == {"name": "Haircut", "isActive": True, "staff": BOTH}
    retired = await callers[role](SERVICE, {"id": global_id("Service", offering.retired.id)})
    node = await callers[role](NODE, {"id": global_id("Service", offering.retired.id)})
    missing = await callers[role](SERVICE, {"id": global_id("Service", 10**9)})
    if role == "admin":
        perm = {"name": "Perm", "isActive": False, "staff": [{"fullName": "Bea Berger"}]}
        assert retired["data"]["service"] == perm
        assert node["data"]["node"] == {"id": global_id("Service", offering.retired.id)}
    else:
        assert retired == missing == {"data": {"service": None}}
        assert node == {"data": {"node": None}}


@pytest.mark.parametrize("role", ROLES)
async def test_staff_members_are_people_anyone_may_list(
    callers: dict[str, Caller], offering: Offering, role: str
) -> None:
    async def listed(service_id: int | None) -> Any:
        variables = {"id": None if service_id is None else global_id("Service", service_id)}
        body = await callers[role](STAFF_MEMBERS, variables)
        return body["data"]["staffMembers"]

    assert await listed(None) == BOTH  # every active staff member, by name
    assert await listed(offering.haircut.id) == BOTH
    assert await listed(offering.massage.id) == []
    assert await listed(10**9) == []
    retired = [{"fullName": "Bea Berger"}] if role == "admin" else []
    assert await listed(offering.retired.id) == retired


async def test_a_malformed_service_id_is_bad_user_input(callers: dict[str, Caller]) -> None:
    for query in (SERVICE, STAFF_MEMBERS):
        body = await callers["customer"](query, {"id": global_id("Product", 1)})
        assert error_codes(body) == ["BAD_USER_INPUT"]


# --- a staff member's schedule -------------------------------------------------------------


@pytest.fixture
async def schedule(callers: dict[str, Caller], session_maker: SessionMaker) -> dict[str, str]:
    """The staff caller works Monday 09:00-12:30, 13:30-17:00 and Wednesday 10:00-14:00,
    and is away twice in July; the other staff member works Friday."""
    admin = viewer_of(await user_of(session_maker, callers["admin"]))
    staff = await user_of(session_maker, callers["staff"])
    other = await user_of(session_maker, callers["other staff"])
    hours = [
        (Weekday.WEDNESDAY, "10:00", "14:00"),
        (Weekday.MONDAY, "13:30", "17:00"),
        (Weekday.MONDAY, "09:00", "12:30"),
    ]
    await set_hours(session_maker, admin, staff, *hours)
    await set_hours(session_maker, admin, other, (Weekday.FRIDAY, "09:00", "17:00"))
    mine = callers["staff"]
    add = "mutation ($input: AddTimeOffInput!) { addTimeOff(input: $input) { timeOff { id } } }"
    for starts, ends, reason in (
        ("2030-07-20T08:00:00Z", "2030-07-21T08:00:00Z", None),
        ("2030-07-01T08:00:00Z", "2030-07-02T08:00:00Z", "Dentist"),
    ):
        given = {"staffId": global_id("Person", mine.user_id), "startsAt": starts, "endsAt": ends}
        body = await mine(add, {"input": {**given, "reason": reason}})
        assert body["data"]["addTimeOff"]["timeOff"]["id"]
    return {"staff": global_id("Person", mine.user_id)}


def range_of(weekday: str, start: str, end: str) -> dict[str, Any]:
    return {
        "weekday": weekday,
        "startTime": start,
        "endTime": end,
        "staff": {"fullName": "Bea Berger"},
    }


WEEK = [
    range_of("MONDAY", "09:00", "12:30"),
    range_of("MONDAY", "13:30", "17:00"),
    range_of("WEDNESDAY", "10:00", "14:00"),
]
AWAY = [
    {
        "startsAt": "2030-07-01T08:00:00+00:00",
        "endsAt": "2030-07-02T08:00:00+00:00",
        "reason": "Dentist",
        "staff": {"fullName": "Bea Berger"},
    },
    {
        "startsAt": "2030-07-20T08:00:00+00:00",
        "endsAt": "2030-07-21T08:00:00+00:00",
        "reason": None,
        "staff": {"fullName": "Bea Berger"},
    },
]


@pytest.mark.parametrize("role", ROLES)
async def test_a_schedule_is_its_staff_members_and_the_admins(
    callers: dict[str, Caller], schedule: dict[str, str], role: str
) -> None:
    hours = await callers[role](WORKING_HOURS, {"id": schedule["staff"]})
    away = await callers[role](TIME_OFF, {"id": schedule["staff"]})
    if role == "anonymous":
        assert error_codes(hours) == error_codes(away) == ["UNAUTHENTICATED"]
        return
    readable = role in SCHEDULE_READERS
    assert hours == {"data": {"workingHours": WEEK if readable else []}}
    assert away == {"data": {"timeOff": AWAY if readable else []}}


@pytest.mark.parametrize("role", ROLES)
async def test_node_obeys_the_schedules_rule(
    callers: dict[str, Caller], schedule: dict[str, str], role: str
) -> None:
    admin = callers["admin"]
    listed = "query ($id: ID!) { workingHours(staffId: $id) { id } timeOff(staffId: $id) { id } }"
    body = await admin(listed, {"id": schedule["staff"]})
    ids = [row["id"] for key in ("workingHours", "timeOff") for row in body["data"][key]]
    found = [(await callers[role](NODE, {"id": id_}))["data"]["node"] for id_ in ids]
    if role in SCHEDULE_READERS:
        assert found == [{"id": id_} for id_ in ids]
    else:
        assert found == [None] * len(ids)


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ({"from": "2030-07-02T08:00:00Z"}, [AWAY[1]]),  # ends at `from`: not in it
        ({"to": "2030-07-20T08:00:00Z"}, [AWAY[0]]),  # starts at `to`: not in it
        ({"from": "2030-07-01T12:00:00+02:00", "to": "2030-07-01T13:00:00+02:00"}, [AWAY[0]]),
        ({"from": "2030-08-01T00:00:00Z"}, []),
    ],
)
async def test_time_off_is_what_overlaps_the_window(
    callers: dict[str, Caller],
    schedule: dict[str, str],
    window: dict[str, str],
    expected: list[dict[str, Any]],
) -> None:
    body = await callers["staff"](TIME_OFF, {"id": schedule["staff"], **window})
    assert body == {"data": {"timeOff": expected}}


async def test_a_naive_window_is_bad_user_input(
    callers: dict[str, Caller], schedule: dict[str, str]
) -> None:
    body = await callers["staff"](TIME_OFF, {"id": schedule["staff"], "from": "2030-07-01T00:00"})
    assert error_codes(body) == ["BAD_USER_INPUT"]


# --- what the lists cost -------------------------------------------------------------------

# The compiled path: one statement per root field. The executor: the list, then the
# staff of all its services (or the people of all its ranges) in one batch.
STATEMENTS = {"compiled": 1, "executor": 2}
NAMES = "{ services { name staff { fullName } } }"


@pytest.mark.parametrize("path", ["compiled", "executor"])
async def test_services_with_their_staff_cost_the_same_for_any_number(
    app: Starlette, gql: GraphQLClient, session_maker: SessionMaker, path: str
) -> None:
    app.state.compiled.enabled = path == "compiled"
    admin = await an_admin(session_maker)
    staff = [await a_staff_member(session_maker, f"Staff {n}") for n in range(3)]
    counts = {}
    made = 0
    for size in (1, 5, 20):
        for n in range(made, size):
            await a_service(session_maker, admin, f"Service {n:02d}", staff=tuple(staff[: n % 4]))
        made = size
        with count_statements(app.state.services.engine) as log:
            body = await gql(NAMES)
        assert "errors" not in body, body
        services = body["data"]["services"]
        assert len(services) == size
        assert [len(s["staff"]) for s in services] == [n % 4 for n in range(size)]
        counts[size] = log.count
    assert set(counts.values()) == {STATEMENTS[path]}, counts


@pytest.mark.parametrize("path", ["compiled", "executor"])
async def test_a_week_with_its_people_costs_the_same_for_any_number_of_ranges(
    app: Starlette,
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    path: str,
) -> None:
    app.state.compiled.enabled = path == "compiled"
    staff = await a_staff_member(session_maker)  # who reads their own week
    token = (await login_tokens(client, staff.email)).access_token
    admin = await an_admin(session_maker)
    counts = {}
    for size in (1, 7):
        days = [(day, "09:00", "17:00") for day in list(Weekday)[:size]]
        await set_hours(session_maker, admin, staff, *days)
        with count_statements(app.state.services.engine) as log:
            body = await gql(WORKING_HOURS, {"id": global_id("Person", staff.id)}, token=token)
        assert len(body["data"]["workingHours"]) == size, body
        counts[size] = log.count
    assert set(counts.values()) == {STATEMENTS[path]}, counts

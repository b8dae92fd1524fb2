"""Reading appointments over GraphQL, for every caller: `appointment(id)` and `node(id:)`
for its customer, its staff member and admins only (anyone else: as a missing one),
`myAppointments` (the caller's own as a customer), `staffAppointments` (a staff member's
own; admins anyone's), their filters and keyset pages, and what a page costs in SQL
statements on both read paths."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from hom.bookings.models import Appointment, AppointmentStatus
from hom.core.db import SessionMaker
from tests.bookings.conftest import ROLES, Offering
from tests.bookings.factories import a_service, a_staff_member, an_admin, an_appointment
from tests.catalog.factories import global_id
from tests.factories import create_user, login_tokens
from tests.orders.order_support import Caller
from tests.support import GraphQLClient, count_statements, error_codes

pytestmark = pytest.mark.usefixtures("features_learnt")

S = AppointmentStatus
MONDAY = datetime(2030, 5, 6, 8, 0, tzinfo=UTC)
FIELDS = """
  id startsAt endsAt status notes cancelReason seriesId
  service { name } staff { fullName } customer { fullName }
  confirmedAt completedAt noShowAt cancelledAt
"""
APPOINTMENT = "query ($id: ID!) { appointment(id: $id) {" + FIELDS + "} }"
NODE = "query ($id: ID!) { node(id: $id) { id ... on Appointment { status } } }"
MINE = """query ($filter: MyAppointmentFilter, $first: Int, $after: String) {
  myAppointments(filter: $filter, first: $first, after: $after) {
    totalCount edges { cursor node { startsAt status staff { fullName } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
STAFFS = """query ($filter: AppointmentFilter, $first: Int, $after: String, $last: Int,
  $before: String) {
  staffAppointments(filter: $filter, first: $first, after: $after, last: $last,
    before: $before) {
    edges { node { startsAt status customer { fullName } staff { fullName } } }
    pageInfo { hasNextPage hasPreviousPage endCursor startCursor }
  }
}"""


@dataclass
class Booked:
    """The customer's appointments with the staff member (pending, confirmed, cancelled),
    one with the other staff member, and someone else's with the staff member."""

    pending: Appointment
    confirmed: Appointment
    cancelled: Appointment
    with_other: Appointment
    someone_elses: Appointment


@pytest.fixture
async def booked(
    callers: dict[str, Caller], offering: Offering, session_maker: SessionMaker
) -> Booked:
    customer, staff = callers["customer"].user_id, callers["staff"].user_id
    other = callers["other staff"].user_id
    someone = await create_user(session_maker, full_name="Someone Else")
    haircut = offering.haircut

    async def made(who: int | None, by: int | None, days: int, status: S, **kw: Any) -> Any:
        return await an_appointment(
            session_maker,
            customer=who,
            staff=by,
            service=haircut,
            starts_at=MONDAY + timedelta(days=days),
            status=status,
            **kw,
        )

    return Booked(
        pending=await made(customer, staff, 2, S.PENDING, notes="Short, please"),
        confirmed=await made(customer, staff, 0, S.CONFIRMED),
        cancelled=await made(customer, staff, 1, S.CANCELLED, reason="Ill"),
        with_other=await made(customer, other, 3, S.PENDING),
        someone_elses=await made(someone.id, staff, 4, S.CONFIRMED),
    )


def gid(appointment: Appointment) -> str:
    return global_id("Appointment", appointment.id)


def names(body: dict[str, Any], root: str) -> list[tuple[str, str]]:
    edges = body["data"][root]["edges"]
    return [(edge["node"]["startsAt"][:10], edge["node"]["status"]) for edge in edges]


# --- one appointment -----------------------------------------------------------------------

# Who reads the customer's pending appointment with the staff member.
READERS = ("customer", "staff", "admin")


@pytest.mark.parametrize("role", ROLES)
async def test_an_appointment_is_its_customers_its_staff_members_and_the_admins(
    callers: dict[str, Caller], booked: Booked, role: str
) -> None:
    body = await callers[role](APPOINTMENT, {"id": gid(booked.pending)})
    missing = await callers[role](APPOINTMENT, {"id": global_id("Appointment", 10**9)})
    node = await callers[role](NODE, {"id": gid(booked.pending)})
    if role == "anonymous":
        assert error_codes(body) == error_codes(missing) == ["UNAUTHENTICATED"]
        assert node == {"data": {"node": None}}
        return
    assert missing == {"data": {"appointment": None}}
    if role not in READERS:
        assert body == missing
        assert node == {"data": {"node": None}}
        return
    assert node == {"data": {"node": {"id": gid(booked.pending), "status": "PENDING"}}}
    assert body["data"]["appointment"] == {
        "id": gid(booked.pending),
        "startsAt": "2030-05-08T08:00:00+00:00",
        "endsAt": "2030-05-08T08:30:00+00:00",
        "status": "PENDING",
        "notes": "Short, please",
        "cancelReason": None,
        "seriesId": None,
        "service": {"name": "Haircut"},
        "staff": {"fullName": "Bea Berger"},
        "customer": {"fullName": "Test User"},
        "confirmedAt": None,
        "completedAt": None,
        "noShowAt": None,
        "cancelledAt": None,
    }


async def test_the_stages_and_the_reason_read_as_stored(
    callers: dict[str, Caller], booked: Booked
) -> None:
    body = await callers["customer"](APPOINTMENT, {"id": gid(booked.cancelled)})
    cancelled = body["data"]["appointment"]
    assert (cancelled["status"], cancelled["cancelReason"]) == ("CANCELLED", "Ill")
    assert cancelled["cancelledAt"] == "2030-05-06T08:00:00+00:00"
    body = await callers["staff"](APPOINTMENT, {"id": gid(booked.confirmed)})
    assert body["data"]["appointment"]["confirmedAt"] == "2030-05-05T08:00:00+00:00"


async def test_an_inactive_services_appointment_shows_no_service_but_to_admins(
    callers: dict[str, Caller], offering: Offering, session_maker: SessionMaker
) -> None:
    retired = await an_appointment(
        session_maker,
        customer=callers["customer"].user_id,
        staff=callers["staff"].user_id,
        service=offering.retired,
        starts_at=MONDAY,
    )
    query = "query ($id: ID!) { appointment(id: $id) { status service { name } } }"
    for role in READERS:
        body = await callers[role](query, {"id": gid(retired)})
        service = {"name": "Perm"} if role == "admin" else None
        assert body == {"data": {"appointment": {"status": "PENDING", "service": service}}}


async def test_a_malformed_appointment_id_is_bad_user_input(callers: dict[str, Caller]) -> None:
    body = await callers["customer"](APPOINTMENT, {"id": global_id("Order", 1)})
    assert error_codes(body) == ["BAD_USER_INPUT"]


# --- myAppointments ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
async def test_my_appointments_are_the_ones_booked_for_me(
    callers: dict[str, Caller], booked: Booked, role: str
) -> None:
    body = await callers[role](MINE)
    if role == "anonymous":
        assert error_codes(body) == ["UNAUTHENTICATED"]
        return
    listed = names(body, "myAppointments")
    if role == "customer":
        assert listed == [
            ("2030-05-06", "CONFIRMED"),
            ("2030-05-07", "CANCELLED"),
            ("2030-05-08", "PENDING"),
            ("2030-05-09", "PENDING"),
        ]
        assert body["data"]["myAppointments"]["totalCount"] == 4
        staff = [e["node"]["staff"]["fullName"] for e in body["data"]["myAppointments"]["edges"]]
        assert staff == ["Bea Berger", "Bea Berger", "Bea Berger", "Ada Adler"]
    else:  # staff give appointments; they have booked none (admins neither)
        assert listed == []
        assert body["data"]["myAppointments"]["totalCount"] == 0


async def test_my_appointments_filtered_by_status_and_start(
    callers: dict[str, Caller], booked: Booked
) -> None:
    customer = callers["customer"]
    pending = await customer(MINE, {"filter": {"status": "PENDING"}})
    assert names(pending, "myAppointments") == [
        ("2030-05-08", "PENDING"),
        ("2030-05-09", "PENDING"),
    ]
    assert pending["data"]["myAppointments"]["totalCount"] == 2
    window = {"from": "2030-05-07T08:00:00+00:00", "to": "2030-05-08T10:00:00+02:00"}
    between = await customer(MINE, {"filter": window})
    # From inclusive, to exclusive (10:00 in Berlin is 08:00 UTC: the pending one's start).
    assert names(between, "myAppointments") == [("2030-05-07", "CANCELLED")]
    assert between["data"]["myAppointments"]["totalCount"] == 1


async def test_my_appointments_page_by_start(callers: dict[str, Caller], booked: Booked) -> None:
    customer = callers["customer"]
    first = await customer(MINE, {"first": 3})
    page = first["data"]["myAppointments"]
    assert len(page["edges"]) == 3
    assert page["pageInfo"]["hasNextPage"] is True
    rest = await customer(MINE, {"first": 3, "after": page["pageInfo"]["endCursor"]})
    assert names(rest, "myAppointments") == [("2030-05-09", "PENDING")]
    assert rest["data"]["myAppointments"]["pageInfo"]["hasNextPage"] is False


async def test_a_naive_filter_time_or_a_crafted_cursor_is_bad_user_input(
    callers: dict[str, Caller], booked: Booked
) -> None:
    naive = await callers["customer"](MINE, {"filter": {"from": "2030-05-07T08:00:00"}})
    assert error_codes(naive) == ["BAD_USER_INPUT"]
    crafted = await callers["customer"](MINE, {"after": "nonsense"})
    assert error_codes(crafted) == ["BAD_USER_INPUT"]


# --- staffAppointments ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
async def test_staff_appointments_are_a_staff_members_own_and_all_for_admins(
    callers: dict[str, Caller], booked: Booked, role: str
) -> None:
    body = await callers[role](STAFFS)
    if role == "anonymous":
        assert error_codes(body) == ["UNAUTHENTICATED"]
    elif role in ("customer", "operator"):
        assert error_codes(body) == ["FORBIDDEN"]
        assert body["data"] is None
    elif role == "staff":
        assert names(body, "staffAppointments") == [
            ("2030-05-06", "CONFIRMED"),
            ("2030-05-07", "CANCELLED"),
            ("2030-05-08", "PENDING"),
            ("2030-05-10", "CONFIRMED"),
        ]
        customers = [e["node"]["customer"]["fullName"] for e in edges(body)]
        assert customers[-1] == "Someone Else"
    elif role == "other staff":
        assert names(body, "staffAppointments") == [("2030-05-09", "PENDING")]
    else:
        assert len(edges(body)) == 5
        staff = [e["node"]["staff"]["fullName"] for e in edges(body)]
        assert staff == ["Bea Berger", "Bea Berger", "Bea Berger", "Ada Adler", "Bea Berger"]


def edges(body: dict[str, Any]) -> list[dict[str, Any]]:
    return list(body["data"]["staffAppointments"]["edges"])


async def test_staff_appointments_of_another_staff_member_are_nothing_to_staff(
    callers: dict[str, Caller], booked: Booked
) -> None:
    theirs = {"filter": {"staffId": global_id("Person", callers["other staff"].user_id)}}
    assert names(await callers["staff"](STAFFS, theirs), "staffAppointments") == []
    assert names(await callers["admin"](STAFFS, theirs), "staffAppointments") == [
        ("2030-05-09", "PENDING")
    ]
    own = {
        "filter": {"staffId": global_id("User", callers["staff"].user_id), "status": "CONFIRMED"}
    }
    assert names(await callers["staff"](STAFFS, own), "staffAppointments") == [
        ("2030-05-06", "CONFIRMED"),
        ("2030-05-10", "CONFIRMED"),
    ]
    bad = await callers["admin"](STAFFS, {"filter": {"staffId": global_id("Order", 1)}})
    assert error_codes(bad) == ["BAD_USER_INPUT"]


async def test_staff_appointments_page_both_ways(
    callers: dict[str, Caller], booked: Booked
) -> None:
    staff = callers["staff"]
    first = await staff(STAFFS, {"first": 2})
    info = first["data"]["staffAppointments"]["pageInfo"]
    assert names(first, "staffAppointments") == [
        ("2030-05-06", "CONFIRMED"),
        ("2030-05-07", "CANCELLED"),
    ]
    assert (info["hasNextPage"], info["hasPreviousPage"]) == (True, False)
    second = await staff(STAFFS, {"first": 2, "after": info["endCursor"]})
    assert names(second, "staffAppointments") == [
        ("2030-05-08", "PENDING"),
        ("2030-05-10", "CONFIRMED"),
    ]
    back = await staff(STAFFS, {"last": 1, "before": info["endCursor"]})
    assert names(back, "staffAppointments") == [("2030-05-06", "CONFIRMED")]


# --- what a page costs ---------------------------------------------------------------------

PAGE = """query ($first: Int!) {
  staffAppointments(first: $first) { edges { node {
    customer { fullName } service { name } staff { fullName }
  } } }
}"""
# The executor: the page, then one batch of people (customers and staff share the
# people's loader) and one of services.
PAGE_STATEMENTS = {"compiled": 1, "executor": 3}


@pytest.mark.parametrize("path", ["compiled", "executor"])
async def test_a_page_of_staff_appointments_costs_the_same_for_any_size(
    app: Starlette,
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    path: str,
) -> None:
    app.state.compiled.enabled = path == "compiled"
    admin = await an_admin(session_maker)
    staff = await a_staff_member(session_maker, "Bea Berger")
    services = [
        await a_service(session_maker, admin, name, staff=(staff,)) for name in ("Cut", "Dye")
    ]
    for n in range(30):
        customer = await create_user(session_maker, full_name=f"Customer {n}")
        await an_appointment(
            session_maker,
            customer=customer.id,
            staff=staff.id,
            service=services[n % 2],
            starts_at=MONDAY + timedelta(hours=n),
        )
    token = (await login_tokens(client, staff.email)).access_token
    counts = {}
    for first in (1, 10, 30):
        with count_statements(app.state.services.engine) as log:
            body = await gql(PAGE, {"first": first}, token=token)
        assert "errors" not in body, body
        nodes = [edge["node"] for edge in body["data"]["staffAppointments"]["edges"]]
        assert len(nodes) == first
        assert nodes[-1] == {
            "customer": {"fullName": f"Customer {first - 1}"},
            "service": {"name": ("Cut", "Dye")[(first - 1) % 2]},
            "staff": {"fullName": "Bea Berger"},
        }
        counts[first] = log.count
    assert set(counts.values()) == {PAGE_STATEMENTS[path]}, counts

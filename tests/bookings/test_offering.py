"""The offering over GraphQL: admins create and change services and say who gives them
(audited); every refusal changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, select

from hom.accounts.models import User
from hom.audit.models import AuditEntry
from hom.core.db import SessionMaker
from hom.core.roles import Role
from hom.core.unit_of_work import unit_of_work
from tests.bookings.conftest import Offering, rename
from tests.bookings.factories import traces
from tests.catalog.factories import global_id
from tests.factories import create_user
from tests.orders.order_support import Caller
from tests.support import error_codes

pytestmark = pytest.mark.usefixtures("features_learnt")

SERVICE = (
    "service { name description durationMinutes price { amount currency } isActive"
    " staff { fullName } }"
)
ERRORS = "errors { field message code }"


def mutation(name: str, input_type: str) -> str:
    return f"mutation ($input: {input_type}!) {{ {name}(input: $input) {{ {SERVICE} {ERRORS} }} }}"


CREATE = mutation("createService", "CreateServiceInput")
UPDATE = mutation("updateService", "UpdateServiceInput")
ASSIGN = mutation("assignStaffToService", "AssignStaffToServiceInput")
UNASSIGN = mutation("unassignStaffFromService", "UnassignStaffFromServiceInput")
NEW = {"name": "Beard trim", "durationMinutes": 15, "price": "15.00"}


def money(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "EUR"}


async def audited(session_maker: SessionMaker) -> list[tuple[str, str, dict[str, Any]]]:
    async with unit_of_work(session_maker) as session:
        entries = await session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))
        return [(e.action, e.entity, e.changes) for e in entries if e.entity == "Service"]


def staff_input(service_id: int | None, staff_id: int | None) -> dict[str, Any]:
    return {
        "input": {
            "serviceId": global_id("Service", service_id),
            "staffId": global_id("Person", staff_id),
        }
    }


# --- createService -------------------------------------------------------------------------


async def test_an_admin_offers_a_service(
    callers: dict[str, Caller], session_maker: SessionMaker
) -> None:
    given = {**NEW, "description": "Shaped and trimmed.", "isActive": False}
    body = await callers["admin"](CREATE, {"input": given})
    assert body["data"]["createService"] == {
        "service": {
            "name": "Beard trim",
            "description": "Shaped and trimmed.",
            "durationMinutes": 15,
            "price": money("15.00"),
            "isActive": False,
            "staff": [],
        },
        "errors": [],
    }
    [(action, _, changes)] = await audited(session_maker)
    assert (action, changes["price"], changes["is_active"]) == ("service.create", "15.00", False)


@pytest.mark.parametrize(
    ("given", "field", "code"),
    [
        ({"name": "  "}, "name", "INVALID"),
        ({"name": "x" * 121}, "name", "INVALID"),
        ({"durationMinutes": 4}, "durationMinutes", "INVALID"),
        ({"durationMinutes": 481}, "durationMinutes", "INVALID"),
        ({"price": "-1"}, "price", "INVALID"),
        ({"price": "9.999"}, "price", "INVALID"),
        ({"currency": "euro"}, "currency", "INVALID"),
        ({"name": "HAIRCUT"}, "name", "ALREADY_EXISTS"),  # names are unique in any case
    ],
)
async def test_a_service_that_cannot_be_is_refused_and_nothing_changes(
    callers: dict[str, Caller],
    offering: Offering,
    session_maker: SessionMaker,
    given: dict[str, Any],
    field: str,
    code: str,
) -> None:
    before = await traces(session_maker)
    body = await callers["admin"](CREATE, {"input": {**NEW, **given}})
    answer = body["data"]["createService"]
    assert answer["service"] is None
    assert [(e["field"], e["code"]) for e in answer["errors"]] == [(field, code)]
    assert await traces(session_maker) == before


@pytest.mark.parametrize("role", ["anonymous", "customer", "staff", "operator"])
async def test_only_admins_offer_services(callers: dict[str, Caller], role: str) -> None:
    body = await callers[role](CREATE, {"input": NEW})
    assert body["data"] is None
    assert error_codes(body) == ["UNAUTHENTICATED" if role == "anonymous" else "FORBIDDEN"]


# --- updateService -------------------------------------------------------------------------


async def test_an_update_changes_only_what_is_given(
    callers: dict[str, Caller], offering: Offering, session_maker: SessionMaker
) -> None:
    service_id = global_id("Service", offering.haircut.id)
    body = await callers["admin"](UPDATE, {"input": {"id": service_id, "price": "39.5"}})
    assert body["data"]["updateService"] == {
        "service": {
            "name": "Haircut",
            "description": "",
            "durationMinutes": 30,
            "price": money("39.50"),
            "isActive": True,
            "staff": [{"fullName": "Ada Adler"}, {"fullName": "Bea Berger"}],
        },
        "errors": [],
    }
    retired = {"id": service_id, "isActive": False, "durationMinutes": 45}
    body = await callers["admin"](UPDATE, {"input": retired})
    service = body["data"]["updateService"]["service"]
    assert (service["isActive"], service["durationMinutes"]) == (False, 45)
    updates = [
        changes for action, _, changes in await audited(session_maker) if action == "service.update"
    ]
    assert updates == [
        {"price": {"from": "35.00", "to": "39.50"}},
        {
            "duration_minutes": {"from": 30, "to": 45},
            "is_active": {"from": True, "to": False},
        },
    ]


@pytest.mark.parametrize(
    ("given", "field", "code"),
    [
        ({"name": "massage"}, "name", "ALREADY_EXISTS"),
        ({"durationMinutes": 0}, "durationMinutes", "INVALID"),
        ({"description": "x" * 10_001}, "description", "INVALID"),
    ],
)
async def test_a_refused_update_changes_nothing(
    callers: dict[str, Caller],
    offering: Offering,
    session_maker: SessionMaker,
    given: dict[str, Any],
    field: str,
    code: str,
) -> None:
    before = await traces(session_maker)
    changes = {"id": global_id("Service", offering.haircut.id), "price": "1.00", **given}
    body = await callers["admin"](UPDATE, {"input": changes})
    answer = body["data"]["updateService"]
    assert (answer["service"], [(e["field"], e["code"]) for e in answer["errors"]]) == (
        None,
        [(field, code)],
    )
    assert await traces(session_maker) == before


async def test_updating_a_missing_service_is_not_found(
    callers: dict[str, Caller], offering: Offering
) -> None:
    missing = {"input": {"id": global_id("Service", 10**9), "name": "X"}}
    body = await callers["admin"](UPDATE, missing)
    assert body["data"]["updateService"] == {
        "service": None,
        "errors": [{"field": "id", "message": "No such service", "code": "NOT_FOUND"}],
    }
    wrong_type = {"input": {"id": global_id("Product", offering.haircut.id), "name": "X"}}
    assert error_codes(await callers["admin"](UPDATE, wrong_type)) == ["BAD_USER_INPUT"]


# --- who gives a service -------------------------------------------------------------------


async def test_assigning_staff_is_idempotent_and_audited_once(
    callers: dict[str, Caller], offering: Offering, session_maker: SessionMaker
) -> None:
    variables = staff_input(offering.massage.id, callers["staff"].user_id)
    first = await callers["admin"](ASSIGN, variables)
    again = await callers["admin"](ASSIGN, variables)
    assert first == again
    assert first["data"]["assignStaffToService"]["service"]["staff"] == [{"fullName": "Bea Berger"}]
    variables = staff_input(offering.massage.id, callers["other staff"].user_id)
    both = await callers["admin"](ASSIGN, variables)
    names = both["data"]["assignStaffToService"]["service"]["staff"]
    assert names == [{"fullName": "Ada Adler"}, {"fullName": "Bea Berger"}]  # by name
    actions = [action for action, _, _ in await audited(session_maker)]
    assert actions.count("service.assign_staff") == 2 + 3  # the offering's 3, and these 2


async def test_unassigning_staff_is_idempotent(
    callers: dict[str, Caller], offering: Offering, session_maker: SessionMaker
) -> None:
    variables = staff_input(offering.haircut.id, callers["other staff"].user_id)
    first = await callers["admin"](UNASSIGN, variables)
    assert first["data"]["unassignStaffFromService"]["service"]["staff"] == [
        {"fullName": "Bea Berger"}
    ]
    assert await callers["admin"](UNASSIGN, variables) == first
    actions = [action for action, _, _ in await audited(session_maker)]
    assert actions.count("service.unassign_staff") == 1


@pytest.mark.parametrize(
    ("who", "field", "code"),
    [
        ("customer", "staffId", "INVALID"),
        ("operator", "staffId", "INVALID"),
        ("admin", "staffId", "INVALID"),  # admins run the schedule; STAFF give appointments
        ("nobody", "staffId", "NOT_FOUND"),
        ("no service", "serviceId", "NOT_FOUND"),
    ],
)
async def test_only_staff_members_are_assigned(
    callers: dict[str, Caller],
    offering: Offering,
    session_maker: SessionMaker,
    who: str,
    field: str,
    code: str,
) -> None:
    before = await traces(session_maker)
    staff_id = {"nobody": 10**9, "no service": callers["staff"].user_id}.get(who)
    service_id = 10**9 if who == "no service" else offering.massage.id
    variables = staff_input(service_id, staff_id or callers[who].user_id)
    body = await callers["admin"](ASSIGN, variables)
    answer = body["data"]["assignStaffToService"]
    assert answer["service"] is None
    assert [(e["field"], e["code"]) for e in answer["errors"]] == [(field, code)]
    assert await traces(session_maker) == before


async def test_a_service_lists_only_those_who_still_give_appointments(
    callers: dict[str, Caller], offering: Offering, session_maker: SessionMaker
) -> None:
    """A staff member demoted to CUSTOMER, or deactivated, keeps the link but is not listed
    (nor bookable); back as STAFF, they are listed again."""
    leaver = await create_user(session_maker, role=Role.STAFF, full_name="Cem Leaver")
    await callers["admin"](ASSIGN, staff_input(offering.haircut.id, leaver.id))
    query = "query ($id: ID!) { service(id: $id) { staff { fullName } } }"
    variables = {"id": global_id("Service", offering.haircut.id)}

    async def listed() -> list[str]:
        body = await callers["customer"](query, variables)
        return [person["fullName"] for person in body["data"]["service"]["staff"]]

    assert await listed() == ["Ada Adler", "Bea Berger", "Cem Leaver"]
    await _change(session_maker, leaver.id, role=Role.CUSTOMER.value)
    assert await listed() == ["Ada Adler", "Bea Berger"]
    await _change(session_maker, leaver.id, role=Role.STAFF.value, is_active=False)
    assert await listed() == ["Ada Adler", "Bea Berger"]
    await _change(session_maker, leaver.id, is_active=True)
    await rename(session_maker, callers["staff"], "Zoe Berger")
    assert await listed() == ["Ada Adler", "Cem Leaver", "Zoe Berger"]


async def _change(session_maker: SessionMaker, user_id: int | None, **values: Any) -> None:
    async with unit_of_work(session_maker) as session:
        user = await session.get(User, user_id)
        assert user is not None
        for name, value in values.items():
            setattr(user, name, value)

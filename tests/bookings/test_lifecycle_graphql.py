"""The lifecycle's mutations over GraphQL, for every caller: `confirmAppointment`,
`cancelAppointment`, `completeAppointment`, `markNoShow`. Who gets UNAUTHENTICATED or
FORBIDDEN (top level), who is told the appointment does not exist (another's), who may not
take the step (INVALID_TRANSITION), the cancellation window (CANCELLATION_WINDOW_CLOSED);
each refusal changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from hom.bookings.models import Appointment, AppointmentStatus
from hom.core.unit_of_work import SessionMaker
from tests.bookings.conftest import Offering
from tests.bookings.factories import an_appointment
from tests.bookings.lifecycle_support import START, Clock, fixed_clock, traces
from tests.catalog.factories import global_id
from tests.orders.order_support import Caller, a_caller
from tests.support import GraphQLClient, count_statements, error_codes

S = AppointmentStatus
SELECTION = "appointment { status confirmedAt completedAt noShowAt cancelledAt cancelReason }"
ERRORS = "errors { field code }"


def by_id(name: str) -> str:
    return f"mutation ($id: ID!) {{ {name}(id: $id) {{ {SELECTION} {ERRORS} }} }}"


CANCEL = (
    "mutation ($input: CancelAppointmentInput!) { cancelAppointment(input: $input) { "
    + SELECTION
    + " "
    + ERRORS
    + " } }"
)
# mutation: (the status it starts from, the status it reaches)
MUTATIONS = {
    "confirmAppointment": (S.PENDING, S.CONFIRMED),
    "cancelAppointment": (S.CONFIRMED, S.CANCELLED),
    "completeAppointment": (S.CONFIRMED, S.COMPLETED),
    "markNoShow": (S.CONFIRMED, S.NO_SHOW),
}
OK, UNAUTH, DENY = "OK", "UNAUTHENTICATED", "FORBIDDEN"
NOT_FOUND, INVALID = "NOT_FOUND", "INVALID_TRANSITION"
CALLERS = ("anonymous", "customer", "other customer", "staff", "other staff", "operator", "admin")
# mutation              anonymous customer other cust. staff other staff operator  admin
MATRIX = {
    "confirmAppointment":  (UNAUTH, DENY,     DENY,       OK,   NOT_FOUND,  DENY,     OK),
    "cancelAppointment":   (UNAUTH, OK,       NOT_FOUND,  OK,   NOT_FOUND,  NOT_FOUND, OK),
    "completeAppointment": (UNAUTH, DENY,     DENY,       OK,   NOT_FOUND,  DENY,     OK),
    "markNoShow":          (UNAUTH, DENY,     DENY,       OK,   NOT_FOUND,  DENY,     OK),
}  # fmt: skip


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return fixed_clock(monkeypatch)


@pytest.fixture
async def everyone(
    callers: dict[str, Caller],
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
) -> dict[str, Caller]:
    return {**callers, "other customer": await a_caller(client, gql, session_maker)}


async def an_appointment_of(
    everyone: dict[str, Caller],
    offering: Offering,
    session_maker: SessionMaker,
    status: S,
    starts_at: datetime = START,
) -> Appointment:
    return await an_appointment(
        session_maker,
        customer=everyone["customer"].user_id,
        staff=everyone["staff"].user_id,
        service=offering.haircut,
        starts_at=starts_at,
        status=status,
    )


async def call(caller: Caller, mutation: str, appointment_id: int | None, **input: Any) -> Any:
    gid = global_id("Appointment", appointment_id)
    if mutation == "cancelAppointment":
        return await caller(CANCEL, {"input": {"id": gid, **input}})
    return await caller(by_id(mutation), {"id": gid})


@pytest.mark.parametrize("mutation", MATRIX)
async def test_who_may_take_each_step(
    everyone: dict[str, Caller],
    offering: Offering,
    session_maker: SessionMaker,
    clock: Clock,
    mutation: str,
) -> None:
    """Every caller in turn, each on an appointment of its own in the step's source status
    (one test per mutation: the callers are made once)."""
    source, target = MUTATIONS[mutation]
    if target in (S.COMPLETED, S.NO_SHOW):
        clock.now = START + timedelta(hours=len(CALLERS))  # after every start below
    for hour, (caller, expected) in enumerate(zip(CALLERS, MATRIX[mutation], strict=True)):
        starts_at = START + timedelta(hours=hour)
        appointment = await an_appointment_of(everyone, offering, session_maker, source, starts_at)
        before = await traces(session_maker, appointment.id)

        body = await call(everyone[caller], mutation, appointment.id)

        if expected == OK:
            answer = body["data"][mutation]
            assert answer["errors"] == [], (caller, body)
            assert answer["appointment"]["status"] == target.value
            continue
        if expected in (UNAUTH, DENY):
            assert error_codes(body) == [expected], (caller, body)
            assert body["data"] is None
        else:
            assert body["data"][mutation] == {
                "appointment": None,
                "errors": [{"field": "id", "code": expected}],
            }, caller
        assert await traces(session_maker, appointment.id) == before, caller


async def test_a_customer_may_not_confirm_even_their_own_in_the_service(
    everyone: dict[str, Caller], offering: Offering, session_maker: SessionMaker, clock: Clock
) -> None:
    """A staff member who booked with a colleague is that appointment's customer: the role
    lets them call confirmAppointment, the table does not let a customer confirm."""
    colleague = everyone["other staff"]
    appointment = await an_appointment(
        session_maker,
        customer=colleague.user_id,
        staff=everyone["staff"].user_id,
        service=offering.haircut,
        starts_at=START,
    )
    before = await traces(session_maker, appointment.id)
    body = await call(colleague, "confirmAppointment", appointment.id)
    assert body["data"]["confirmAppointment"]["errors"] == [{"field": "id", "code": INVALID}]
    assert await traces(session_maker, appointment.id) == before


async def test_the_cancellation_window_over_graphql(
    everyone: dict[str, Caller], offering: Offering, session_maker: SessionMaker, clock: Clock
) -> None:
    appointment = await an_appointment_of(everyone, offering, session_maker, S.CONFIRMED)
    clock.now = START - timedelta(hours=23)  # CANCELLATION_WINDOW_HOURS is 24 by default
    before = await traces(session_maker, appointment.id)

    late = await call(everyone["customer"], "cancelAppointment", appointment.id, reason="Busy")
    assert late["data"]["cancelAppointment"] == {
        "appointment": None,
        "errors": [{"field": "id", "code": "CANCELLATION_WINDOW_CLOSED"}],
    }
    assert await traces(session_maker, appointment.id) == before

    done = await call(everyone["staff"], "cancelAppointment", appointment.id, reason=" Ill ")
    assert done["data"]["cancelAppointment"]["errors"] == []
    cancelled = done["data"]["cancelAppointment"]["appointment"]
    assert (cancelled["status"], cancelled["cancelReason"]) == ("CANCELLED", "Ill")
    assert cancelled["cancelledAt"] == clock.now.isoformat()


async def test_an_invalid_transition_and_a_too_long_reason_over_graphql(
    everyone: dict[str, Caller], offering: Offering, session_maker: SessionMaker, clock: Clock
) -> None:
    appointment = await an_appointment_of(everyone, offering, session_maker, S.PENDING)
    before = await traces(session_maker, appointment.id)

    early = await call(everyone["admin"], "completeAppointment", appointment.id)
    assert early["data"]["completeAppointment"]["errors"] == [{"field": "id", "code": INVALID}]
    long = await call(everyone["admin"], "cancelAppointment", appointment.id, reason="x" * 501)
    assert long["data"]["cancelAppointment"]["errors"] == [{"field": "reason", "code": "INVALID"}]
    assert await traces(session_maker, appointment.id) == before


async def test_a_crafted_id_is_bad_user_input(everyone: dict[str, Caller], clock: Clock) -> None:
    body = await everyone["admin"](by_id("confirmAppointment"), {"id": "nope"})
    assert error_codes(body) == ["BAD_USER_INPUT"]


# What a step costs: the appointment, the conditional UPDATE, then what it tells (the
# customer and staff member in one batch, the service, the mail, the notifications) and
# the audit entry of a staff member's step. None grows with anything.
STATEMENTS = {
    "confirmAppointment": 7,  # read, update, people, service, mail, notification, audit
    # by its customer: read, update, its two reminders cancelled, people, service, mail,
    # the customer's and the staff member's notifications (one INSERT; no audit)
    "cancelAppointment": 8,
    "completeAppointment": 3,  # read, update, audit
    "markNoShow": 3,
}
STEP_BY = {"cancelAppointment": "customer"}


@pytest.mark.parametrize("mutation", MATRIX)
async def test_what_a_step_costs_in_statements(
    app: Starlette,
    everyone: dict[str, Caller],
    offering: Offering,
    session_maker: SessionMaker,
    clock: Clock,
    mutation: str,
) -> None:
    source, target = MUTATIONS[mutation]
    appointment = await an_appointment_of(everyone, offering, session_maker, source)
    if target in (S.COMPLETED, S.NO_SHOW):
        clock.now = START + timedelta(minutes=5)
    caller = everyone[STEP_BY.get(mutation, "staff")]
    with count_statements(app.state.services.engine) as log:
        body = await call(caller, mutation, appointment.id)
    assert body["data"][mutation]["errors"] == [], body
    assert log.count == STATEMENTS[mutation], log.statements

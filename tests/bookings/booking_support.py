"""What the booking tests share: the documents, a desk (a staff member in Berlin with a
weekday week and a 30-minute service, an admin, customers who can sign in), and what a
test reads back to prove that a refusal changed nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func
from sqlmodel import col, select

from hom.accounts.models import User
from hom.bookings.models import Appointment, AppointmentStatus, Service, Weekday
from hom.core.db import SessionMaker
from hom.core.roles import Role
from hom.core.unit_of_work import unit_of_work
from hom.core.viewer import Viewer
from hom.notifications.models import Notification, OutboxMessage
from tests.bookings.factories import a_service, a_staff_member, set_hours, viewer_of
from tests.catalog.factories import global_id
from tests.factories import login_tokens
from tests.orders.order_support import Caller, a_caller
from tests.support import GraphQLClient

# Wednesday 1 May 2030, 06:00 UTC; the Monday after is 6 May (Berlin: UTC+2).
NOW = datetime(2030, 5, 1, 6, 0, tzinfo=UTC)
MONDAY_9 = datetime(2030, 5, 6, 7, 0, tzinfo=UTC)  # 09:00 in Berlin
WEEKDAYS = [Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY, Weekday.FRIDAY]
APPOINTMENT = "id startsAt endsAt status notes seriesId customer { fullName } staff { fullName }"
BOOK = (
    "mutation ($input: BookAppointmentInput!) { bookAppointment(input: $input) {"
    f" appointment {{ {APPOINTMENT} }} appointments {{ startsAt seriesId }}"
    " errors { field message code } } }"
)
RESCHEDULE = (
    "mutation ($input: RescheduleAppointmentInput!) { rescheduleAppointment(input: $input) {"
    f" appointment {{ {APPOINTMENT} }} errors {{ field message code }} }} }}"
)


@dataclass
class Desk:
    """A staff member in Berlin (weekdays 09:00-17:00) giving a 30-minute haircut, signed
    in; an admin; and what a booking refers to."""

    admin: Viewer
    admin_caller: Caller
    staff: User
    staff_caller: Caller
    haircut: Service

    def booking(self, starts_at: datetime | str, **extra: Any) -> dict[str, Any]:
        moment = starts_at if isinstance(starts_at, str) else starts_at.isoformat()
        return {
            "input": {
                "serviceId": global_id("Service", self.haircut.id),
                "staffId": global_id("Person", self.staff.id),
                "startsAt": moment,
                **extra,
            }
        }


async def a_desk(
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    timezone: str = "Europe/Berlin",
    minutes: int = 30,
) -> Desk:
    admin_caller = await a_caller(client, gql, session_maker, Role.ADMIN)
    async with unit_of_work(session_maker) as session:
        admin_user = await session.get(User, admin_caller.user_id)
    assert admin_user is not None
    admin = viewer_of(admin_user)
    staff = await a_staff_member(session_maker, "Bea Berger", timezone)
    await set_hours(session_maker, admin, staff, *((day, "09:00", "17:00") for day in WEEKDAYS))
    haircut = await a_service(session_maker, admin, "Haircut", minutes=minutes, staff=(staff,))
    tokens = await login_tokens(client, staff.email)
    staff_caller = Caller(gql, tokens.access_token, staff.id, staff.email)
    return Desk(admin, admin_caller, staff, staff_caller, haircut)


async def book(caller: Caller, variables: dict[str, Any]) -> dict[str, Any]:
    """The payload of `bookAppointment` (a top-level error fails the test)."""
    body = await caller(BOOK, variables)
    assert "errors" not in body, body
    return body["data"]["bookAppointment"]  # type: ignore[no-any-return]


def codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["errors"]]


async def traces(session_maker: SessionMaker) -> dict[str, Any]:
    """Everything booking writes (appointments, mail, notifications): compared before and
    after a refusal."""
    async with unit_of_work(session_maker) as session:
        rows = (await session.exec(select(Appointment).order_by(col(Appointment.id)))).all()
        mails = (await session.exec(select(func.count()).select_from(OutboxMessage))).one()
        notes = (await session.exec(select(func.count()).select_from(Notification))).one()
    return {"appointments": [row.model_dump() for row in rows], "mail": mails, "notes": notes}


async def live_starts(session_maker: SessionMaker, staff: User) -> list[str]:
    """The staff member's live appointments' starts, UTC ISO, by start."""
    live = [AppointmentStatus.PENDING.value, AppointmentStatus.CONFIRMED.value]
    async with unit_of_work(session_maker) as session:
        statement = (
            select(Appointment.starts_at)
            .where(col(Appointment.staff_id) == staff.id, col(Appointment.status).in_(live))
            .order_by(col(Appointment.starts_at))
        )
        return [at.astimezone(UTC).isoformat() for at in (await session.exec(statement)).all()]

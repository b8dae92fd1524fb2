"""What the bookings' GraphQL tests share: a caller of every role (two staff members: the
one whose schedule a test reads or changes, and another), and a small offering."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from hom.accounts.models import User
from hom.bookings.models import Service
from hom.core.db import SessionMaker
from hom.core.roles import Role
from hom.core.unit_of_work import unit_of_work
from tests.bookings.clock import Clock, fixed_clock
from tests.bookings.factories import a_service, viewer_of
from tests.orders.order_support import Caller, a_caller
from tests.support import GraphQLClient

# "staff" is the staff member a test is about; "other staff" is someone else with role STAFF.
ROLES = ("anonymous", "customer", "staff", "other staff", "operator", "admin")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The bookings' clock, fixed (set `clock.now`)."""
    return fixed_clock(monkeypatch)


@pytest.fixture
async def callers(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> dict[str, Caller]:
    made = {
        "customer": await a_caller(client, gql, session_maker),
        "staff": await a_caller(client, gql, session_maker, Role.STAFF),
        "other staff": await a_caller(client, gql, session_maker, Role.STAFF),
        "operator": await a_caller(client, gql, session_maker, Role.OPERATOR),
        "admin": await a_caller(client, gql, session_maker, Role.ADMIN),
    }
    await rename(session_maker, made["staff"], "Bea Berger")
    await rename(session_maker, made["other staff"], "Ada Adler")  # first by name
    return {**made, "anonymous": Caller(gql, None)}


async def rename(session_maker: SessionMaker, caller: Caller, full_name: str) -> None:
    async with unit_of_work(session_maker) as session:
        user = await session.get(User, caller.user_id)
        assert user is not None
        user.full_name = full_name


async def user_of(session_maker: SessionMaker, caller: Caller) -> User:
    async with unit_of_work(session_maker) as session:
        user = await session.get(User, caller.user_id)
    assert user is not None
    return user


@dataclass
class Offering:
    """An active service given by both staff callers, one given by nobody, an inactive one."""

    haircut: Service
    massage: Service
    retired: Service


@pytest.fixture
async def offering(callers: dict[str, Caller], session_maker: SessionMaker) -> Offering:
    admin = viewer_of(await user_of(session_maker, callers["admin"]))
    staff = await user_of(session_maker, callers["staff"])
    other = await user_of(session_maker, callers["other staff"])
    return Offering(
        haircut=await a_service(session_maker, admin, "Haircut", staff=(staff, other)),
        massage=await a_service(session_maker, admin, "Massage", minutes=60, price="70.00"),
        retired=await a_service(session_maker, admin, "Perm", active=False, staff=(staff,)),
    )

"""Each test has a database of its own: exact lists hold whatever ran before, in any order."""

from __future__ import annotations

import httpx
import pytest

from hom.core.db import SessionMaker
from hom.core.roles import Role
from tests.factories import create_user, signed_in
from tests.support import GraphQLClient

USERS = "{ users(first: 100) { edges { node { email role } } } }"  # ordered by id


# Twice the same test: run together, in either order, the second one would see the
# first one's users if the database were shared.
@pytest.mark.parametrize("turn", ["one", "other"])
async def test_users_lists_exactly_the_users_this_test_made(
    turn: str, client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    admin, tokens = await signed_in(client, session_maker, Role.ADMIN)
    staff = await create_user(session_maker, role=Role.STAFF, email=f"staff-{turn}@example.com")
    customer = await create_user(session_maker, email=f"customer-{turn}@example.com")

    body = await gql(USERS, token=tokens.access_token)

    listed = [
        (edge["node"]["email"], edge["node"]["role"]) for edge in body["data"]["users"]["edges"]
    ]
    assert listed == [(admin.email, "ADMIN"), (staff.email, "STAFF"), (customer.email, "CUSTOMER")]

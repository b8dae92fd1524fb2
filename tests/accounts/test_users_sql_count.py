"""`users` costs the same number of SQL statements for 10 rows as for 100 (SPEC §5)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from starlette.applications import Starlette

from hom.accounts.models import User
from hom.core.db import SessionMaker
from hom.core.roles import Role
from hom.core.unit_of_work import unit_of_work
from tests.factories import PASSWORD, login_tokens, signed_in
from tests.support import GraphQLClient, count_statements

# argon2id of tests.factories.PASSWORD with the current parameters, made once: hashing 100
# passwords one by one would cost seconds.
PRECOMPUTED_HASH = (
    "$argon2id$v=19$m=19456,t=2,p=1$sL+D04PePgneDrNTJ6jpmg"
    "$aqT1gpAPKWOCvEbww5fd31OgvMN3E11NKOxKFb9C8Cs"
)
USERS = """
query ($first: Int!) {
  users(first: $first) {
    edges {
      cursor
      node { id email fullName role isActive emailVerified createdAt avatarUrl }
    }
    pageInfo { hasNextPage endCursor }
  }
}"""
# Reading the page is one SELECT; the viewer comes from Redis, not from the database.
EXPECTED_STATEMENTS = 1


async def insert_users(session_maker: SessionMaker, count: int) -> list[User]:
    """`count` users in one transaction, without hashing a password per user."""
    tag = uuid.uuid4().hex[:10]
    users = [
        User(
            email=f"bulk-{tag}-{index}@example.com",
            full_name=f"Bulk {tag} {index}",
            password_hash=PRECOMPUTED_HASH,
            role=(Role.CUSTOMER if index % 3 else Role.STAFF).value,
        )
        for index in range(count)
    ]
    async with unit_of_work(session_maker) as session:
        session.add_all(users)
    return users


@pytest.mark.usefixtures("production_hashing")
async def test_precomputed_hash_is_a_working_password_hash(
    client: httpx.AsyncClient, session_maker: SessionMaker
) -> None:
    (user,) = await insert_users(session_maker, 1)
    await login_tokens(client, user.email, PASSWORD)
    async with session_maker() as session:
        stored = await session.get(User, user.id)
    assert stored is not None
    assert stored.password_hash == PRECOMPUTED_HASH  # current parameters: not rehashed


async def test_users_statement_count_does_not_grow_with_page_size(
    app: Starlette, client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    await insert_users(session_maker, 100)
    _, admin = await signed_in(client, session_maker, Role.ADMIN)
    counts: dict[int, int] = {}
    for first in (10, 100):
        with count_statements(app.state.services.engine) as log:
            body = await gql(USERS, {"first": first}, token=admin.access_token)
        assert "errors" not in body, body
        assert len(body["data"]["users"]["edges"]) == first
        counts[first] = log.count

    assert counts[10] == counts[100] == EXPECTED_STATEMENTS, counts

"""The audit log: admin changes leave entries; admins read them, with the actor prefetched."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from strawberry.relay import from_base64, to_base64

from hom.audit.models import AuditEntry
from hom.core.db import SessionMaker
from hom.core.roles import Role
from hom.core.unit_of_work import unit_of_work
from tests.factories import signed_in, unique_email
from tests.support import GraphQLClient, count_statements, error_codes

CREATE = """mutation ($input: CreateUserInput!) {
  createUser(input: $input) { user { id } errors { code } } }"""
UPDATE = """mutation ($input: UpdateUserInput!) {
  updateUser(input: $input) { user { id } errors { code } } }"""
LOG = """query ($filter: AuditFilter, $first: Int) {
  auditLog(filter: $filter, first: $first) {
    edges { node { id action entity entityId changes at actor { fullName account { email } } } }
    pageInfo { hasNextPage }
  }
}"""


async def create_user(gql: GraphQLClient, token: str, role: str = "CUSTOMER") -> str:
    variables = {
        "input": {
            "email": unique_email(),
            "password": "a long password",
            "fullName": "Audited",
            "role": role,
            "emailVerified": True,
        }
    }
    body = await gql(CREATE, variables, token=token)
    user_id: str = body["data"]["createUser"]["user"]["id"]
    return user_id


async def entries_for(gql: GraphQLClient, token: str, entity_id: str) -> list[dict[str, Any]]:
    body = await gql(LOG, {"filter": {"entity": "User", "entityId": entity_id}}, token=token)
    return [edge["node"] for edge in body["data"]["auditLog"]["edges"]]


def database_id(global_id: str) -> str:
    return from_base64(global_id)[1]


async def test_admin_changes_leave_entries_with_their_actor(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    admin, tokens = await signed_in(client, session_maker, Role.ADMIN)
    token = tokens.access_token
    user_id = await create_user(gql, token)
    changes = {"id": user_id, "role": "OPERATOR", "isActive": False}
    assert (await gql(UPDATE, {"input": changes}, token=token))["data"]["updateUser"]["user"]

    update, create = await entries_for(gql, token, database_id(user_id))
    assert create["action"] == "user.create"
    assert create["changes"]["role"] == "CUSTOMER"
    assert update["action"] == "user.update"
    assert update["changes"] == {
        "role": {"from": "CUSTOMER", "to": "OPERATOR"},
        "is_active": {"from": True, "to": False},
    }
    assert update["actor"] == {"fullName": admin.full_name, "account": {"email": admin.email}}
    assert update["at"].endswith("+00:00")


async def test_refused_change_leaves_no_entry(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    admin, tokens = await signed_in(client, session_maker, Role.ADMIN)
    own_id = to_base64("User", admin.id)
    body = await gql(
        UPDATE, {"input": {"id": own_id, "isActive": False}}, token=tokens.access_token
    )
    assert body["data"]["updateUser"]["errors"][0]["code"] == "INVALID"
    assert await entries_for(gql, tokens.access_token, str(admin.id)) == []


@pytest.mark.parametrize("role", [None, Role.CUSTOMER, Role.STAFF, Role.OPERATOR])
async def test_only_admins_read_the_log(
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    role: Role | None,
) -> None:
    token = (await signed_in(client, session_maker, role))[1].access_token if role else None
    body = await gql(LOG, token=token)
    assert error_codes(body) == ["FORBIDDEN" if role else "UNAUTHENTICATED"]
    assert body["data"] is None


async def seed_entries(session_maker: SessionMaker, actor_ids: list[int], count: int) -> None:
    async with unit_of_work(session_maker) as session:
        for n in range(count):
            actor_id = actor_ids[n % len(actor_ids)]
            session.add(
                AuditEntry(actor_id=actor_id, action="test.seed", entity="Seed", entity_id=str(n))
            )


async def test_statements_do_not_grow_with_the_page(
    app: Starlette, client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    admins = [await signed_in(client, session_maker, Role.ADMIN) for _ in range(3)]
    await seed_entries(session_maker, [user.id for user, _ in admins if user.id], 120)
    token = admins[0][1].access_token
    counts = []
    for first in (10, 100):
        with count_statements(app.state.services.engine) as log:
            body = await gql(LOG, {"filter": {"action": "test.seed"}, "first": first}, token=token)
        edges = body["data"]["auditLog"]["edges"]
        assert len(edges) == first
        assert all(edge["node"]["actor"]["account"]["email"] for edge in edges)
        counts.append(len(log.statements))
    assert counts[0] == counts[1] == 2, counts  # the page, then one batch of actors


async def test_node_resolves_an_entry_for_admins_only(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    admin, tokens = await signed_in(client, session_maker, Role.ADMIN)
    user_id = await create_user(gql, tokens.access_token)
    (entry,) = await entries_for(gql, tokens.access_token, database_id(user_id))
    query = """query ($id: ID!) {
      node(id: $id) { ... on AuditEntry { action actor { account { email } } } }
    }"""
    body = await gql(query, {"id": entry["id"]}, token=tokens.access_token)
    assert body["data"]["node"] == {
        "action": "user.create",
        "actor": {"account": {"email": admin.email}},
    }
    _, customer = await signed_in(client, session_maker)
    body = await gql(query, {"id": entry["id"]}, token=customer.access_token)
    assert body["data"]["node"] is None

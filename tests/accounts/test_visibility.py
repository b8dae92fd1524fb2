"""Someone else's private fields are unreadable through every path that reaches an account."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import delete
from strawberry.relay import to_base64

from hom.accounts.models import User
from hom.core.roles import Role
from hom.core.unit_of_work import SessionMaker, unit_of_work
from tests.factories import Tokens, create_user, login_tokens
from tests.support import GraphQLClient, error_codes


def gid(type_name: str, user: User) -> str:
    assert user.id is not None
    return to_base64(type_name, user.id)


async def two_people(
    client: httpx.AsyncClient, session_maker: SessionMaker, tag: str, role: Role = Role.CUSTOMER
) -> tuple[User, User, Tokens]:
    """Me (signed in, of `role`) and someone else, both named "Writer <tag> …"."""
    me = await create_user(session_maker, full_name=f"Writer {tag} 0", role=role)
    other = await create_user(session_maker, full_name=f"Writer {tag} 1")
    return me, other, await login_tokens(client, me.email)


PATHS = {
    "user": "query ($id: ID!) { found: user(id: $id) { email } }",
    "node": "query ($id: ID!) { found: node(id: $id) { ... on User { email } } }",
}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.STAFF, Role.OPERATOR])
async def test_someone_elses_account_is_null_by_id(
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    path: str,
    role: Role,
) -> None:
    me, other, tokens = await two_people(client, session_maker, "x", role)
    query = PATHS[path]
    for type_name in ("User", "Person"):
        body = await gql(query, {"id": gid(type_name, other)}, token=tokens.access_token)
        # A Person id names their public face (a node, but not a User): no private field.
        public_face = {} if path == "node" and type_name == "Person" else None
        assert body == {"data": {"found": public_face}}, (type_name, body)
    mine = await gql(query, {"id": gid("User", me)}, token=tokens.access_token)
    assert mine == {"data": {"found": {"email": me.email}}}


async def test_a_relation_to_a_person_shows_the_private_account_only_to_its_owner(
    plumbing: tuple[object, httpx.AsyncClient], pgql: GraphQLClient, session_maker: SessionMaker
) -> None:
    http = plumbing[1]
    me, other, tokens = await two_people(http, session_maker, "rel")
    query = """query ($tag: String!) { people(tag: $tag) { fullName account { email } } }"""
    as_me = await pgql(query, {"tag": "rel"}, token=tokens.access_token)
    assert as_me == {
        "data": {
            "people": [
                {"fullName": me.full_name, "account": {"email": me.email}},
                {"fullName": other.full_name, "account": None},
            ]
        }
    }
    anonymous = await pgql(query, {"tag": "rel"})
    assert [person["account"] for person in anonymous["data"]["people"]] == [None, None]
    admin = await create_user(session_maker, role=Role.ADMIN)
    as_admin = await pgql(
        query, {"tag": "rel"}, token=(await login_tokens(http, admin.email)).access_token
    )
    assert [p["account"]["email"] for p in as_admin["data"]["people"]] == [me.email, other.email]


@pytest.mark.parametrize(
    "query",
    [
        "{ users { edges { node { email } } } }",
        "{ auditLog { edges { node { actor { account { email } } } } } }",
    ],
)
async def test_lists_of_accounts_are_for_admins(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker, query: str
) -> None:
    _, _, tokens = await two_people(client, session_maker, "lists")
    body = await gql(query, token=tokens.access_token)
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["data"] is None


async def test_a_person_node_is_their_public_face_with_the_account_only_for_its_owner(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    me, other, tokens = await two_people(client, session_maker, "node")
    query = """query ($id: ID!) { node(id: $id) { id ... on Person {
        fullName account { email } } } }"""
    for person, account in ((me, {"email": me.email}), (other, None)):
        body = await gql(query, {"id": gid("Person", person)}, token=tokens.access_token)
        found = {"id": gid("Person", person), "fullName": person.full_name, "account": account}
        assert body == {"data": {"node": found}}
    anonymous = await gql(query, {"id": gid("Person", me)})
    assert anonymous["data"]["node"]["account"] is None


async def test_a_rule_refusal_in_a_query_is_a_coded_error(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    me, _, tokens = await two_people(client, session_maker, "gone")
    async with unit_of_work(session_maker) as session:
        await session.exec(delete(User).where(User.id == me.id))  # type: ignore[arg-type]
    body = await gql("{ me { email } }", token=tokens.access_token)
    (error,) = body["errors"]
    assert error["message"] == "No such user"
    assert error["extensions"] == {"code": "NOT_FOUND", "field": "id"}
    assert error["path"] == ["me"]


FOREIGN = to_base64("AuditEntry", "1")
BAD_IDS = [
    "garbage!",
    to_base64("User", "abc"),
    to_base64("User", "-1"),
    to_base64("User", "0"),
    to_base64("User", "007"),
    to_base64("User", str(2**63)),
    FOREIGN,
    "",
]


@pytest.mark.parametrize("bad", BAD_IDS)
async def test_malformed_or_foreign_ids_are_bad_user_input(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker, bad: str
) -> None:
    admin = await create_user(session_maker, role=Role.ADMIN)
    token = (await login_tokens(client, admin.email)).access_token
    for query, argument in (
        ("query ($id: ID!) { user(id: $id) { id } }", "id"),
        (
            "query ($id: ID!) { auditLog(filter: {actorId: $id}) { edges { cursor } } }",
            "filter.actorId",
        ),
        (
            'mutation ($id: ID!) { updateUser(input: {id: $id, fullName: "X"}) { user { id } } }',
            "id",
        ),
    ):
        body = await gql(query, {"id": bad}, token=token)
        assert error_codes(body) == ["BAD_USER_INPUT"], (query, body)
        assert body["errors"][0]["extensions"]["argument"] == argument
    if bad != FOREIGN:  # an AuditEntry id is a fine `node` id
        node = await gql("query ($id: ID!) { node(id: $id) { id } }", {"id": bad}, token=token)
        assert node == {"data": {"node": None}}

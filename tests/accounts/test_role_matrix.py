"""SPEC §6 for every accounts root field: who gets UNAUTHENTICATED, FORBIDDEN, or an answer."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import httpx
import jwt
import pytest
from strawberry.relay import to_base64
from strawberry.types.base import get_object_definition
from strawberry.utils.str_converters import to_camel_case

from hom.accounts.schema import AccountsMutation, AccountsQuery
from hom.core.config import Settings
from hom.core.db import SessionMaker
from hom.core.roles import Role
from hom.core.tokens import AUDIENCE, ISSUER
from hom.export import ExportQuery
from tests.factories import PASSWORD, create_user, login_tokens, unique_email
from tests.support import GraphQLClient, error_codes


class Expect(Enum):
    OK = "answers"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"


OK, UNAUTH, DENY = Expect.OK, Expect.UNAUTHENTICATED, Expect.FORBIDDEN
AUTH_CODES = {Expect.UNAUTHENTICATED.value, Expect.FORBIDDEN.value}

# Callers, in the column order of the matrix (None = anonymous).
CALLERS: tuple[Role | None, ...] = (None, Role.CUSTOMER, Role.STAFF, Role.OPERATOR, Role.ADMIN)

# SPEC §6 for the accounts root fields.
# field                   anonymous  CUSTOMER  STAFF  OPERATOR  ADMIN
# (OK: answers without an auth error; UNAUTH: UNAUTHENTICATED; DENY: FORBIDDEN)
MATRIX: dict[str, tuple[Expect, Expect, Expect, Expect, Expect]] = {
    "me":                   (UNAUTH, OK,       OK,    OK,       OK),
    "mySessions":           (UNAUTH, OK,       OK,    OK,       OK),
    "users":                (UNAUTH, DENY,     DENY,  DENY,     OK),
    "user":                 (UNAUTH, OK,       OK,    OK,       OK),  # of oneself
    "register":             (OK,     OK,       OK,    OK,       OK),
    "verifyEmail":          (OK,     OK,       OK,    OK,       OK),
    "requestPasswordReset": (OK,     OK,       OK,    OK,       OK),
    "resetPassword":        (OK,     OK,       OK,    OK,       OK),
    "changePassword":       (UNAUTH, OK,       OK,    OK,       OK),
    "updateProfile":        (UNAUTH, OK,       OK,    OK,       OK),
    "uploadAvatar":         (UNAUTH, OK,       OK,    OK,       OK),
    "revokeSession":        (UNAUTH, OK,       OK,    OK,       OK),
    "createUser":           (UNAUTH, DENY,     DENY,  DENY,     OK),
    "updateUser":           (UNAUTH, DENY,     DENY,  DENY,     OK),
    "requestEmailVerification": (UNAUTH, OK,   OK,    OK,       OK),
    "exportMyData":         (UNAUTH, OK,       OK,    OK,       OK),
}  # fmt: skip


@dataclass(frozen=True)
class Who:
    """The ids a request may refer to: the caller (None when anonymous) and someone else."""

    caller_id: str | None
    other_id: str


@dataclass(frozen=True)
class Operation:
    document: str
    variables: Callable[[Who], dict[str, Any]]


def no_variables(_: Who) -> dict[str, Any]:
    return {}


PAYLOAD = "{ errors { field code } }"
USER_PAYLOAD = "{ user { id } errors { field code } }"

OPERATIONS: dict[str, Operation] = {
    "me": Operation("query { me { id email role } }", no_variables),
    "mySessions": Operation("query { mySessions { id current } }", no_variables),
    "users": Operation("query { users(first: 1) { edges { node { id } } } }", no_variables),
    "user": Operation(
        "query ($id: ID!) { user(id: $id) { id email } }",
        lambda who: {"id": who.caller_id or who.other_id},
    ),
    "register": Operation(
        f"mutation ($input: RegisterInput!) {{ register(input: $input) {USER_PAYLOAD} }}",
        lambda _: {
            "input": {"email": unique_email("matrix"), "password": PASSWORD, "fullName": "M"}
        },
    ),
    "verifyEmail": Operation(
        f'mutation {{ verifyEmail(token: "no-such-token") {USER_PAYLOAD} }}', no_variables
    ),
    "requestPasswordReset": Operation(
        f"mutation ($email: String!) {{ requestPasswordReset(email: $email) {PAYLOAD} }}",
        lambda _: {"email": unique_email("nobody")},
    ),
    "resetPassword": Operation(
        f"mutation ($input: ResetPasswordInput!) {{ resetPassword(input: $input) {USER_PAYLOAD} }}",
        lambda _: {"input": {"token": "no-such-token", "newPassword": "a new password"}},
    ),
    "changePassword": Operation(
        "mutation ($input: ChangePasswordInput!) "
        f"{{ changePassword(input: $input) {USER_PAYLOAD} }}",
        lambda _: {"input": {"currentPassword": "not the password", "newPassword": "new one!!"}},
    ),
    "updateProfile": Operation(
        f"mutation ($input: UpdateProfileInput!) {{ updateProfile(input: $input) {USER_PAYLOAD} }}",
        lambda _: {"input": {"fullName": "Matrix Caller"}},
    ),
    # Only the permission: the Upload scalar takes any value, so no file is sent.
    "uploadAvatar": Operation(
        f"mutation ($file: Upload!) {{ uploadAvatar(file: $file) {USER_PAYLOAD} }}",
        lambda _: {"file": "not-a-file"},
    ),
    "revokeSession": Operation(
        f'mutation {{ revokeSession(id: "no-such-session") {PAYLOAD} }}', no_variables
    ),
    "createUser": Operation(
        f"mutation ($input: CreateUserInput!) {{ createUser(input: $input) {USER_PAYLOAD} }}",
        lambda _: {
            "input": {
                "email": unique_email("created"),
                "password": PASSWORD,
                "fullName": "Created",
                "role": "STAFF",
            }
        },
    ),
    "exportMyData": Operation("query { exportMyData }", no_variables),
    "requestEmailVerification": Operation(
        f"mutation {{ requestEmailVerification {USER_PAYLOAD} }}", no_variables
    ),
    "updateUser": Operation(
        f"mutation ($input: UpdateUserInput!) {{ updateUser(input: $input) {USER_PAYLOAD} }}",
        lambda who: {"input": {"id": who.other_id, "fullName": "Renamed By Admin"}},
    ),
}

# Fields whose answer for an allowed caller may carry a non-auth error (not this file's topic).
BEHAVIOUR_ELSEWHERE = {"uploadAvatar"}


def matrix_cases() -> list[Any]:
    return [
        pytest.param(name, caller, expected, id=f"{name}-{caller or 'anonymous'}")
        for name, row in MATRIX.items()
        for caller, expected in zip(CALLERS, row, strict=True)
    ]


def user_global_id(user_id: int | None) -> str:
    assert user_id is not None
    return to_base64("User", user_id)


def test_matrix_covers_every_accounts_root_field() -> None:
    fields = {
        to_camel_case(f.python_name)
        for root in (AccountsQuery, AccountsMutation, ExportQuery)  # exportMyData: the caller's
        for f in get_object_definition(root, strict=True).fields
    }
    assert fields == set(MATRIX) == set(OPERATIONS)


@pytest.mark.parametrize(("name", "caller", "expected"), matrix_cases())
async def test_role_matrix(
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    name: str,
    caller: Role | None,
    expected: Expect,
) -> None:
    other = await create_user(session_maker)
    token: str | None = None
    caller_id: str | None = None
    if caller is not None:
        user = await create_user(session_maker, role=caller)
        token = (await login_tokens(client, user.email)).access_token
        caller_id = user_global_id(user.id)
    operation = OPERATIONS[name]
    variables = operation.variables(Who(caller_id, user_global_id(other.id)))

    body = await gql(operation.document, variables, token=token)

    codes = error_codes(body)
    if expected is Expect.OK:
        assert not AUTH_CODES & set(codes), body
        if name not in BEHAVIOUR_ELSEWHERE:
            assert codes == [], body
            assert body["data"][name] is not None, body
    else:
        assert codes == [expected.value], body
        assert body["errors"][0]["path"] == [name]
        assert body["data"] is None or body["data"][name] is None, body


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.STAFF, Role.OPERATOR])
async def test_user_of_someone_else_is_null_for_non_admins(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker, role: Role
) -> None:
    other = await create_user(session_maker)
    caller = await create_user(session_maker, role=role)
    token = (await login_tokens(client, caller.email)).access_token
    query = "query ($id: ID!) { user(id: $id) { id email } }"

    # Someone else's account and an id that belongs to nobody answer alike: no probing.
    someone_else = await gql(query, {"id": user_global_id(other.id)}, token=token)
    nobody = await gql(query, {"id": user_global_id(2**62)}, token=token)
    assert someone_else == nobody == {"data": {"user": None}}

    myself = await gql(query, {"id": user_global_id(caller.id)}, token=token)
    assert "errors" not in myself
    assert myself["data"]["user"] == {"id": user_global_id(caller.id), "email": caller.email}


async def test_admin_reads_any_user_and_null_for_unknown(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    other = await create_user(session_maker)
    admin = await create_user(session_maker, role=Role.ADMIN)
    token = (await login_tokens(client, admin.email)).access_token
    query = "query ($id: ID!) { user(id: $id) { email } }"

    assert (await gql(query, {"id": user_global_id(other.id)}, token=token)) == {
        "data": {"user": {"email": other.email}}
    }
    assert (await gql(query, {"id": user_global_id(2**62)}, token=token)) == {
        "data": {"user": None}
    }
    not_a_user = await gql(query, {"id": to_base64("Product", 1)}, token=token)
    assert error_codes(not_a_user) == ["BAD_USER_INPUT"]


def forged_tokens(settings: Settings) -> dict[str, str]:
    """Access tokens the server must refuse, each for a different reason."""
    assert settings.jwt_secret is not None
    secret = settings.jwt_secret.get_secret_value()
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "1",
        "jti": "forged-jti",
        "iat": now,
        "exp": now + 600,
        "typ": "access",
        "sid": "no-such-session",
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    return {
        "garbage": "not.a.jwt",
        "wrong-secret": jwt.encode(claims, "another secret that is long enough!!", "HS256"),
        "alg-none": jwt.encode(claims, None, "none"),
        "expired": jwt.encode({**claims, "iat": now - 7200, "exp": now - 3600}, secret, "HS256"),
        "wrong-audience": jwt.encode({**claims, "aud": "someone-else"}, secret, "HS256"),
        "refresh-typ": jwt.encode({**claims, "typ": "refresh"}, secret, "HS256"),
        "unknown-session": jwt.encode(claims, secret, "HS256"),
    }


FORGERIES = [
    "garbage",
    "wrong-secret",
    "alg-none",
    "expired",
    "wrong-audience",
    "refresh-typ",
    "unknown-session",
]


@pytest.mark.parametrize("forgery", FORGERIES)
async def test_invalid_token_public_field_answers_authenticated_field_refuses(
    gql: GraphQLClient, settings: Settings, forgery: str
) -> None:
    token = forged_tokens(settings)[forgery]

    public = await gql("{ serverInfo { version environment } }", token=token)
    assert "errors" not in public, public
    assert public["data"]["serverInfo"]["environment"] == "dev"

    me = await gql("{ me { id } }", token=token)
    assert error_codes(me) == ["UNAUTHENTICATED"]
    assert me["data"] == {"me": None}


def test_forgeries_list_is_complete(settings: Settings) -> None:
    assert set(FORGERIES) == set(forged_tokens(settings))


async def test_signed_out_me_is_null_and_the_rest_of_the_document_answers(
    gql: GraphQLClient,
) -> None:
    body = await gql("{ me { id } serverInfo { environment } }")
    assert body["data"] == {"me": None, "serverInfo": {"environment": "dev"}}
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert body["errors"][0]["path"] == ["me"]

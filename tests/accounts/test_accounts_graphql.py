"""Accounts through GraphQL: registration, mailed tokens, passwords, profile, sessions, admin."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, update
from sqlmodel import col, select
from starlette.applications import Starlette
from strawberry.relay import to_base64

from hom.accounts.models import AccountToken, TokenPurpose, User
from hom.core.db import SessionMaker
from hom.core.roles import Role
from hom.core.unit_of_work import unit_of_work
from hom.notifications.delivery import MailDelivery
from hom.notifications.models import OutboxMessage
from tests.factories import (
    PASSWORD,
    Tokens,
    create_user,
    login,
    login_tokens,
    signed_in,
    unique_email,
)
from tests.mail_fixtures import SmtpServer
from tests.support import GraphQLClient, error_codes

USER_FIELDS = "id email fullName role isActive emailVerified emailVerifiedAt timezone createdAt"
ERRORS = "errors { field message code }"
ME = f"{{ me {{ {USER_FIELDS} }} }}"
REGISTER = f"""
mutation ($input: RegisterInput!) {{
  register(input: $input) {{ user {{ {USER_FIELDS} }} {ERRORS} }}
}}"""
VERIFY_EMAIL = f"""
mutation ($token: String!) {{ verifyEmail(token: $token) {{ user {{ {USER_FIELDS} }} {ERRORS} }} }}
"""
REQUEST_RESET = f"""
mutation ($email: String!) {{ requestPasswordReset(email: $email) {{ ok {ERRORS} }} }}
"""
RESET_PASSWORD = f"""
mutation ($input: ResetPasswordInput!) {{
  resetPassword(input: $input) {{ user {{ id email }} {ERRORS} }}
}}"""
CHANGE_PASSWORD = f"""
mutation ($input: ChangePasswordInput!) {{
  changePassword(input: $input) {{ user {{ id }} {ERRORS} }}
}}"""
UPDATE_PROFILE = f"""
mutation ($input: UpdateProfileInput!) {{
  updateProfile(input: $input) {{ user {{ {USER_FIELDS} }} {ERRORS} }}
}}"""
MY_SESSIONS = "{ mySessions { id userAgent ip createdAt lastUsedAt current } }"
REVOKE_SESSION = f"""
mutation ($id: ID!) {{ revokeSession(id: $id) {{ revokedSessionId {ERRORS} }} }}
"""
CREATE_USER = f"""
mutation ($input: CreateUserInput!) {{
  createUser(input: $input) {{ user {{ {USER_FIELDS} }} {ERRORS} }}
}}"""
UPDATE_USER = f"""
mutation ($input: UpdateUserInput!) {{
  updateUser(input: $input) {{ user {{ {USER_FIELDS} }} {ERRORS} }}
}}"""
USERS = """
query ($filter: UserFilter, $first: Int, $after: String) {
  users(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id email fullName role isActive } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""
NODE = "query ($id: ID!) { node(id: $id) { __typename id ... on User { email } } }"


def gid(user: User) -> str:
    assert user.id is not None
    return to_base64("User", user.id)


async def refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post("/auth/refresh", headers={"x-refresh-token": refresh_token})


@asynccontextmanager
async def client_at(app: Starlette, ip: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests come from `ip`."""
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


VERIFY_MAIL, RESET_MAIL = "verify_email", "password_reset"
NOTICES = "{ myNotifications { edges { node { kind title } } } }"


async def mails(session_maker: SessionMaker, template: str, email: str) -> list[OutboxMessage]:
    """The outbox rows for this address (what the request wrote; the worker sends them)."""
    async with session_maker() as session:
        statement = (
            select(OutboxMessage)
            .where(OutboxMessage.template == template)
            .where(func.lower(OutboxMessage.recipient) == email.lower())
            .order_by(col(OutboxMessage.id))
        )
        return list((await session.exec(statement)).all())


MailedToken = Callable[[str, str], Awaitable[str]]
LINKS = {VERIFY_MAIL: "/verify-email?token=", RESET_MAIL: "/reset-password?token="}


@pytest.fixture
def mailed_token(outbox_worker: MailDelivery, smtp: SmtpServer) -> MailedToken:
    """Run the worker; the token of the one `template` mail the address received."""

    async def read(email: str, template: str) -> str:
        await outbox_worker.drain()
        [mail] = [mail for mail in smtp.mailbox.to(email) if LINKS[template] in mail.text]
        return mail.token

    return read


async def rows_for(session_maker: SessionMaker, *emails: str) -> list[OutboxMessage]:
    async with session_maker() as session:
        statement = select(OutboxMessage).where(col(OutboxMessage.recipient).in_(emails))
        return list((await session.exec(statement.order_by(col(OutboxMessage.id)))).all())


async def accounts_with_email(session_maker: SessionMaker, email: str) -> list[User]:
    async with session_maker() as session:
        statement = select(User).where(func.lower(User.email) == email.lower())
        return list((await session.exec(statement)).all())


async def me(gql: GraphQLClient, token: str) -> dict[str, Any]:
    return await gql(ME, token=token)


def payload_errors(body: dict[str, Any], field: str) -> list[dict[str, Any]]:
    assert "errors" not in body, body
    errors: list[dict[str, Any]] = body["data"][field]["errors"]
    return errors


def codes_and_fields(body: dict[str, Any], field: str) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in payload_errors(body, field)]


# --- register and verifyEmail -----------------------------------------------------------------


async def test_register_creates_unverified_customer_and_queues_verification_mail(
    gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    email = unique_email("register")
    body = await gql(
        REGISTER, {"input": {"email": email, "password": PASSWORD, "fullName": "  Ada   Lovelace "}}
    )

    assert payload_errors(body, "register") == []
    user = body["data"]["register"]["user"]
    assert user["email"] == email
    assert user["fullName"] == "Ada Lovelace"
    assert user["role"] == "CUSTOMER"
    assert user["isActive"] is True
    assert user["emailVerified"] is False
    assert user["emailVerifiedAt"] is None
    assert user["timezone"] == "UTC"
    sent = await mails(session_maker, VERIFY_MAIL, email)
    assert len(sent) == 1
    assert sent[0].recipient == email
    assert (sent[0].status, sent[0].sent_at) == ("pending", None)
    stored = await accounts_with_email(session_maker, email)
    assert len(stored) == 1
    assert stored[0].password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored[0].password_hash


async def test_register_duplicate_email_differing_in_case_is_already_exists(
    gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    email = unique_email("dup")
    first = await gql(REGISTER, {"input": {"email": email, "password": PASSWORD, "fullName": "A"}})
    assert payload_errors(first, "register") == []

    again = await gql(
        REGISTER, {"input": {"email": email.upper(), "password": PASSWORD, "fullName": "B"}}
    )

    assert codes_and_fields(again, "register") == [("ALREADY_EXISTS", "email")]
    assert again["data"]["register"]["user"] is None
    assert len(await accounts_with_email(session_maker, email)) == 1
    assert len(await mails(session_maker, VERIFY_MAIL, email)) == 1


@pytest.mark.parametrize(
    ("email", "password", "full_name", "field"),
    [
        pytest.param("not-an-email", PASSWORD, "Name", "email", id="bad-email"),
        pytest.param("two@@example.com", PASSWORD, "Name", "email", id="double-at"),
        pytest.param(None, "x" * 7, "Name", "password", id="7-char-password"),
        pytest.param(None, "x" * 129, "Name", "password", id="129-char-password"),
        pytest.param(None, PASSWORD, "", "fullName", id="empty-name"),
        pytest.param(None, PASSWORD, "   ", "fullName", id="blank-name"),
        pytest.param(None, PASSWORD, "n" * 201, "fullName", id="201-char-name"),
    ],
)
async def test_register_refuses_bad_input_and_writes_nothing(
    gql: GraphQLClient,
    session_maker: SessionMaker,
    email: str | None,
    password: str,
    full_name: str,
    field: str,
) -> None:
    address = email or unique_email("invalid")
    body = await gql(
        REGISTER, {"input": {"email": address, "password": password, "fullName": full_name}}
    )

    assert codes_and_fields(body, "register") == [("INVALID", field)]
    assert body["data"]["register"]["user"] is None
    assert await accounts_with_email(session_maker, address) == []
    assert await mails(session_maker, VERIFY_MAIL, address) == []


async def test_verify_email_with_the_mailed_token_once(
    gql: GraphQLClient, session_maker: SessionMaker, mailed_token: MailedToken
) -> None:
    email = unique_email("verify")
    registered = await gql(
        REGISTER, {"input": {"email": email, "password": PASSWORD, "fullName": "V"}}
    )
    assert payload_errors(registered, "register") == []
    token = await mailed_token(email, VERIFY_MAIL)

    verified = await gql(VERIFY_EMAIL, {"token": token})
    assert payload_errors(verified, "verifyEmail") == []
    user = verified["data"]["verifyEmail"]["user"]
    assert user["email"] == email
    assert user["emailVerified"] is True
    verified_at = datetime.fromisoformat(user["emailVerifiedAt"])
    assert verified_at.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - verified_at) < timedelta(minutes=5)
    (stored,) = await accounts_with_email(session_maker, email)
    assert stored.email_verified_at is not None

    again = await gql(VERIFY_EMAIL, {"token": token})
    assert codes_and_fields(again, "verifyEmail") == [("INVALID", "token")]
    assert again["data"]["verifyEmail"]["user"] is None


@pytest.mark.parametrize("token", ["garbage", "", "x" * 500])
async def test_verify_email_with_garbage_token_is_invalid(gql: GraphQLClient, token: str) -> None:
    body = await gql(VERIFY_EMAIL, {"token": token})
    assert codes_and_fields(body, "verifyEmail") == [("INVALID", "token")]


async def test_reset_token_does_not_verify_email(
    gql: GraphQLClient, session_maker: SessionMaker, mailed_token: MailedToken
) -> None:
    user = await create_user(session_maker, verified=False)
    await gql(REQUEST_RESET, {"email": user.email})
    token = await mailed_token(user.email, RESET_MAIL)

    body = await gql(VERIFY_EMAIL, {"token": token})
    assert codes_and_fields(body, "verifyEmail") == [("INVALID", "token")]


# --- password reset ---------------------------------------------------------------------------


async def test_request_password_reset_answers_the_same_for_unknown_email(
    gql: GraphQLClient, session_maker: SessionMaker, outbox_worker: MailDelivery, smtp: SmtpServer
) -> None:
    user = await create_user(session_maker)
    unknown = unique_email("unknown")

    existing_answer = await gql(REQUEST_RESET, {"email": user.email.upper()})
    unknown_answer = await gql(REQUEST_RESET, {"email": unknown})

    assert (
        existing_answer
        == unknown_answer
        == {"data": {"requestPasswordReset": {"ok": True, "errors": []}}}
    )
    # The same work for both (one queued mail each); the worker writes only to the account.
    assert [m.context for m in await mails(session_maker, RESET_MAIL, user.email)] == [{}]
    assert [m.context for m in await mails(session_maker, RESET_MAIL, unknown)] == [{}]
    assert await outbox_worker.drain() == 2
    [mail] = smtp.mailbox.received
    assert mail.recipients == [user.email]
    assert "/reset-password?token=" in mail.text
    statuses = [m.status for m in await rows_for(session_maker, user.email, unknown)]
    assert statuses == ["sent", "cancelled"]


async def test_request_password_reset_sends_nothing_to_deactivated_accounts(
    gql: GraphQLClient, session_maker: SessionMaker, outbox_worker: MailDelivery, smtp: SmtpServer
) -> None:
    user = await create_user(session_maker, active=False)
    body = await gql(REQUEST_RESET, {"email": user.email})
    assert body == {"data": {"requestPasswordReset": {"ok": True, "errors": []}}}
    await outbox_worker.drain()
    assert smtp.mailbox.received == []


async def test_reset_password_sets_password_ends_sessions_and_is_single_use(
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    mailed_token: MailedToken,
) -> None:
    user = await create_user(session_maker)
    before = await login_tokens(client, user.email)
    await gql(REQUEST_RESET, {"email": user.email})
    token = await mailed_token(user.email, RESET_MAIL)
    new_password = "a brand new password"

    # A too short password does not use the token up.
    short = await gql(RESET_PASSWORD, {"input": {"token": token, "newPassword": "short"}})
    assert codes_and_fields(short, "resetPassword") == [("INVALID", "newPassword")]

    body = await gql(RESET_PASSWORD, {"input": {"token": token, "newPassword": new_password}})
    assert payload_errors(body, "resetPassword") == []
    assert body["data"]["resetPassword"]["user"] == {"id": gid(user), "email": user.email}

    assert error_codes(await me(gql, before.access_token)) == ["UNAUTHENTICATED"]
    assert (await refresh(client, before.refresh_token)).status_code == 401
    assert (await login(client, user.email, PASSWORD)).status_code == 401
    after = await login_tokens(client, user.email, new_password)
    assert (await me(gql, after.access_token))["data"]["me"]["email"] == user.email

    again = await gql(RESET_PASSWORD, {"input": {"token": token, "newPassword": "yet another one"}})
    assert codes_and_fields(again, "resetPassword") == [("INVALID", "token")]
    assert (await login(client, user.email, "yet another one")).status_code == 401
    assert (await login(client, user.email, new_password)).status_code == 200
    notices = await gql(NOTICES, token=after.access_token)
    assert [e["node"]["kind"] for e in notices["data"]["myNotifications"]["edges"]] == [
        "account.password_changed"
    ]


async def test_reset_password_with_expired_token_is_invalid(
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    mailed_token: MailedToken,
) -> None:
    user = await create_user(session_maker)
    await gql(REQUEST_RESET, {"email": user.email})
    token = await mailed_token(user.email, RESET_MAIL)
    async with unit_of_work(session_maker) as session:
        await session.exec(
            update(AccountToken)
            .where(col(AccountToken.user_id) == user.id)
            .where(col(AccountToken.purpose) == TokenPurpose.RESET_PASSWORD.value)
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )

    body = await gql(RESET_PASSWORD, {"input": {"token": token, "newPassword": "never applied"}})

    assert codes_and_fields(body, "resetPassword") == [("INVALID", "token")]
    assert body["data"]["resetPassword"]["user"] is None
    assert (await login(client, user.email, PASSWORD)).status_code == 200


async def test_reset_password_with_garbage_token_is_invalid(gql: GraphQLClient) -> None:
    body = await gql(RESET_PASSWORD, {"input": {"token": "garbage", "newPassword": "long enough"}})
    assert codes_and_fields(body, "resetPassword") == [("INVALID", "token")]


# --- changePassword, updateProfile ------------------------------------------------------------


async def test_change_password(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    user = await create_user(session_maker)
    current = await login_tokens(client, user.email)
    other = await login_tokens(client, user.email)
    new_password = "changed password 1"

    wrong = await gql(
        CHANGE_PASSWORD,
        {"input": {"currentPassword": "not my password", "newPassword": new_password}},
        token=current.access_token,
    )
    assert codes_and_fields(wrong, "changePassword") == [("INVALID_CREDENTIALS", "currentPassword")]
    short = await gql(
        CHANGE_PASSWORD,
        {"input": {"currentPassword": PASSWORD, "newPassword": "1234567"}},
        token=current.access_token,
    )
    assert codes_and_fields(short, "changePassword") == [("INVALID", "newPassword")]
    # Neither attempt changed anything.
    assert "errors" not in await me(gql, other.access_token)

    body = await gql(
        CHANGE_PASSWORD,
        {"input": {"currentPassword": PASSWORD, "newPassword": new_password}},
        token=current.access_token,
    )
    assert payload_errors(body, "changePassword") == []
    assert body["data"]["changePassword"]["user"] == {"id": gid(user)}

    assert error_codes(await me(gql, other.access_token)) == ["UNAUTHENTICATED"]
    assert (await refresh(client, other.refresh_token)).status_code == 401
    assert (await me(gql, current.access_token))["data"]["me"]["email"] == user.email
    assert (await refresh(client, current.refresh_token)).status_code == 200
    assert (await login(client, user.email, PASSWORD)).status_code == 401
    assert (await login(client, user.email, new_password)).status_code == 200
    notices = await gql(NOTICES, token=current.access_token)
    assert notices["data"]["myNotifications"]["edges"] == [
        {"node": {"kind": "account.password_changed", "title": "Your password was changed"}}
    ]


async def test_update_profile(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    user, tokens = await signed_in(client, session_maker)

    body = await gql(
        UPDATE_PROFILE,
        {"input": {"fullName": " Grace  Hopper ", "timezone": "Europe/Berlin"}},
        token=tokens.access_token,
    )
    assert payload_errors(body, "updateProfile") == []
    assert body["data"]["updateProfile"]["user"]["fullName"] == "Grace Hopper"
    assert body["data"]["updateProfile"]["user"]["timezone"] == "Europe/Berlin"

    bad = await gql(
        UPDATE_PROFILE,
        {"input": {"fullName": "Someone Else", "timezone": "Mars/Olympus_Mons"}},
        token=tokens.access_token,
    )
    assert codes_and_fields(bad, "updateProfile") == [("INVALID", "timezone")]
    assert bad["data"]["updateProfile"]["user"] is None

    empty = await gql(UPDATE_PROFILE, {"input": {"fullName": "  "}}, token=tokens.access_token)
    assert codes_and_fields(empty, "updateProfile") == [("INVALID", "fullName")]

    now = (await me(gql, tokens.access_token))["data"]["me"]
    assert (now["fullName"], now["timezone"]) == ("Grace Hopper", "Europe/Berlin")
    (stored,) = await accounts_with_email(session_maker, user.email)
    assert (stored.full_name, stored.timezone) == ("Grace Hopper", "Europe/Berlin")


# --- sessions ---------------------------------------------------------------------------------


async def test_my_sessions_and_revoke_session(
    app: Starlette, client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    user = await create_user(session_maker)
    laptop = Tokens.of((await login(client, user.email, **{"user-agent": "Laptop/1.0"})).json())
    async with client_at(app, "203.0.113.7") as phone_client:
        response = await login(phone_client, user.email, **{"user-agent": "Phone/2.0"})
        assert response.status_code == 200
        phone = Tokens.of(response.json())

    body = await gql(MY_SESSIONS, token=laptop.access_token)
    assert "errors" not in body, body
    sessions = body["data"]["mySessions"]
    assert len(sessions) == 2
    assert [s["current"] for s in sessions].count(True) == 1
    by_agent = {s["userAgent"]: s for s in sessions}
    assert set(by_agent) == {"Laptop/1.0", "Phone/2.0"}
    assert by_agent["Laptop/1.0"]["current"] is True
    assert by_agent["Laptop/1.0"]["ip"] == "127.0.0.1"
    assert by_agent["Phone/2.0"]["ip"] == "203.0.113.7"
    for session in sessions:
        assert datetime.fromisoformat(session["createdAt"]).utcoffset() == timedelta(0)
        assert datetime.fromisoformat(session["lastUsedAt"]).utcoffset() == timedelta(0)
    phone_view = (await gql(MY_SESSIONS, token=phone.access_token))["data"]["mySessions"]
    assert [s["userAgent"] for s in phone_view if s["current"]] == ["Phone/2.0"]

    phone_id = by_agent["Phone/2.0"]["id"]
    revoked = await gql(REVOKE_SESSION, {"id": phone_id}, token=laptop.access_token)
    assert revoked == {"data": {"revokeSession": {"revokedSessionId": phone_id, "errors": []}}}

    assert error_codes(await me(gql, phone.access_token)) == ["UNAUTHENTICATED"]
    assert (await refresh(client, phone.refresh_token)).status_code == 401
    assert "errors" not in await me(gql, laptop.access_token)
    left = (await gql(MY_SESSIONS, token=laptop.access_token))["data"]["mySessions"]
    assert [s["userAgent"] for s in left] == ["Laptop/1.0"]

    twice = await gql(REVOKE_SESSION, {"id": phone_id}, token=laptop.access_token)
    assert codes_and_fields(twice, "revokeSession") == [("NOT_FOUND", "id")]


async def test_revoke_unknown_session_is_not_found(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    _, tokens = await signed_in(client, session_maker)
    body = await gql(REVOKE_SESSION, {"id": uuid.uuid4().hex}, token=tokens.access_token)
    assert codes_and_fields(body, "revokeSession") == [("NOT_FOUND", "id")]
    assert body["data"]["revokeSession"]["revokedSessionId"] is None


async def test_revoke_session_of_another_user_is_not_found_and_harmless(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    _, mine = await signed_in(client, session_maker)
    _, theirs = await signed_in(client, session_maker)
    (their_session,) = (await gql(MY_SESSIONS, token=theirs.access_token))["data"]["mySessions"]

    body = await gql(REVOKE_SESSION, {"id": their_session["id"]}, token=mine.access_token)

    assert codes_and_fields(body, "revokeSession") == [("NOT_FOUND", "id")]
    assert "errors" not in await me(gql, theirs.access_token)
    assert (await refresh(client, theirs.refresh_token)).status_code == 200


# --- admin: createUser, updateUser ------------------------------------------------------------


async def test_create_user_as_admin(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    _, admin = await signed_in(client, session_maker, Role.ADMIN)
    email = unique_email("staff")
    new = {
        "email": email,
        "password": PASSWORD,
        "fullName": "Staff Member",
        "role": "STAFF",
        "emailVerified": True,
    }

    body = await gql(CREATE_USER, {"input": new}, token=admin.access_token)

    assert payload_errors(body, "createUser") == []
    created = body["data"]["createUser"]["user"]
    assert (created["email"], created["role"], created["emailVerified"]) == (email, "STAFF", True)
    assert created["emailVerifiedAt"] is not None
    assert await mails(session_maker, VERIFY_MAIL, email) == []
    staff = await login_tokens(client, email)
    assert (await me(gql, staff.access_token))["data"]["me"]["role"] == "STAFF"

    again = await gql(
        CREATE_USER, {"input": {**new, "email": email.upper()}}, token=admin.access_token
    )
    assert codes_and_fields(again, "createUser") == [("ALREADY_EXISTS", "email")]
    short = await gql(
        CREATE_USER,
        {"input": {**new, "email": unique_email(), "password": "short"}},
        token=admin.access_token,
    )
    assert codes_and_fields(short, "createUser") == [("INVALID", "password")]


async def test_create_unverified_user_gets_a_verification_mail(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    _, admin = await signed_in(client, session_maker, Role.ADMIN)
    email = unique_email("unverified")
    new = {"email": email, "password": PASSWORD, "fullName": "Unverified"}

    body = await gql(CREATE_USER, {"input": new}, token=admin.access_token)

    created = body["data"]["createUser"]["user"]
    assert (created["role"], created["emailVerified"]) == ("CUSTOMER", False)
    assert len(await mails(session_maker, VERIFY_MAIL, email)) == 1


async def test_role_change_reaches_the_users_live_session(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    _, admin = await signed_in(client, session_maker, Role.ADMIN)
    user, tokens = await signed_in(client, session_maker)
    assert (await me(gql, tokens.access_token))["data"]["me"]["role"] == "CUSTOMER"

    body = await gql(
        UPDATE_USER, {"input": {"id": gid(user), "role": "OPERATOR"}}, token=admin.access_token
    )

    assert payload_errors(body, "updateUser") == []
    assert body["data"]["updateUser"]["user"]["role"] == "OPERATOR"
    assert (await me(gql, tokens.access_token))["data"]["me"]["role"] == "OPERATOR"
    refreshed = Tokens.of((await refresh(client, tokens.refresh_token)).json())
    assert (await me(gql, refreshed.access_token))["data"]["me"]["role"] == "OPERATOR"

    # And a promotion to admin opens the admin fields to that session at once.
    await gql(UPDATE_USER, {"input": {"id": gid(user), "role": "ADMIN"}}, token=admin.access_token)
    users = await gql("{ users(first: 1) { edges { cursor } } }", token=refreshed.access_token)
    assert "errors" not in users, users


async def test_deactivation_ends_sessions_and_blocks_login(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    _, admin = await signed_in(client, session_maker, Role.ADMIN)
    user, tokens = await signed_in(client, session_maker)
    second = await login_tokens(client, user.email)

    body = await gql(
        UPDATE_USER, {"input": {"id": gid(user), "isActive": False}}, token=admin.access_token
    )

    assert payload_errors(body, "updateUser") == []
    assert body["data"]["updateUser"]["user"]["isActive"] is False
    for session in (tokens, second):
        assert error_codes(await me(gql, session.access_token)) == ["UNAUTHENTICATED"]
        assert (await refresh(client, session.refresh_token)).status_code == 401
    assert (await login(client, user.email, PASSWORD)).status_code == 403

    back = await gql(
        UPDATE_USER, {"input": {"id": gid(user), "isActive": True}}, token=admin.access_token
    )
    assert back["data"]["updateUser"]["user"]["isActive"] is True
    assert (await login(client, user.email, PASSWORD)).status_code == 200


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"isActive": False}, id="deactivate"),
        pytest.param({"role": "CUSTOMER"}, id="demote"),
        pytest.param({"role": "OPERATOR", "fullName": "Still Admin"}, id="demote-and-rename"),
    ],
)
async def test_admin_cannot_deactivate_or_demote_themselves(
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    change: dict[str, Any],
) -> None:
    admin, tokens = await signed_in(client, session_maker, Role.ADMIN)

    own = {"input": {"id": gid(admin), **change}}
    body = await gql(UPDATE_USER, own, token=tokens.access_token)

    assert codes_and_fields(body, "updateUser") == [("INVALID", "id")]
    assert body["data"]["updateUser"]["user"] is None
    now = (await me(gql, tokens.access_token))["data"]["me"]
    assert (now["role"], now["isActive"], now["fullName"]) == ("ADMIN", True, admin.full_name)


async def test_update_unknown_user_is_not_found(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    _, admin = await signed_in(client, session_maker, Role.ADMIN)
    body = await gql(
        UPDATE_USER,
        {"input": {"id": to_base64("User", 2**62), "fullName": "Nobody"}},
        token=admin.access_token,
    )
    assert codes_and_fields(body, "updateUser") == [("NOT_FOUND", "id")]


# --- users(filter), paging, node --------------------------------------------------------------


async def test_users_filter_and_keyset_paging(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    _, admin = await signed_in(client, session_maker, Role.ADMIN)
    tag = uuid.uuid4().hex[:10]
    plan = [
        (Role.STAFF, True),
        (Role.STAFF, True),
        (Role.STAFF, True),
        (Role.STAFF, False),
        (Role.STAFF, False),
        (Role.CUSTOMER, True),
        (Role.CUSTOMER, True),
    ]
    made: list[User] = []
    for index, (role, active) in enumerate(plan):
        made.append(
            await create_user(
                session_maker, role=role, active=active, full_name=f"Filter {tag} {index}"
            )
        )
    # Found by email too: the search covers both columns.
    by_email = await create_user(session_maker, email=f"{tag}-mail@example.com", full_name="X")

    async def ids(filter: dict[str, Any], first: int | None = None) -> list[str]:
        body = await gql(USERS, {"filter": filter, "first": first}, token=admin.access_token)
        assert "errors" not in body, body
        return [edge["node"]["id"] for edge in body["data"]["users"]["edges"]]

    everyone = [gid(user) for user in made] + [gid(by_email)]
    assert await ids({"search": tag}) == everyone
    assert await ids({"search": tag.upper()}) == everyone
    assert await ids({"search": f"{tag}-mail"}) == [gid(by_email)]
    assert await ids({"search": tag, "role": "STAFF"}) == [gid(u) for u in made[:5]]
    assert await ids({"search": tag, "role": "STAFF", "isActive": False}) == [
        gid(u) for u in made[3:5]
    ]
    assert await ids({"search": tag, "isActive": True, "role": "CUSTOMER"}) == [
        *(gid(u) for u in made[5:]),
        gid(by_email),
    ]
    assert await ids({"search": f"{tag}%"}) == []
    assert await ids({"search": "Filter_" + tag}) == []

    pages: list[list[str]] = []
    after: str | None = None
    while True:
        body = await gql(
            USERS,
            {"filter": {"search": tag}, "first": 3, "after": after},
            token=admin.access_token,
        )
        assert "errors" not in body, body
        connection = body["data"]["users"]
        edges = connection["edges"]
        pages.append([edge["node"]["id"] for edge in edges])
        info = connection["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        assert info["endCursor"] == edges[-1]["cursor"]
        assert info["startCursor"] == edges[0]["cursor"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
        assert len(pages) < 10, "paging does not end"
    assert [len(page) for page in pages] == [3, 3, 2]
    walked = [node_id for page in pages for node_id in page]
    assert walked == everyone
    assert len(set(walked)) == len(walked)


async def test_users_empty_result_and_first_zero(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    _, admin = await signed_in(client, session_maker, Role.ADMIN)
    body = await gql(USERS, {"filter": {"search": uuid.uuid4().hex}}, token=admin.access_token)
    assert body["data"]["users"] == {
        "edges": [],
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
    }
    zero = await gql(USERS, {"first": 0}, token=admin.access_token)
    assert zero["data"]["users"]["edges"] == []
    assert zero["data"]["users"]["pageInfo"]["hasNextPage"] is True


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param({"first": 101}, id="first-101"),
        pytest.param({"first": -1}, id="first-negative"),
        pytest.param({"after": "not a cursor"}, id="garbage-cursor"),
        pytest.param({"after": "WyJ4Il0"}, id="cursor-of-wrong-type"),
    ],
)
async def test_users_bad_paging_arguments_are_bad_user_input(
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    arguments: dict[str, Any],
) -> None:
    _, admin = await signed_in(client, session_maker, Role.ADMIN)
    body = await gql(USERS, arguments, token=admin.access_token)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["data"] is None


async def test_users_first_100_is_allowed(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    _, admin = await signed_in(client, session_maker, Role.ADMIN)
    body = await gql(USERS, {"first": 100}, token=admin.access_token)
    assert "errors" not in body, body
    assert 1 <= len(body["data"]["users"]["edges"]) <= 100


async def test_node_of_a_user(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    user, mine = await signed_in(client, session_maker)
    _, someone = await signed_in(client, session_maker)
    _, admin = await signed_in(client, session_maker, Role.ADMIN)
    expected = {"node": {"__typename": "User", "id": gid(user), "email": user.email}}

    assert await gql(NODE, {"id": gid(user)}, token=mine.access_token) == {"data": expected}
    assert await gql(NODE, {"id": gid(user)}, token=admin.access_token) == {"data": expected}
    assert await gql(NODE, {"id": gid(user)}, token=someone.access_token) == {
        "data": {"node": None}
    }
    assert await gql(NODE, {"id": gid(user)}) == {"data": {"node": None}}
    unknown = to_base64("User", 2**62)
    assert await gql(NODE, {"id": unknown}, token=admin.access_token) == {"data": {"node": None}}


async def test_datetimes_are_utc_with_an_offset(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    _, tokens = await signed_in(client, session_maker)
    created_at = (await me(gql, tokens.access_token))["data"]["me"]["createdAt"]

    assert created_at.endswith("+00:00")
    parsed = datetime.fromisoformat(created_at)
    assert parsed.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - parsed) < timedelta(minutes=5)

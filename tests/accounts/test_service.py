"""The accounts rules (hom/accounts/: checks, service, registration, admin) and
hom/core/passwords.py, on the real database."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import argon2
import httpx
import pytest
from sqlalchemy import update
from sqlmodel import col, select
from starlette.applications import Starlette

from hom.accounts import admin as accounts_admin
from hom.accounts import checks, registration, service
from hom.accounts.account_tokens import consume_token, issue_token
from hom.accounts.models import AccountToken, TokenPurpose, User
from hom.accounts.sessions import SessionStore
from hom.core import tokens
from hom.core.db import SessionMaker
from hom.core.errors import DomainError, ErrorCode
from hom.core.pagination import PageRequest
from hom.core.passwords import (
    HASHER,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    hash_password,
    password_problem,
    verify_password,
)
from hom.core.roles import Role
from hom.core.tokens import TokenType
from hom.core.unit_of_work import unit_of_work
from hom.core.viewer import Viewer
from hom.notifications.models import OutboxMessage
from tests.factories import PASSWORD, create_user, login, login_tokens, unique_email

WEAK_HASHER = argon2.PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
CURRENT_PARAMETERS = f"m={HASHER.memory_cost},t={HASHER.time_cost},p={HASHER.parallelism}"


def sessions_of(app: Starlette) -> SessionStore:
    services = app.state.services
    return SessionStore(services.redis, services.keys, services.settings)


def admin_viewer(user: User) -> Viewer:
    assert user.id is not None
    return Viewer(user.id, Role.ADMIN, sid="test-sid", jti="test-jti", expires_at=0)


async def stored_user(session_maker: SessionMaker, user_id: int | None) -> User:
    assert user_id is not None
    async with session_maker() as session:
        user = await session.get(User, user_id)
    assert user is not None
    return user


# --- pure rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("someone@example.com", "someone@example.com"),
        ("  Someone@EXAMPLE.com \n", "Someone@example.com"),
        ("first.last+tag@Sub.Example.ORG", "first.last+tag@sub.example.org"),
    ],
)
def test_normalize_email(raw: str, normalized: str) -> None:
    assert checks.normalize_email(raw) == normalized


@pytest.mark.parametrize(
    "raw", ["", "   ", "plain", "no-domain@", "@example.com", "a b@example.com", "a@@example.com"]
)
def test_normalize_email_refuses_invalid_addresses(raw: str) -> None:
    with pytest.raises(DomainError) as refused:
        checks.normalize_email(raw)
    assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID, "email")
    with pytest.raises(DomainError) as named:
        checks.normalize_email(raw, field="input.email")
    assert named.value.field == "input.email"


@pytest.mark.parametrize(
    ("length", "acceptable"),
    [
        (0, False),
        (MIN_PASSWORD_LENGTH - 1, False),
        (MIN_PASSWORD_LENGTH, True),
        (MAX_PASSWORD_LENGTH, True),
        (MAX_PASSWORD_LENGTH + 1, False),
    ],
)
def test_password_bounds(length: int, acceptable: bool) -> None:
    assert (MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH) == (8, 128)
    password = "p" * length
    assert (password_problem(password) is None) is acceptable
    if acceptable:
        checks.check_password(password)
        return
    with pytest.raises(DomainError) as refused:
        checks.check_password(password, field="new_password")
    assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID, "new_password")


def test_password_length_counts_characters_not_bytes() -> None:
    assert password_problem("ü" * MAX_PASSWORD_LENGTH) is None
    assert password_problem("ü" * MIN_PASSWORD_LENGTH) is None


@pytest.mark.parametrize("timezone", ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires"])
def test_check_timezone_accepts_iana_names(timezone: str) -> None:
    assert checks.check_timezone(timezone) == timezone


@pytest.mark.parametrize(
    "timezone", ["", "Mars/Olympus_Mons", "europe/berlin", "Europe/Berlin ", "+02:00", "../etc"]
)
def test_check_timezone_refuses_unknown_names(timezone: str) -> None:
    with pytest.raises(DomainError) as refused:
        checks.check_timezone(timezone)
    assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID, "timezone")


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [("Ada", "Ada"), ("  Ada \t Lovelace\n", "Ada Lovelace"), ("n" * 200, "n" * 200)],
)
def test_check_full_name(raw: str, cleaned: str) -> None:
    assert checks.check_full_name(raw) == cleaned


@pytest.mark.parametrize("raw", ["", "   ", "\n\t", "n" * 201])
def test_check_full_name_refuses(raw: str) -> None:
    with pytest.raises(DomainError) as refused:
        checks.check_full_name(raw)
    assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID, "full_name")


# --- passwords --------------------------------------------------------------------------------
# With the server's own parameters (the suite hashes with argon2's cheapest: tests/conftest.py).


@pytest.mark.usefixtures("production_hashing")
async def test_hash_and_verify_password() -> None:
    hashed = await hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$")
    assert CURRENT_PARAMETERS in hashed
    good = await verify_password(hashed, PASSWORD)
    assert (good.ok, good.new_hash) == (True, None)
    assert not (await verify_password(hashed, PASSWORD + "x")).ok


@pytest.mark.usefixtures("production_hashing")
@pytest.mark.parametrize("stored", [None, "", "not an argon2 hash", "$argon2id$v=19$broken"])
async def test_verify_password_without_a_usable_hash_fails(stored: str | None) -> None:
    result = await verify_password(stored, PASSWORD)
    assert (result.ok, result.new_hash) == (False, None)


@pytest.mark.usefixtures("production_hashing")
async def test_verify_password_offers_a_rehash_for_weaker_parameters() -> None:
    weak = WEAK_HASHER.hash(PASSWORD)
    assert HASHER.check_needs_rehash(weak)

    result = await verify_password(weak, PASSWORD)

    assert result.ok
    assert result.new_hash is not None
    assert CURRENT_PARAMETERS in result.new_hash
    assert not HASHER.check_needs_rehash(result.new_hash)
    assert (await verify_password(result.new_hash, PASSWORD)).ok
    # A wrong password never yields a new hash.
    assert await verify_password(weak, "wrong password") == type(result)(ok=False)


@pytest.mark.usefixtures("production_hashing")
async def test_login_rehashes_a_hash_with_old_parameters(
    client: httpx.AsyncClient, session_maker: SessionMaker
) -> None:
    user = await create_user(session_maker)
    weak = WEAK_HASHER.hash(PASSWORD)
    async with unit_of_work(session_maker) as session:
        await session.exec(update(User).where(col(User.id) == user.id).values(password_hash=weak))

    # A wrong password leaves the old hash alone.
    assert (await login(client, user.email, "wrong password")).status_code == 401
    assert (await stored_user(session_maker, user.id)).password_hash == weak

    await login_tokens(client, user.email)

    rehashed = (await stored_user(session_maker, user.id)).password_hash
    assert rehashed != weak
    assert rehashed.startswith("$argon2id$")
    assert CURRENT_PARAMETERS in rehashed
    assert not HASHER.check_needs_rehash(rehashed)
    await login_tokens(client, user.email)
    assert (await stored_user(session_maker, user.id)).password_hash == rehashed


# --- users ------------------------------------------------------------------------------------


async def test_register_writes_user_and_mail_in_one_transaction(
    session_maker: SessionMaker,
) -> None:
    email = unique_email("svc")
    async with session_maker() as session:  # never committed: closing rolls back
        user = await registration.register(
            session, email=email.upper(), password=PASSWORD, full_name=" New  Customer "
        )
        assert user.id is not None
        assert (user.role, user.full_name, user.is_active) == ("CUSTOMER", "New Customer", True)
        assert user.email_verified_at is None
        mail = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.recipient == user.email))
        ).one()
        assert (mail.template, mail.context) == ("verify_email", {"user_id": user.id})

    # Rolled back: neither the user nor the mail exist.
    async with session_maker() as session:
        assert await service.find_by_email(session, email=email) is None
        assert (await session.exec(select(OutboxMessage))).all() == []


async def test_duplicate_email_is_already_exists_and_the_transaction_goes_on(
    session_maker: SessionMaker,
) -> None:
    existing = await create_user(session_maker)
    async with unit_of_work(session_maker) as session:
        with pytest.raises(DomainError) as refused:
            await registration.register(
                session, email=existing.email.upper(), password=PASSWORD, full_name="Twin"
            )
        assert (refused.value.code, refused.value.field) == (ErrorCode.ALREADY_EXISTS, "email")
        # The failed INSERT was a savepoint: the surrounding transaction still works.
        found = await service.find_by_email(session, email=f"  {existing.email.upper()} ")
        assert found is not None
        assert found.id == existing.id


async def test_find_by_email_is_case_insensitive(session_maker: SessionMaker) -> None:
    user = await create_user(session_maker, email=f"MiXeD-{uuid.uuid4().hex[:8]}@Example.com")
    assert user.email.startswith("MiXeD-")
    assert user.email.endswith("@example.com")
    async with session_maker() as session:
        for variant in (user.email, user.email.lower(), user.email.upper()):
            found = await service.find_by_email(session, email=variant)
            assert found is not None
            assert found.id == user.id


async def test_account_tokens_are_single_use_purpose_bound_and_expire(
    session_maker: SessionMaker,
) -> None:
    user = await create_user(session_maker)
    assert user.id is not None
    async with unit_of_work(session_maker) as session:
        verify = await issue_token(session, user_id=user.id, purpose=TokenPurpose.VERIFY_EMAIL)
        reset = await issue_token(session, user_id=user.id, purpose=TokenPurpose.RESET_PASSWORD)
        expired = await issue_token(session, user_id=user.id, purpose=TokenPurpose.RESET_PASSWORD)
    async with unit_of_work(session_maker) as session:
        stored = (
            await session.exec(select(AccountToken).where(AccountToken.user_id == user.id))
        ).all()
        assert len(stored) == 3
        # Only digests are stored, never the mailed values.
        assert {verify, reset, expired}.isdisjoint({t.token_hash for t in stored})
        await session.exec(
            update(AccountToken)
            .where(col(AccountToken.token_hash) == hashlib.sha256(expired.encode()).hexdigest())
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )

    async with unit_of_work(session_maker) as session:
        assert await consume_token(session, raw=verify, purpose=TokenPurpose.RESET_PASSWORD) is None
        assert (
            await consume_token(session, raw=verify, purpose=TokenPurpose.VERIFY_EMAIL) == user.id
        )
        assert await consume_token(session, raw=verify, purpose=TokenPurpose.VERIFY_EMAIL) is None
        assert (
            await consume_token(session, raw=expired, purpose=TokenPurpose.RESET_PASSWORD) is None
        )
        assert (
            await consume_token(session, raw=reset, purpose=TokenPurpose.RESET_PASSWORD) == user.id
        )
        assert (
            await consume_token(session, raw="unknown", purpose=TokenPurpose.RESET_PASSWORD) is None
        )


async def test_verify_email_keeps_the_first_verification_time(
    session_maker: SessionMaker,
) -> None:
    user = await create_user(session_maker, verified=False)
    assert user.id is not None
    async with unit_of_work(session_maker) as session:
        first = await issue_token(session, user_id=user.id, purpose=TokenPurpose.VERIFY_EMAIL)
        second = await issue_token(session, user_id=user.id, purpose=TokenPurpose.VERIFY_EMAIL)
    async with unit_of_work(session_maker) as session:
        verified_at = (await registration.verify_email(session, token=first)).email_verified_at
    assert verified_at is not None
    async with unit_of_work(session_maker) as session:
        assert (
            await registration.verify_email(session, token=second)
        ).email_verified_at == verified_at


async def test_update_user_rules(app: Starlette, session_maker: SessionMaker) -> None:
    admin = await create_user(session_maker, role=Role.ADMIN)
    other = await create_user(session_maker)
    assert admin.id is not None
    assert other.id is not None
    store = sessions_of(app)
    actor = admin_viewer(admin)

    for refused_change in (
        accounts_admin.UserChanges(user_id=admin.id, is_active=False),
        accounts_admin.UserChanges(user_id=admin.id, role=Role.STAFF),
    ):
        async with unit_of_work(session_maker) as session:
            with pytest.raises(DomainError) as refused:
                await accounts_admin.update_user(
                    session, sessions=store, actor=actor, changes=refused_change
                )
            assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID, "id")

    async with unit_of_work(session_maker) as session:
        renamed = await accounts_admin.update_user(
            session,
            sessions=store,
            actor=actor,
            changes=accounts_admin.UserChanges(
                user_id=admin.id, role=Role.ADMIN, full_name=" Chief  Admin "
            ),
        )
        assert renamed.full_name == "Chief Admin"

    pair = await store.start(other.id, Role.CUSTOMER, "test", "127.0.0.1")
    async with unit_of_work(session_maker) as session:
        await accounts_admin.update_user(
            session,
            sessions=store,
            actor=actor,
            changes=accounts_admin.UserChanges(user_id=other.id, role=Role.STAFF),
        )
    (live,) = await store.list(other.id)
    assert live.sid == pair.sid
    async with unit_of_work(session_maker) as session:
        await accounts_admin.update_user(
            session,
            sessions=store,
            actor=actor,
            changes=accounts_admin.UserChanges(user_id=other.id, is_active=False),
        )
    assert await store.list(other.id) == []
    changed = await stored_user(session_maker, other.id)
    assert (changed.role, changed.is_active) == ("STAFF", False)

    async with unit_of_work(session_maker) as session:
        with pytest.raises(DomainError) as missing:
            await accounts_admin.update_user(
                session,
                sessions=store,
                actor=actor,
                changes=accounts_admin.UserChanges(user_id=2**62, full_name="Nobody"),
            )
        assert (missing.value.code, missing.value.field) == (ErrorCode.NOT_FOUND, "id")


async def test_list_users_filters_and_escapes_like_patterns(session_maker: SessionMaker) -> None:
    tag = uuid.uuid4().hex[:10]
    percent = await create_user(session_maker, full_name=f"Sale {tag} 50% off")
    underscore = await create_user(session_maker, full_name=f"Snake {tag} a_b")
    plain = await create_user(session_maker, full_name=f"Plain {tag} ab", role=Role.OPERATOR)
    page = PageRequest(first=20, after=None)

    async def names(filters: accounts_admin.UserFilter) -> list[str]:
        async with session_maker() as session:
            found = await accounts_admin.list_users(session, filters=filters, request=page)
        return [user.full_name for user in found.rows]

    assert await names(accounts_admin.UserFilter(search=tag)) == [
        percent.full_name,
        underscore.full_name,
        plain.full_name,
    ]
    assert await names(accounts_admin.UserFilter(search=f"{tag} 50%")) == [percent.full_name]
    assert await names(accounts_admin.UserFilter(search=f"{tag} %")) == []
    assert await names(accounts_admin.UserFilter(search="a_b " + tag)) == []
    assert await names(accounts_admin.UserFilter(search=f"{tag} a_b")) == [underscore.full_name]
    assert await names(accounts_admin.UserFilter(search=f"  {tag.upper()} A_B ")) == [
        underscore.full_name
    ]
    assert await names(accounts_admin.UserFilter(role=Role.OPERATOR, search=tag)) == [
        plain.full_name
    ]
    assert await names(accounts_admin.UserFilter(is_active=False, search=tag)) == []

    async with session_maker() as session:
        first = await accounts_admin.list_users(
            session,
            filters=accounts_admin.UserFilter(search=tag),
            request=PageRequest(first=2, after=None),
        )
        assert [u.id for u in first.rows] == [percent.id, underscore.id]
        assert first.has_next_page
        rest = await accounts_admin.list_users(
            session,
            filters=accounts_admin.UserFilter(search=tag),
            request=PageRequest(first=2, after=(underscore.id,)),
        )
        assert [u.id for u in rest.rows] == [plain.id]
        assert not rest.has_next_page


# --- ensure_admin -----------------------------------------------------------------------------


async def test_ensure_admin_creates_a_verified_admin(
    app: Starlette, session_maker: SessionMaker
) -> None:
    store = sessions_of(app)
    email = unique_email("admin")
    async with unit_of_work(session_maker) as session:
        created = await accounts_admin.ensure_admin(
            session, sessions=store, email=email, password="admin password 1"
        )
    stored = await stored_user(session_maker, created.id)
    assert (stored.email, stored.role, stored.is_active) == (email, "ADMIN", True)
    assert stored.email_verified_at is not None
    assert (await verify_password(stored.password_hash, "admin password 1")).ok

    async with unit_of_work(session_maker) as session:
        again = await accounts_admin.ensure_admin(
            session, sessions=store, email=email.upper(), password="admin password 1"
        )
    assert again.id == created.id


async def test_ensure_admin_promotes_an_existing_customer(
    app: Starlette, session_maker: SessionMaker
) -> None:
    store = sessions_of(app)
    customer = await create_user(session_maker, verified=False, active=False)
    assert customer.id is not None
    live = await store.start(customer.id, Role.CUSTOMER, "test", "127.0.0.1")
    claims = tokens.decode(app.state.services.settings, live.access_token, TokenType.ACCESS)
    async with unit_of_work(session_maker) as session:
        promoted = await accounts_admin.ensure_admin(
            session, sessions=store, email=customer.email, password="admin password 1"
        )
        assert (await store.viewer(claims)).role is Role.CUSTOMER  # type: ignore[union-attr]
    viewer = await store.viewer(claims)
    assert viewer is not None
    assert viewer.role is Role.ADMIN, "the live session got the role after the commit"

    assert promoted.id == customer.id
    stored = await stored_user(session_maker, customer.id)
    assert (stored.role, stored.is_active) == ("ADMIN", True)
    assert stored.email_verified_at is not None
    async with session_maker() as session:
        same_email = select(User).where(User.email == customer.email)
        assert len((await session.exec(same_email)).all()) == 1


async def test_ensure_admin_refuses_a_bad_password_for_a_new_account(
    app: Starlette, session_maker: SessionMaker
) -> None:
    store = sessions_of(app)
    email = unique_email("admin")
    async with unit_of_work(session_maker) as session:
        with pytest.raises(DomainError) as refused:
            await accounts_admin.ensure_admin(
                session, sessions=store, email=email, password="short"
            )
        assert (refused.value.code, refused.value.field) == (ErrorCode.INVALID, "password")

"""The admin rules (hom/accounts/admin.py): updating and listing users, ensure_admin."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import select
from starlette.applications import Starlette

from hom.accounts import admin as accounts_admin
from hom.accounts.models import User
from hom.accounts.sessions import SessionStore
from hom.core import tokens
from hom.core.db import SessionMaker
from hom.core.errors import DomainError, ErrorCode
from hom.core.pagination import PageRequest
from hom.core.passwords import verify_password
from hom.core.roles import Role
from hom.core.tokens import TokenType
from hom.core.unit_of_work import unit_of_work
from hom.core.viewer import Viewer
from tests.factories import create_user, stored_user, unique_email


def sessions_of(app: Starlette) -> SessionStore:
    services = app.state.services
    return SessionStore(services.redis, services.keys, services.settings)


def admin_viewer(user: User) -> Viewer:
    assert user.id is not None
    return Viewer(user.id, Role.ADMIN, sid="test-sid", jti="test-jti", expires_at=0)


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

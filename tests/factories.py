"""Factories: plain async functions that put real rows in the run's database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from hom.accounts import admin
from hom.accounts.models import User
from hom.core.roles import Role
from hom.core.unit_of_work import SessionMaker, unit_of_work

PASSWORD = "correct horse battery"


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


async def create_user(
    session_maker: SessionMaker,
    *,
    email: str | None = None,
    password: str = PASSWORD,
    role: Role = Role.CUSTOMER,
    verified: bool = True,
    active: bool = True,
    full_name: str = "Test User",
) -> User:
    new = admin.NewUser(
        email=email or unique_email(),
        password=password,
        full_name=full_name,
        role=role,
        email_verified=verified,
    )
    async with unit_of_work(session_maker) as session:
        user = await admin.create_user(session, new=new)
        user.is_active = active
    return user


@dataclass
class Tokens:
    access_token: str
    refresh_token: str

    @classmethod
    def of(cls, body: dict[str, Any]) -> Tokens:
        return cls(body["access_token"], body["refresh_token"])


async def login(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD, **headers: str
) -> httpx.Response:
    return await client.post(
        "/auth/login", data={"username": email, "password": password}, headers=headers
    )


async def login_tokens(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> Tokens:
    response = await login(client, email, password)
    assert response.status_code == 200, response.text
    return Tokens.of(response.json())


async def signed_in(
    client: httpx.AsyncClient, session_maker: SessionMaker, role: Role = Role.CUSTOMER
) -> tuple[User, Tokens]:
    """A new user of `role`, logged in."""
    user = await create_user(session_maker, role=role)
    return user, await login_tokens(client, user.email)


async def stored_user(session_maker: SessionMaker, user_id: int | None) -> User:
    assert user_id is not None
    async with session_maker() as session:
        user = await session.get(User, user_id)
    assert user is not None
    return user

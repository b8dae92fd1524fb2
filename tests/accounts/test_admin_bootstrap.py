"""The first admin: from ADMIN_EMAIL/ADMIN_PASSWORD at start-up, or `hom create-admin`."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import httpx

from hom import cli
from hom.accounts import service
from hom.core.config import Settings
from hom.core.db import SessionMaker
from hom.core.roles import Role
from tests.conftest import TEST_SECRET
from tests.factories import create_user, login, login_tokens, unique_email
from tests.serving import HOM, hom_env
from tests.support import GraphQLClient, error_codes


async def role_of(session_maker: SessionMaker, email: str) -> str | None:
    async with session_maker() as session:
        user = await service.find_by_email(session, email=email)
    return user.role if user else None


async def test_start_up_creates_the_configured_admin(
    settings_factory: object, session_maker: SessionMaker, client: httpx.AsyncClient
) -> None:
    email = unique_email("admin")
    settings: Settings = settings_factory(  # type: ignore[operator]
        admin_email=email, admin_password="admin password 1"
    )
    await asyncio.to_thread(cli.prepare_database, settings, False)
    assert await role_of(session_maker, email) == "ADMIN"
    assert (await login(client, email, "admin password 1")).status_code == 200


def create_admin(
    db_url: str, redis_url: str, email: str, password: str, redis_prefix: str = "hom:"
) -> subprocess.CompletedProcess[str]:
    env = hom_env(
        DB_URL=db_url,
        REDIS_URL=redis_url,
        REDIS_PREFIX=redis_prefix,
        JWT_SECRET=TEST_SECRET,
        APP_ENV="dev",
    )
    return subprocess.run(
        [str(HOM), "create-admin", "--email", email, "--password-stdin"],
        input=password + "\n",
        env=env,
        cwd=Path.cwd(),
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_create_admin_creates_then_promotes(
    db_url: str, redis_url: str, session_maker: SessionMaker
) -> None:
    email = unique_email("cli-admin")
    done = await asyncio.to_thread(create_admin, db_url, redis_url, email, "cli password 1")
    assert done.returncode == 0, done.stderr
    assert "cli password 1" not in done.stdout + done.stderr
    assert await role_of(session_maker, email) == "ADMIN"

    customer = await create_user(session_maker, role=Role.CUSTOMER)
    done = await asyncio.to_thread(create_admin, db_url, redis_url, customer.email, "ignored")
    assert done.returncode == 0, done.stderr
    assert await role_of(session_maker, customer.email) == "ADMIN"


async def test_a_promotion_from_the_cli_reaches_live_sessions_after_its_commit(
    db_url: str,
    redis_url: str,
    redis_prefix: str,
    session_maker: SessionMaker,
    client: httpx.AsyncClient,
    gql: GraphQLClient,
) -> None:
    customer = await create_user(session_maker, role=Role.CUSTOMER)
    token = (await login_tokens(client, customer.email)).access_token
    users = "{ users(first: 1) { edges { cursor } } }"
    assert error_codes(await gql(users, token=token)) == ["FORBIDDEN"]
    done = await asyncio.to_thread(
        create_admin, db_url, redis_url, customer.email, "ignored", redis_prefix
    )
    assert done.returncode == 0, done.stderr
    assert "errors" not in await gql(users, token=token), "the same token is an admin's now"


async def test_create_admin_refuses_a_short_password(
    db_url: str, redis_url: str, session_maker: SessionMaker
) -> None:
    email = unique_email("weak-admin")
    done = await asyncio.to_thread(create_admin, db_url, redis_url, email, "short")
    assert done.returncode == 2
    assert "at least 8" in done.stderr
    assert await role_of(session_maker, email) is None

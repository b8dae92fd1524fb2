"""The first admin: from ADMIN_EMAIL/ADMIN_PASSWORD at start-up, or `hom create-admin`."""

from __future__ import annotations

import asyncio
import os
import pty
import select
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from hom.accounts import service
from hom.cli import backing
from hom.core import migrations
from hom.core.config import Settings
from hom.core.db import SessionMaker, connect_once
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
    await asyncio.to_thread(backing.prepare_database, settings, False)
    assert await role_of(session_maker, email) == "ADMIN"
    assert (await login(client, email, "admin password 1")).status_code == 200


def cli_env(db_url: str, redis_url: str, redis_prefix: str = "hom:") -> dict[str, str]:
    return hom_env(
        DB_URL=db_url,
        REDIS_URL=redis_url,
        REDIS_PREFIX=redis_prefix,
        JWT_SECRET=TEST_SECRET,
        APP_ENV="dev",
        LOG_LEVEL="WARNING",
    )


def create_admin(
    db_url: str, redis_url: str, email: str, password: str, redis_prefix: str = "hom:"
) -> subprocess.CompletedProcess[str]:
    env = cli_env(db_url, redis_url, redis_prefix)
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


async def test_create_admin_migrates_a_database_nothing_has_run_on(
    fresh_db_url: str, redis_url: str
) -> None:
    done = await asyncio.to_thread(
        create_admin, fresh_db_url, redis_url, "first@example.com", "first admin 1"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "admin ready: first@example.com\n"
    async with connect_once(fresh_db_url) as connection:
        assert await migrations.current_revisions(connection) == migrations.head_revisions()
        role = "SELECT role FROM user_account WHERE email = 'first@example.com'"
        assert (await connection.execute(text(role))).scalar_one() == "ADMIN"


# --- `hom create-admin` on a terminal: asked twice, unseen ---------------------------------

TERMINAL_TIMEOUT = 60.0


def on_a_terminal(args: list[str], env: dict[str, str], answers: list[str]) -> tuple[int, str]:
    """`hom *args` with a pseudo-terminal for stdin, stdout and stderr: the n-th answer typed
    once the n-th prompt (ending in ": ") is shown; its exit code and all the terminal showed."""
    main_end, process_end = pty.openpty()
    process = subprocess.Popen(
        [str(HOM), *args],
        stdin=process_end,
        stdout=process_end,
        stderr=process_end,
        env=env,
        start_new_session=True,  # no other terminal for getpass to find
    )
    os.close(process_end)
    shown = b""
    try:
        for asked, answer in enumerate(answers, start=1):
            shown = read_until(main_end, shown, prompts=asked)
            os.write(main_end, answer.encode() + b"\n")
        shown = read_until(main_end, shown, prompts=None)
        return process.wait(timeout=TERMINAL_TIMEOUT), shown.decode()
    finally:
        os.close(main_end)
        process.kill()
        process.wait()


def read_until(fd: int, shown: bytes, prompts: int | None) -> bytes:
    """What the terminal shows until it shows `prompts` prompts, or the process closes it."""
    deadline = time.monotonic() + TERMINAL_TIMEOUT
    while shown.count(b": ") != prompts:
        assert time.monotonic() < deadline, f"waited for the terminal, it shows {shown!r}"
        if select.select([fd], [], [], 0.1)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the process closed its end
                chunk = b""
            if not chunk:
                return shown
            shown += chunk
    return shown


def prompts(email: str) -> list[str]:
    return [f"Password for {email}: ", "The same password again: "]


async def test_create_admin_on_a_terminal_asks_twice_without_echo(
    db_url: str, redis_url: str, redis_prefix: str, client: httpx.AsyncClient
) -> None:
    email, password = unique_email("tty-admin"), "typed on a terminal"
    env = cli_env(db_url, redis_url, redis_prefix)
    args = ["create-admin", "--email", email]

    code, shown = await asyncio.to_thread(on_a_terminal, args, env, [password, password])

    assert (code, shown.splitlines()) == (0, [*prompts(email), f"admin ready: {email}"])
    assert (await login(client, email, password)).status_code == 200


@pytest.mark.parametrize(
    ("answers", "refusal"),
    [
        (["typed on a terminal", "typed on a terminaI"], "the two passwords differ"),
        (["short", "short"], "Password must be at least 8 characters"),
    ],
)
async def test_create_admin_on_a_terminal_refuses_in_one_line(
    answers: list[str], refusal: str, db_url: str, redis_url: str, session_maker: SessionMaker
) -> None:
    email = unique_email("tty-refused")
    env = cli_env(db_url, redis_url)
    args = ["create-admin", "--email", email]

    code, shown = await asyncio.to_thread(on_a_terminal, args, env, answers)

    assert (code, shown.splitlines()) == (2, [*prompts(email), f"hom: {refusal}; nothing changed"])
    assert await role_of(session_maker, email) is None


def test_create_admin_without_a_terminal_or_password_stdin_says_how() -> None:
    done = subprocess.run(
        [str(HOM), "create-admin", "--email", "nobody@example.com"],
        stdin=subprocess.DEVNULL,
        env=hom_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "hom: no terminal to ask for the password on: pipe it in with --password-stdin\n"
    )

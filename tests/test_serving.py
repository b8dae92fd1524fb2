"""`hom serve` as real processes: instances share state, workers share metrics, SIGTERM drains."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from hom.accounts import service
from hom.core.db import SessionMaker
from hom.notifications.models import OutboxMessage
from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD, create_user
from tests.serving import Served, served

ME = {"query": "{ me { id } }"}


@pytest.fixture
def serve_env(db_url: str, redis_url: str, redis_prefix: str) -> dict[str, str]:
    """What a deployed instance gets: the shared database and Redis, one secret."""
    return {
        "APP_ENV": "dev",
        "DB_URL": db_url,
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": redis_prefix,
        "JWT_SECRET": TEST_SECRET,
        "LOG_LEVEL": "WARNING",
    }


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def test_two_instances_behave_as_one_service(
    tmp_path: Path, serve_env: dict[str, str], session_maker: SessionMaker
) -> None:
    user = await create_user(session_maker)
    with (
        served(tmp_path / "a", "--no-migrate", env=serve_env) as a,
        served(tmp_path / "b", "--no-migrate", env=serve_env) as b,
    ):
        async with httpx.AsyncClient() as http:
            login = await http.post(
                f"{a.base_url}/auth/login", data={"username": user.email, "password": PASSWORD}
            )
            pair = login.json()
            on_b = await http.post(
                f"{b.base_url}/graphql", json=ME, headers=bearer(pair["access_token"])
            )
            assert on_b.json()["data"]["me"]["id"]
            logout = await http.post(
                f"{a.base_url}/auth/logout",
                headers={**bearer(pair["access_token"]), "x-refresh-token": pair["refresh_token"]},
            )
            assert logout.status_code == 204
            on_b = await http.post(
                f"{b.base_url}/graphql", json=ME, headers=bearer(pair["access_token"])
            )
            assert on_b.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
            refresh = await http.post(
                f"{b.base_url}/auth/refresh", headers={"x-refresh-token": pair["refresh_token"]}
            )
            assert refresh.status_code == 401


def live_count(metrics_text: str) -> float:
    pattern = r'hom_http_requests_total\{method="GET",route="/health/live",status="200"\} (\S+)'
    match = re.search(pattern, metrics_text)
    return float(match.group(1)) if match else 0.0


def worker_files(data_dir: Path) -> set[str]:
    """The worker pids that wrote counter files into the multiprocess directory."""
    return {p.stem.rsplit("_", 1)[-1] for p in data_dir.glob("metrics/*/counter_*.db")}


async def test_metrics_add_up_every_worker(tmp_path: Path, serve_env: dict[str, str]) -> None:
    requests = 60
    with served(tmp_path, "--no-migrate", "--workers", "2", env=serve_env) as server:
        for _ in range(requests):  # a new connection each, so both workers get some
            async with httpx.AsyncClient() as http:
                assert (await http.get(f"{server.base_url}/health/live")).status_code == 200
        async with httpx.AsyncClient() as http:
            scrapes = [(await http.get(f"{server.base_url}/metrics")).text for _ in range(4)]
        assert [live_count(text) for text in scrapes] == [requests] * 4
        assert len(worker_files(tmp_path / "data")) == 2


async def register(http: httpx.AsyncClient, server: Served, email: str) -> tuple[str, float]:
    """'ok', 'refused' (a clean HTTP failure) or 'dropped' (never accepted), and when."""
    outcome = await _register(http, server, email)
    return outcome, time.monotonic()


async def _register(http: httpx.AsyncClient, server: Served, email: str) -> str:
    mutation = (
        "mutation ($i: RegisterInput!) { register(input: $i) { user { id } errors { code } } }"
    )
    variables = {"i": {"email": email, "password": PASSWORD, "fullName": "Drain Test"}}
    try:
        response = await http.post(
            f"{server.base_url}/graphql", json={"query": mutation, "variables": variables}
        )
    except httpx.TransportError:
        return "dropped"
    if response.status_code == 200 and response.json()["data"]["register"]["user"]:
        return "ok"
    return "refused"


async def stored(session_maker: SessionMaker, email: str) -> tuple[bool, bool]:
    """Whether the user and its verification mail exist (they must come together)."""
    async with session_maker() as session:
        user = await service.find_by_email(session, email=email)
        mails = await session.exec(select(OutboxMessage).where(OutboxMessage.recipient == email))
        return user is not None, mails.first() is not None


async def test_sigterm_drains_in_flight_requests(
    tmp_path: Path, serve_env: dict[str, str], session_maker: SessionMaker
) -> None:
    emails = [f"drain-{uuid.uuid4().hex[:10]}@example.com" for _ in range(50)]
    with served(tmp_path, "--no-migrate", env=serve_env) as server:
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(timeout=30, limits=limits) as http:
            calls = [asyncio.create_task(register(http, server, email)) for email in emails]
            await asyncio.sleep(0.3)  # all sent; argon2 keeps them in flight for a while
            signalled = time.monotonic()
            stopping = asyncio.create_task(asyncio.to_thread(server.stop))
            results = await asyncio.gather(*calls)
            assert await stopping == 0, server.log.read_text()
    outcomes = [outcome for outcome, _ in results]
    assert outcomes.count("ok") > 0, outcomes
    assert any(finished > signalled for _, finished in results), "nothing was in flight"
    for email, outcome in zip(emails, outcomes, strict=True):
        user, mail = await stored(session_maker, email)
        assert user == mail, f"{email}: a user without its mail (or back) - cut mid-transaction"
        assert user == (outcome == "ok"), f"{email}: answered {outcome} but stored={user}"
    assert "Traceback" not in server.log.read_text()

"""`hom serve` as real processes: instances share state, workers share metrics, SIGTERM drains."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest
from prometheus_client.metrics_core import Metric
from sqlmodel import select

from hom.accounts import service
from hom.core import passwords
from hom.core.db import SessionMaker
from hom.notifications.models import OutboxMessage
from tests.conftest import TEST_SECRET
from tests.databases import TemplateClones
from tests.factories import PASSWORD, create_user
from tests.serving import (
    HOM,
    START_TIMEOUT,
    Served,
    hom_env,
    per_worker,
    refuses_connections,
    scrape,
    served,
    stop_group,
    total,
    until,
)

ME = {"query": "{ me { id } }"}


def instance_env(db_url: str, redis_url: str, redis_prefix: str) -> dict[str, str]:
    """What a deployed instance gets: the shared database and Redis, one secret."""
    return {
        "APP_ENV": "dev",
        "DB_URL": db_url,
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": redis_prefix,
        "JWT_SECRET": TEST_SECRET,
        "LOG_LEVEL": "WARNING",
    }


@pytest.fixture
def serve_env(db_url: str, redis_url: str, redis_prefix: str) -> dict[str, str]:
    return instance_env(db_url, redis_url, redis_prefix)


@pytest.fixture(scope="module")
def two_workers(
    database_clones: TemplateClones,
    redis_url: str,
    run_prefix: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Served]:
    """One `hom serve --workers 2` for the tests that count what each worker did: starting
    one costs seconds, so they share it and look only at what changed while they ran."""
    directory = tmp_path_factory.mktemp("two-workers")
    with database_clones.database() as db_url:
        env = instance_env(db_url, redis_url, f"{run_prefix}two-workers:")
        with served(directory, "--no-migrate", "--workers", "2", env=env) as server:
            yield server


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
            # The server hashes with its own parameters (the tests', cheaper, were rehashed).
            async with session_maker() as session:
                stored = await service.find_by_email(session, email=user.email)
            assert stored is not None
            assert not passwords.HASHER.check_needs_rehash(stored.password_hash)
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


LIVE = {"method": "GET", "route": "/health/live", "status": "200"}
REQUESTS = "hom_http_requests_total"
IN_PROGRESS = "hom_http_requests_in_progress"


async def test_metrics_add_up_every_worker(two_workers: Served) -> None:
    server = two_workers
    before = await settled_counts(server.data_dir)
    sent = 0

    async def both_workers_served() -> bool:
        nonlocal sent
        async with httpx.AsyncClient() as http:  # a new connection each time
            assert (await http.get(f"{server.base_url}/health/live")).status_code == 200
        sent += 1
        counts = per_worker(server.data_dir, REQUESTS, **LIVE)
        served_now = [count > before.get(pid, 0) for pid, count in counts.items()]
        return sent >= 60 and len(counts) == 2 and all(served_now)

    await until(both_workers_served, "served by both workers")
    expected = sum(before.values()) + sent
    async with httpx.AsyncClient() as http:

        async def all_counted() -> bool:  # workers write their counts in batches
            return total(await scrape(http, server), REQUESTS, **LIVE) == expected

        await until(all_counted, "every request counted")
        scrapes = [total(await scrape(http, server), REQUESTS, **LIVE) for _ in range(4)]
    assert scrapes == [expected] * 4


async def test_connections_opened_at_once_are_spread_over_the_workers(two_workers: Served) -> None:
    """32 connections opened together, as a proxy or a load generator opens them, do not
    all land on the worker that wakes first: each worker listens on a socket of its own
    and the kernel spreads connections by their addresses (at least 4 each: a fair split
    gives fewer 3 times in a million)."""
    server, data_dir = two_workers, two_workers.data_dir
    live = f"{server.base_url}/health/live"

    async def one_request() -> None:
        async with httpx.AsyncClient() as http:  # a connection of its own
            assert (await http.get(live)).status_code == 200

    async def both_listening() -> bool:
        await one_request()
        counts = per_worker(data_dir, REQUESTS, **LIVE)
        return len(counts) == 2 and all(counts.values())

    await until(both_listening, "each worker served a request")
    before = await settled_counts(data_dir)
    await asyncio.gather(*(one_request() for _ in range(32)))
    after = await settled_counts(data_dir)
    assert sum(after.values()) == sum(before.values()) + 32
    spread = sorted(after[pid] - before[pid] for pid in after)
    assert len(spread) == 2
    assert spread[0] >= 4, spread


async def settled_counts(data_dir: Path) -> dict[str, float]:
    """Each worker's count of /health/live once it stops changing (workers write their
    counts in batches, half a second after a change)."""
    counts: dict[str, float] = {}

    async def settled() -> bool:
        nonlocal counts
        await asyncio.sleep(1)
        counts, previous = per_worker(data_dir, REQUESTS, **LIVE), counts
        return counts == previous

    await until(settled, "the counts settled")
    return counts


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_port_in_use_is_one_line_and_exit_code_3(
    tmp_path: Path, serve_env: dict[str, str], workers: str
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [str(HOM), "serve", "--no-migrate", "--workers", workers, "--port", str(port)],
            env=hom_env(HOM_DATA_DIR=str(tmp_path / "data"), **serve_env),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert (done.returncode, done.stdout) == (3, ""), done
    assert done.stderr == (
        f"hom: cannot listen on 127.0.0.1:{port}: Address already in use; "
        "stop what listens there or choose another port with --port\n"
    )


@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_ready_line_comes_once_and_names_an_address_that_answers(
    tmp_path: Path, serve_env: dict[str, str], workers: str
) -> None:
    """With --port 0 the port is known only once bound: the line names the one chosen,
    and it answers as soon as the line is out."""
    stdout = tmp_path / "stdout"
    with stdout.open("wb") as output:
        process = subprocess.Popen(
            [str(HOM), "serve", "--no-migrate", "--workers", workers, "--port", "0"],
            env=hom_env(HOM_DATA_DIR=str(tmp_path / "data"), **serve_env),
            cwd=tmp_path,
            stdout=output,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        line = first_line(process, stdout)
        url = line.removeprefix("H.O.M is up: GraphQL and the playground at ")
        assert re.fullmatch(r"http://127\.0\.0\.1:[1-9][0-9]*/graphql", url), line
        answer = httpx.post(url, json=SERVER_INFO)
        assert answer.json()["data"] == {"serverInfo": {"version": version("hom")}}
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        stop_group(process)
    assert stdout.read_text() == line + "\n"


SERVER_INFO = {"query": "{ serverInfo { version } }"}


def first_line(process: subprocess.Popen[bytes], path: Path) -> str:
    """The first line the process writes to `path` (failing if it exits first)."""
    deadline = time.monotonic() + START_TIMEOUT
    while "\n" not in (text := path.read_text()):
        assert process.poll() is None, f"exited with {process.returncode} before a line"
        assert time.monotonic() < deadline, f"no line after {START_TIMEOUT}s"
        time.sleep(0.05)
    return text.split("\n", 1)[0]


REGISTER = "mutation ($i: RegisterInput!) { register(input: $i) { user { id } errors { code } } }"


def register_body(email: str) -> bytes:
    variables = {"i": {"email": email, "password": PASSWORD, "fullName": "Drain Test"}}
    return json.dumps({"query": REGISTER, "variables": variables}).encode()


async def register(
    http: httpx.AsyncClient, server: Served, email: str, gate: asyncio.Event | None = None
) -> str:
    """'ok', 'refused' (a clean HTTP failure) or 'dropped' (never accepted).

    With a `gate`, the body's second half is sent only once the gate opens.
    """
    body = register_body(email)

    async def held() -> AsyncIterator[bytes]:
        yield body[:20]
        assert gate is not None
        await gate.wait()
        yield body[20:]

    content = held() if gate else body
    headers = {"content-type": "application/json"}
    try:
        response = await http.post(f"{server.base_url}/graphql", content=content, headers=headers)
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


ACCEPTED_BEFORE_SIGNAL = 10


async def test_sigterm_drains_in_flight_requests(
    tmp_path: Path, serve_env: dict[str, str], session_maker: SessionMaker
) -> None:
    """A request in flight when SIGTERM comes completes; the rest are answered or never
    accepted, and nothing is cut mid-transaction. Each step waits for what the server
    reports, never for time."""
    held_email, late_email, *emails = [
        f"drain-{uuid.uuid4().hex[:10]}@example.com" for _ in range(52)
    ]
    with served(tmp_path, "--no-migrate", env=serve_env) as server:
        async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=60)) as http:
            gate = asyncio.Event()
            held = asyncio.create_task(register(http, server, held_email, gate))

            async def held_in_flight() -> bool:  # it and this scrape
                return total(await scrape(http, server), IN_PROGRESS) >= 2

            await until(held_in_flight, "handling the held request")
            calls = [asyncio.create_task(register(http, server, email)) for email in emails]

            async def accepted_enough() -> bool:
                metrics = await scrape(http, server)
                running = total(metrics, IN_PROGRESS) - 2  # not the held request nor the scrape
                done = total(metrics, REQUESTS, route="/graphql")
                return running + done >= ACCEPTED_BEFORE_SIGNAL

            await until(accepted_enough, f"{ACCEPTED_BEFORE_SIGNAL} registrations accepted")
            stopping = asyncio.create_task(asyncio.to_thread(server.stop))
            await until(lambda: refuses_connections(server), "refusing new connections")
            async with httpx.AsyncClient() as late_client:
                assert await register(late_client, server, late_email) == "dropped"
            gate.set()  # the held request's body arrives while the server shuts down
            outcomes = await asyncio.gather(*calls)
            assert await held == "ok"
            assert await stopping == 0, server.log.read_text()
    assert outcomes.count("ok") >= ACCEPTED_BEFORE_SIGNAL, outcomes
    answers = zip([held_email, late_email, *emails], ["ok", "dropped", *outcomes], strict=True)
    for email, outcome in answers:
        user, mail = await stored(session_maker, email)
        assert user == mail, f"{email}: a user without its mail (or back) - cut mid-transaction"
        assert user == (outcome == "ok"), f"{email}: answered {outcome} but stored={user}"
    assert "Traceback" not in server.log.read_text()


OPERATIONS = "hom_graphql_operations_total"


def operation_labels(metrics: list[Metric]) -> set[str]:
    """Every value of the `operation` label, in any metric."""
    return {
        sample.labels["operation"]
        for family in metrics
        for sample in family.samples
        if "operation" in sample.labels
    }


async def send_random_names(server: Served, count: int) -> None:
    """`count` operations with random names, over a new connection (maybe another worker)."""
    async with httpx.AsyncClient() as http:
        for _ in range(count):
            query = f"query Op{uuid.uuid4().hex} {{ serverInfo {{ version }} }}"
            assert (await http.post(f"{server.base_url}/graphql", json={"query": query})).is_success


async def test_random_operation_names_cannot_grow_metrics(two_workers: Served) -> None:
    """The label budget is shared by the workers: each alone sees more than 100 names (the
    other tests on this server send no GraphQL operation)."""
    server = two_workers

    async def enough_sent() -> bool:
        await asyncio.gather(*(send_random_names(server, 10) for _ in range(5)))
        counts = per_worker(server.data_dir, OPERATIONS)
        return len(counts) == 2 and min(counts.values()) > 100

    # Which worker gets a connection is the kernel's choice (a hash of its addresses):
    # generous, for a loaded machine.
    await until(enough_sent, "more than 100 names sent to each worker", within=240)
    async with httpx.AsyncClient() as http:
        labels = operation_labels(await scrape(http, server))
    assert len(labels) <= 100, sorted(labels)
    assert "other" in labels
    assert len(labels) > 90, "the budget was not used"

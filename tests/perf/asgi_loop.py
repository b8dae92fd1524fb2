"""The app's own CPU per request, without a server or a network: requests handed straight to
the ASGI app in a loop (issue #11). Much less noisy than wrk on a shared machine, so small
changes to the per-request plumbing show.

    uv run python -m tests.perf.asgi_loop [--requests 5000] [--rounds 10] [--concurrency 1]
    uv run python -m tests.perf.asgi_loop --queries me --profile 40   # and where it goes
    uv run python -m tests.perf.asgi_loop --queries catalog,slots --requests 600 --profile 30
    uv run python -m tests.perf.asgi_loop --queries book --requests 600 --rounds 5 --profile 40

`slots` is `availableSlots` over 31 days for a staff member with 300 appointments and time
off (tests/perf/bookings_data.py, as in the bookings benchmark), made when asked for.
`book` is `bookAppointment` as the bookings benchmark sends it: a verified customer booking
the next free half-hour slot of open calendars (a new one each request, so each is a real
booking; an answer with errors is counted and reported).
Metrics run in multiprocess mode (as under `hom serve --workers 2`), against a fresh
migrated database with one signed-in user; logging is configured as in a worker
(LOG_LEVEL from the environment, WARNING by default).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CATALOG = (
    "products(first: 50) { edges { node { id name price { amount } category { name parent"
    " { name } } stockLevels { warehouse { code } onHand } } } }"
)
QUERIES = {
    "typename": b'{"query":"{ __typename }"}',
    "me": b'{"query":"{ me { id } }"}',
    # the catalog page (compiled), and the same beside a field only the executor answers
    "catalog": b'{"query":"{ %s }"}' % CATALOG.encode(),
    "executor": b'{"query":"{ %s node(id: \\"x\\") { id } }"}' % CATALOG.encode(),
}
Send = Callable[[dict[str, Any]], Awaitable[None]]
# A request's body: always the same, or made anew for each request.
Body = bytes | Callable[[], bytes]
BOOKED = b'"errors":[]'  # in every answer of a booking made


@dataclass(frozen=True)
class Workload:
    """What one query name sends, as whom (an email; None: the loop's one user), and what
    each answer must contain (None: anything)."""

    body: Body
    email: str | None = None
    expect: bytes | None = None

    def next_body(self) -> bytes:
        return self.body() if callable(self.body) else self.body


def _scope(body: bytes, token: str) -> dict[str, Any]:
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"authorization", f"Bearer {token}".encode()),
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def one_request(app: Any, body: bytes, token: str) -> bytes:
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    answer: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        answer.append(message.get("body", b""))

    await app(_scope(body, token), receive, send)
    return b"".join(answer)


async def drive(
    app: Any, work: Workload, token: str, requests: int, concurrency: int
) -> tuple[float, float]:
    """(wall, CPU) seconds of this process for `requests` requests, `concurrency` at a time;
    AssertionError when an answer lacks what `work` expects."""
    per_task = requests // concurrency
    missed: list[bytes] = []

    async def loop() -> None:
        for _ in range(per_task):
            answer = await one_request(app, work.next_body(), token)
            if work.expect is not None and work.expect not in answer:
                missed.append(answer)

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started, time.process_time() - cpu
    if missed:
        raise AssertionError(f"{len(missed)} unexpected answers, e.g. {missed[0][:300]!r}")
    return elapsed


async def _run(args: argparse.Namespace, token_for: Any, queries: dict[str, Workload]) -> None:
    from hom.app import main_app

    app = main_app()
    names = args.queries.split(",")
    per_round = args.requests // args.rounds
    cpu: dict[str, list[float]] = {name: [] for name in names}
    async with _lifespan(app):
        tokens = {name: await token_for(app, queries[name].email) for name in names}
        for name in names:
            work, token = queries[name], tokens[name]
            print(name, (await one_request(app, work.next_body(), token)).decode()[:120])
            await drive(app, work, token, per_round, args.concurrency)  # warm-up
        for _ in range(args.rounds):  # interleaved: a busy moment hits every query alike
            for name in names:
                work, token = queries[name], tokens[name]
                _, seconds = await drive(app, work, token, per_round, args.concurrency)
                cpu[name].append(seconds / per_round * 1e6)
        if args.profile:
            await _profile(app, queries, names, tokens, per_round, args)
    for name, values in cpu.items():
        print(
            f"{name:<9} CPU µs/request: min {min(values):7.1f}  "
            f"median {statistics.median(values):7.1f}  ({args.rounds} rounds of {per_round})"
        )


async def _profile(
    app: Any,
    queries: dict[str, Workload],
    names: list[str],
    tokens: dict[str, str],
    requests: int,
    args: argparse.Namespace,
) -> None:
    """cProfile of one more round of each query: the functions with the most own CPU time (or
    `--sort cumulative`: the most below them). CPU, not wall time: a coroutine waiting for
    PostgreSQL costs nothing."""
    import cProfile
    import pstats

    for name in names:
        profile = cProfile.Profile(time.process_time)
        profile.enable()
        await drive(app, queries[name], tokens[name], requests, 1)
        profile.disable()
        print(f"-- {name}: {requests} requests")
        pstats.Stats(profile).sort_stats(args.sort).print_stats(args.profile)


class _lifespan:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def __aenter__(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self.task = asyncio.create_task(self.app(scope, self.inbox.get, self.outbox.put))
        await self.inbox.put({"type": "lifespan.startup"})
        await self.outbox.get()

    async def __aexit__(self, *exc: object) -> None:
        await self.inbox.put({"type": "lifespan.shutdown"})
        await self.outbox.get()
        await self.task


def main(argv: list[str] | None = None) -> None:
    import uvloop

    parser = argparse.ArgumentParser(prog="python -m tests.perf.asgi_loop", description=__doc__)
    parser.add_argument("--queries", default="typename,me")
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--profile", type=int, default=0, help="print this many cProfile lines")
    parser.add_argument("--sort", default="tottime", help="cProfile's order (or cumulative)")
    parser.add_argument("--book-staff", type=int, default=10, help="open calendars for `book`")
    parser.add_argument("--products", type=int, default=0, help="hom seed-demo --products N")
    args = parser.parse_args(argv)
    metrics_dir = tempfile.mkdtemp(prefix="hom-asgi-loop-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir  # read when prometheus is imported
    uvloop.run(_with_backends(args))


async def _with_backends(args: argparse.Namespace) -> None:
    from tests.perf.auth_bench import backends
    from tests.perf.server import (
        JWT_SECRET,
        PASSWORD,
        delete_keys,
        fresh_database,
        seed_demo,
        seed_users,
    )

    with backends() as (admin_url, redis_url):
        prefix = f"hom_perf_{uuid.uuid4().hex[:12]}:"
        async with fresh_database(admin_url) as (_, db_url):
            [email] = await seed_users(db_url, 1)
            if args.products:
                workdir = Path(tempfile.mkdtemp(prefix="hom-asgi-loop-seed-"))
                await seed_demo(db_url, redis_url, prefix, workdir, args.products)
            queries = {name: Workload(body) for name, body in QUERIES.items()}
            asked = args.queries.split(",")
            if "slots" in asked:
                queries["slots"] = Workload(await _slots_body(db_url, redis_url, prefix))
            if "book" in asked:
                queries["book"] = await _book_workload(db_url, redis_url, prefix, args.book_staff)
            environment = {
                "DB_URL": db_url,
                "REDIS_URL": redis_url,
                "REDIS_PREFIX": prefix,
                "JWT_SECRET": JWT_SECRET,
                "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
            }
            os.environ.update(environment)

            async def token_for(app: Any, as_email: str | None) -> str:
                return await _sign_in(app, as_email or email, PASSWORD)

            try:
                await _run(args, token_for, queries)
            finally:
                await delete_keys(redis_url, prefix)


async def _slots_body(db_url: str, redis_url: str, prefix: str) -> bytes:
    from tests.perf.bookings_bench import Options, seed_bookings, slot_cases

    data = await seed_bookings(db_url, redis_url, prefix, Options(clients=1, book_staff=0))
    _, slots = slot_cases(data.slots)
    return slots.body.encode()


async def _book_workload(db_url: str, redis_url: str, prefix: str, staff: int) -> Workload:
    """`bookAppointment` of the next free slot of `staff` open calendars, by a customer."""
    from tests.perf.bookings_bench import BOOK, Options, booking, seed_bookings
    from tests.perf.bookings_data import free_slots

    options = Options(clients=1, book_staff=staff, appointments=0)
    data = await seed_bookings(db_url, redis_url, prefix, options)
    slots = free_slots(data.calendars)

    def body() -> bytes:
        variables = booking(data.calendars, next(slots))
        return json.dumps({"query": BOOK, "variables": variables}).encode()

    return Workload(body, data.customers[0], BOOKED)


async def _sign_in(app: Any, email: str, password: str) -> str:
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.post("/auth/login", data={"username": email, "password": password})
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


if __name__ == "__main__":
    main()

"""Login cost vs. `{ me { id } }` latency on one uvicorn worker (see tests/perf/README.md).

uv run python -m tests.perf.auth_bench [--duration 10] [--json results.json]
uv run pytest tests/perf -s
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import platform
import shutil
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from redis.asyncio import Redis

from tests.perf import machine
from tests.perf.load import ME_QUERY, LoadResult, Mode, Target, run_load, wrk_available
from tests.perf.machine import CpuMeter, CpuUse
from tests.perf.pgwire import StatementProxy, statement_proxy
from tests.perf.server import (
    PASSWORD,
    RunningServer,
    delete_keys,
    fresh_database,
    hom_server,
    seed_users,
    sessions_opened,
    sign_in,
)

COUNT_REDIS_DB = 15  # the counting server's Redis database: MONITOR lines are filtered by it


@dataclass
class Options:
    duration: float = 10.0  # seconds per measured load run
    warmup: float = 3.0
    login_concurrency: tuple[int, ...] = (1, 2, 4, 8)
    mixed_steps: tuple[int, ...] = (0, 1, 2, 4, 8)  # login clients, closed loop
    me_connections: int = 32
    background_connections: int = 16
    # The paced table: the same `me` connections paced to offer ~background_rate req/s, so
    # that `me` p99 shows what logins add rather than closed-loop queueing; logins paced
    # too, offering each of login_rates per second.
    background_rate: float = 100.0
    login_rates: tuple[float, ...] = (0, 2, 4, 6, 8, 12, 16)
    max_login_connections: int = 16
    users: int = 256
    count_requests: int = 20
    idle_wait: float = 10.0  # max seconds to wait for a quiet machine before each run
    p99_limit_ms: float = 50.0
    use_wrk: bool = field(default_factory=wrk_available)


@dataclass
class Run:
    name: str
    login: LoadResult | None
    me: LoadResult | None
    cpu: CpuUse
    busy_before: float  # cores busy just before the run (after waiting for idle)
    login_rate: float = 0.0  # offered logins/s when paced; 0: closed loop
    new_connections: int = 0  # PostgreSQL connections the server opened during the run


@dataclass
class Counts:
    """What one request costs, counted over `requests` sequential requests."""

    what: str
    requests: int
    statements: int
    round_trips: int
    redis_commands: int
    sequences: list[tuple[int, list[str]]]  # (how many requests, their statements in order)
    redis_texts: dict[str, int]

    def per(self, value: int) -> float:
        return value / self.requests


@dataclass
class Report:
    options: Options
    environment: dict[str, str]
    counts: list[Counts] = field(default_factory=list)
    me_alone: Run | None = None
    login_alone: list[Run] = field(default_factory=list)
    mixed: list[Run] = field(default_factory=list)  # closed-loop `me` background
    paced: list[Run] = field(default_factory=list)  # paced `me`, paced logins

    def _ok(self, run: Run) -> bool:
        return run.me is not None and run.me.p99_ms < self.options.p99_limit_ms

    def sustained(self, runs: list[Run]) -> Run | None:
        """The last step with logins before the first one whose `me` p99 reached the limit."""
        best = None
        for run in runs:
            if not self._ok(run):
                break
            if run.login:
                best = run
        return best

    def best_passing(self, runs: list[Run]) -> Run | None:
        """The step with the most logins/s among all whose `me` p99 stayed under the limit."""
        ok = [run for run in runs if run.login and self._ok(run)]
        return max(ok, key=lambda run: run.login.rps if run.login else 0.0, default=None)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for name, runs in (("mixed", self.mixed), ("paced", self.paced)):
            for kind, found in (("sustained", self.sustained), ("best_passing", self.best_passing)):
                run = found(runs)
                rate = round(run.login.rps, 2) if run and run.login else None
                data[f"{kind}_logins_per_s_{name}"] = rate
        return data

    def render(self) -> str:
        return "\n".join(_render(self))


# --------------------------------------------------------------------------- running


async def run_benchmark(admin_url: str, redis_url: str, options: Options) -> Report:
    workdir = Path(tempfile.mkdtemp(prefix="hom-perf-"))
    prefix = f"hom_perf_{uuid.uuid4().hex[:12]}:"
    busy = await asyncio.to_thread(machine.busy_cores, 2.0)
    report = Report(
        options,
        {
            "cores": str(machine.CORES),
            "load_before": machine.load_average(),
            "busy_cores_before": f"{busy:.2f}",
            "load_generator": "wrk -t1 (auth.lua)" if options.use_wrk else "httpx (this process)",
            "python": platform.python_version(),
        },
    )
    started = time.monotonic()
    try:
        async with fresh_database(admin_url) as (db_name, db_url):
            emails = await seed_users(db_url, options.users + 1)
            me_email, login_emails = emails[0], emails[1:]
            users_file = workdir / "users.txt"
            users_file.write_text("\n".join(login_emails) + "\n")
            report.counts = await _count_per_request(
                admin_url, redis_url, db_url, workdir, me_email, login_emails, options
            )
            async with hom_server(db_url, redis_url, prefix, workdir) as server:
                token = await sign_in(server.base_url, me_email)
                await _check_me(server.base_url, token)
                target = Target(server.base_url, token, users_file, PASSWORD)
                bench = _Bench(target, server, admin_url, db_name, options)
                await run_load(target, "me", options.me_connections, options.warmup, bench.wrk)
                await run_load(target, "login", 2, options.warmup, bench.wrk)
                report.me_alone = await bench.run(
                    f"me alone c={options.me_connections}", me=options.me_connections
                )
                for clients in options.login_concurrency:
                    report.login_alone.append(await bench.run(f"login c={clients}", login=clients))
                background = options.background_connections
                for clients in options.mixed_steps:
                    run = await bench.run(f"mixed {clients}", me=background, login=clients)
                    report.mixed.append(run)
                for rate in options.login_rates if options.background_rate > 0 else ():
                    run = await bench.run(
                        f"paced {rate:g}/s",
                        background,
                        login_connections(rate, options.max_login_connections),
                        options.background_rate,
                        rate,
                    )
                    report.paced.append(run)
                await _check_me(server.base_url, token)  # the measured answers were real ones
    finally:
        await delete_keys(redis_url, prefix)
        shutil.rmtree(workdir, ignore_errors=True)
    report.environment["load_after"] = machine.load_average()
    report.environment["wall_seconds"] = f"{time.monotonic() - started:.0f}"
    return report


def login_connections(rate: float, most: int) -> int:
    """About one connection per login/s: mean pauses of ~1 s, far below uvicorn's 5 s
    keep-alive (longer idle connections get closed under wrk, which counts an error)."""
    return max(1, min(most, math.ceil(rate))) if rate > 0 else 0


@dataclass
class _Bench:
    target: Target
    server: RunningServer
    admin_url: str
    database: str
    options: Options

    @property
    def wrk(self) -> bool:
        return self.options.use_wrk

    async def run(
        self, name: str, me: int = 0, login: int = 0, me_rate: float = 0.0, login_rate: float = 0.0
    ) -> Run:
        """One measured run; with both loads, logins start 1 s before `me` and end ~1 s after."""
        busy = await asyncio.to_thread(machine.wait_for_idle, self.options.idle_wait)
        opened = await sessions_opened(self.admin_url, self.database)
        seconds = self.options.duration
        meter = CpuMeter(self.server.pgid, self.database)

        async def load(
            mode: Mode, connections: int, delay: float, length: float, rate: float = 0.0
        ) -> LoadResult:
            await asyncio.sleep(delay)
            return await run_load(self.target, mode, connections, length, self.wrk, rate)

        jobs: list[Awaitable[LoadResult]] = []
        if login:
            jobs.append(load("login", login, 0, seconds + 2 if me else seconds, login_rate))
        if me:
            jobs.append(load("me", me, 1 if login else 0, seconds, me_rate))
        results = await asyncio.gather(*jobs)
        cpu = meter.stop()
        await asyncio.sleep(1.5)  # closed connections have reported, idle ones too
        opened = await sessions_opened(self.admin_url, self.database) - opened
        login_result = results[0] if login else None
        me_result = results[-1] if me else None
        run = Run(name, login_result, me_result, cpu, busy, login_rate, opened)
        print(f"  {_run_line(run)}", flush=True)
        return run


async def _check_me(base_url: str, token: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        response = await http.post("/graphql", json=ME_QUERY, headers=_bearer(token))
    body = response.json()
    assert response.status_code == 200, body
    assert (body.get("data") or {}).get("me", {}).get("id"), body


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


# --------------------------------------------------------------------------- counting


async def _count_per_request(
    admin_url: str,
    redis_url: str,
    db_url: str,
    workdir: Path,
    me_email: str,
    login_emails: list[str],
    options: Options,
) -> list[Counts]:
    """A second, short-lived server whose database connections go through StatementProxy
    and whose Redis is database 15 (watched with MONITOR); requests one at a time."""
    parts = urlsplit(redis_url)
    watched_db = COUNT_REDIS_DB if parts.scheme in ("redis", "rediss") else None
    count_redis = parts._replace(path=f"/{COUNT_REDIS_DB}").geturl() if watched_db else redis_url
    prefix = f"hom_perf_count_{uuid.uuid4().hex[:12]}:"
    n = options.count_requests
    users = iter(login_emails)
    try:
        async with (
            statement_proxy(admin_url) as proxy,
            hom_server(proxy.url_for(db_url), count_redis, prefix, workdir, "count") as server,
            httpx.AsyncClient(base_url=server.base_url, timeout=10) as http,
        ):
            token = await sign_in(server.base_url, me_email)

            async def me(_: int) -> None:
                response = await http.post("/graphql", json=ME_QUERY, headers=_bearer(token))
                assert response.json()["data"]["me"]["id"], response.text

            async def login(_: int) -> None:
                form = {"username": next(users), "password": PASSWORD}
                response = await http.post("/auth/login", data=form)
                assert response.status_code == 200, response.text

            for i in range(5):  # warm-up: pool connections, prepared statements, Lua scripts
                await me(i)
                await login(i)
            counted = []
            for what, send in (("me", me), ("login", login)):
                counted.append(await _count(what, send, n, proxy, count_redis, watched_db))
            return counted
    finally:
        await delete_keys(count_redis, prefix)


async def _count(
    what: str,
    send: Callable[[int], Awaitable[None]],
    n: int,
    proxy: StatementProxy,
    redis_url: str,
    watched_db: int | None,
) -> Counts:
    sequences: Counter[tuple[str, ...]] = Counter()
    statements = round_trips = 0
    async with _monitor(redis_url, watched_db) as redis_commands:
        for i in range(n):
            proxy.reset()
            await send(i)
            await asyncio.sleep(0.05)  # the session is closed (ROLLBACK) after the response
            recording = proxy.reset()
            sequences[recording.sequence()] += 1
            statements += len(recording.statements)
            round_trips += recording.round_trips
    return Counts(
        what=what,
        requests=n,
        statements=statements,
        round_trips=round_trips,
        redis_commands=sum(redis_commands.values()),
        sequences=[(times, list(seq)) for seq, times in sequences.most_common()],
        redis_texts=dict(redis_commands.most_common()),
    )


@asynccontextmanager
async def _monitor(redis_url: str, db: int | None) -> AsyncIterator[Counter[str]]:
    """Counts (by command name) what clients send to Redis database `db` meanwhile."""
    seen: Counter[str] = Counter()
    client = Redis.from_url(redis_url)
    try:
        async with client.monitor() as monitor:

            async def collect() -> None:
                while True:
                    info = await monitor.next_command()
                    if info["client_type"] == "tcp" and (db is None or info["db"] == db):
                        seen[info["command"].split(" ", 1)[0].upper()] += 1

            task = asyncio.create_task(collect())
            try:
                yield seen
                await asyncio.sleep(0.3)  # the last commands' MONITOR lines
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
    finally:
        await client.aclose()


# --------------------------------------------------------------------------- report


def _ms(value: float) -> str:
    return f"{value:7.1f}"


def _run_line(run: Run) -> str:
    parts = [f"{run.name:<16}"]
    if run.login:
        parts.append(
            f"login {run.login.rps:6.1f}/s p50 {run.login.p50_ms:.1f} p99 {run.login.p99_ms:.1f} ms"
        )
    if run.me:
        parts.append(f"me {run.me.rps:7.1f}/s p50 {run.me.p50_ms:.1f} p99 {run.me.p99_ms:.1f} ms")
    parts.append(f"cpu {run.cpu.brief()}")
    return " | ".join(parts)


def _server_ms(run: Run, result: LoadResult) -> float:
    """CPU time of the server process (all its threads) per request."""
    return run.cpu.server * 1000 / result.rps if result.rps else float("nan")


def _errors(*results: LoadResult | None) -> str:
    return "/".join(str(r.errors + r.status_errors) for r in results if r) or "-"


def _render(report: Report) -> Iterator[str]:
    o, env = report.options, report.environment
    yield ""
    yield (
        f"H.O.M auth benchmark: hom serve --workers 1, load {env['load_generator']}, closed loop, "
        f"{o.duration:.0f} s per run, 127.0.0.1"
    )
    yield (
        f"machine: {env['cores']} cores; load avg before {env['load_before']} "
        f"(busy {env['busy_cores_before']} cores), after {env.get('load_after', '?')}; "
        f"wall {env.get('wall_seconds', '?')} s"
    )
    yield "cpu column: average busy cores during the run (total: server, postgres, load generator,"
    yield "            redis, other = not ours); 'idle' = busy cores just before the run;"
    yield "conns: PostgreSQL connections the server opened during the run (pool churn);"
    yield "errors: socket errors/non-2xx (login/me)"
    yield ""
    yield "Per request (one at a time, on a second server; PG wire messages, Redis MONITOR):"
    for c in report.counts:
        yield (
            f"  {c.what:<6} SQL statements {c.per(c.statements):.2f}, PG round trips "
            f"{c.per(c.round_trips):.2f}, Redis commands {c.per(c.redis_commands):.2f}"
        )
        for times, sequence in c.sequences:
            yield f"      {times}/{c.requests} requests:"
            for statement in sequence:
                yield f"        {statement}"
        redis = ", ".join(
            f"{name} {calls / c.requests:.2f}" for name, calls in c.redis_texts.items()
        )
        yield f"      redis: {redis}"
    yield ""
    yield "Login alone:"
    yield "  clients  logins/s   p50 ms   p90 ms   p99 ms  errors  srv ms/req  conns  idle  cpu"
    for run in report.login_alone:
        r = run.login
        assert r
        yield (
            f"  {r.connections:>7}  {r.rps:8.1f}  {_ms(r.p50_ms)}  {_ms(r.p90_ms)}  "
            f"{_ms(r.p99_ms)}  {_errors(r):>6}  {_server_ms(run, r):>10.1f}  "
            f"{run.new_connections:>5}  {run.busy_before:4.2f}  {run.cpu.brief()}"
        )
    if report.me_alone and report.me_alone.me:
        run, r = report.me_alone, report.me_alone.me
        yield ""
        yield f"{{ me {{ id }} }} alone, {r.connections} connections:"
        yield (
            f"  {r.rps:.1f} req/s, p50 {r.p50_ms:.1f} ms, p90 {r.p90_ms:.1f} ms, "
            f"p99 {r.p99_ms:.1f} ms, errors {_errors(r)}, "
            f"server CPU {_server_ms(run, r):.1f} ms/req"
        )
        yield (
            f"  new PG connections {run.new_connections}, idle {run.busy_before:.2f}, "
            f"cpu {run.cpu.brief()}"
        )
    background = f"{o.background_connections} connections of `me`"
    title = f"Mixed: {background} + N clients logging in back to back (different users):"
    yield from _mixed(report, report.mixed, title)
    if report.paced:
        title = (
            f"Paced: {background} offering ~{o.background_rate:.0f} req/s + logins offered "
            "at R/s (~R connections, random pauses, different users):"
        )
        yield from _mixed(report, report.paced, title)


def _mixed(report: Report, runs: list[Run], title: str) -> Iterator[str]:
    limit = report.options.p99_limit_ms
    yield ""
    yield title
    first = "R" if any(run.login_rate for run in runs) else "N"
    columns = "logins/s  login p50  login p99    me/s   me p50   me p99  errors  conns  idle  cpu"
    yield f"        {first}  {columns}"
    for run in runs:
        login, me = run.login, run.me
        logins = (
            f"{login.rps:8.1f}  {_ms(login.p50_ms)}    {_ms(login.p99_ms)}"
            if login
            else (f"{'-':>8}  {'-':>7}    {'-':>7}")
        )
        me_part = f"{me.rps:6.1f}  {_ms(me.p50_ms)}  {_ms(me.p99_ms)}" if me else "-"
        step = f"{run.login_rate:g}" if run.login_rate else str(login.connections if login else 0)
        mark = "*" if me and me.p99_ms >= limit else " "
        yield (
            f"  {step:>7}  {logins}  {me_part}{mark} {_errors(login, me):>6}  "
            f"{run.new_connections:>5}  {run.busy_before:4.2f}  {run.cpu.brief()}"
        )
    yield f"  (* = me p99 >= {limit:.0f} ms)"
    for label, found in (
        ("Sustained (every step up to it passes)", report.sustained(runs)),
        ("Highest passing step (any)", report.best_passing(runs)),
    ):
        if found and found.login and found.me:
            yield (
                f"  {label}: {found.login.rps:.1f} logins/s (`{found.name}`), "
                f"me p99 {found.me.p99_ms:.1f} ms < {limit:.0f} ms"
            )
        else:
            yield f"  {label}: none (me p99 >= {limit:.0f} ms)"


# --------------------------------------------------------------------------- CLI


@contextmanager
def backends() -> Iterator[tuple[str, str]]:
    """(admin PostgreSQL URL, Redis URL): TEST_DB_URL/TEST_REDIS_URL, local, or embedded."""
    from tests.support import LOCAL_DB_URL, LOCAL_REDIS_URL, configured

    stops: list[Callable[[], None]] = []
    data_dir = Path(tempfile.mkdtemp(prefix="hom-perf-embedded-"))
    try:
        db = configured("TEST_DB_URL", LOCAL_DB_URL, 5432)
        redis = configured("TEST_REDIS_URL", LOCAL_REDIS_URL, 6379)
        if db is None or redis is None:
            from hom.core import embedded

            if db is None:
                service = embedded.start_embedded_postgres(data_dir)
                stops.append(service.stop)
                db = service.url
            if redis is None:
                service = embedded.start_embedded_redis(data_dir)
                stops.append(service.stop)
                redis = service.url
        yield db, redis
    finally:
        for stop in reversed(stops):
            stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part.strip())


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(part) for part in text.split(",") if part.strip())


def parse_options(argv: list[str] | None = None) -> tuple[Options, Path | None]:
    d = Options()
    parser = argparse.ArgumentParser(prog="python -m tests.perf.auth_bench", description=__doc__)
    parser.add_argument("--duration", type=float, default=d.duration, help="seconds per run")
    parser.add_argument("--warmup", type=float, default=d.warmup)
    parser.add_argument("--login-concurrency", type=_ints, default=d.login_concurrency)
    parser.add_argument("--steps", type=_ints, default=d.mixed_steps, help="mixed: login clients")
    parser.add_argument(
        "--login-rates", type=_floats, default=d.login_rates, help="paced: logins/s"
    )
    parser.add_argument("--max-login-connections", type=int, default=d.max_login_connections)
    parser.add_argument("--me-connections", type=int, default=d.me_connections)
    parser.add_argument("--background", type=int, default=d.background_connections)
    parser.add_argument(
        "--background-rate", type=float, default=d.background_rate, help="paced table (0: none)"
    )
    parser.add_argument("--users", type=int, default=d.users)
    parser.add_argument("--idle-wait", type=float, default=d.idle_wait)
    parser.add_argument("--p99-limit", type=float, default=d.p99_limit_ms)
    parser.add_argument("--httpx", action="store_true", help="load from httpx even with wrk")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    options = Options(
        duration=args.duration,
        warmup=args.warmup,
        login_concurrency=args.login_concurrency,
        mixed_steps=args.steps,
        me_connections=args.me_connections,
        background_connections=args.background,
        background_rate=args.background_rate,
        login_rates=args.login_rates,
        max_login_connections=args.max_login_connections,
        users=args.users,
        idle_wait=args.idle_wait,
        p99_limit_ms=args.p99_limit,
        use_wrk=d.use_wrk and not args.httpx,
    )
    return options, args.json


def main(argv: list[str] | None = None) -> None:
    options, json_path = parse_options(argv)
    with backends() as (admin_url, redis_url):
        report = asyncio.run(run_benchmark(admin_url, redis_url, options))
    print(report.render())
    if json_path:
        json_path.write_text(json.dumps(report.as_json(), indent=2))


if __name__ == "__main__":
    main()

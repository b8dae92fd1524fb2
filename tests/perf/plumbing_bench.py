"""The per-request cost of the plumbing: `{ __typename }` and `{ me { id } }` (bearer token)
against `hom serve --workers 2` on a fresh migrated database (issue #11).

    uv run python -m tests.perf.plumbing_bench                 # --help lists the options
    uv run python -m tests.perf.plumbing_bench --py-spy DIR    # also profile the workers

Each query is loaded by wrk (1 thread, 32 connections) after a warm-up, `--repeat` times
(the machine is noisy), and reported as req/s, p50/p99 and server / PostgreSQL CPU ms per
request. Settings for the server (DB_POOL_PRE_PING, …) come from this process's
environment. With `--py-spy DIR`, the first repetition of each query also records each
worker with py-spy (raw collapsed stacks, DIR/<query>-<pid>.txt; summarised by
`tests/perf/stacks.py`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.perf.auth_bench import backends
from tests.perf.catalog_bench import sign_in
from tests.perf.load import LoadResult, Target, run_load, wrk_available
from tests.perf.machine import CpuMeter, CpuUse, wait_for_idle
from tests.perf.server import (
    PASSWORD,
    RunningServer,
    delete_keys,
    fresh_database,
    hom_server,
    seed_users,
    sessions_opened,
)

QUERIES = {"typename": "{ __typename }", "me": "{ me { id } }"}


@dataclass(frozen=True)
class Options:
    queries: tuple[str, ...] = ("typename", "me")
    workers: int = 2
    connections: int = 32
    duration: float = 12.0
    warmup: float = 3.0
    repeat: int = 2
    idle_wait: float = 10.0
    py_spy: Path | None = None
    use_wrk: bool = field(default_factory=wrk_available)


@dataclass(frozen=True)
class Measured:
    query: str
    load: LoadResult
    cpu: CpuUse
    new_connections: int  # PostgreSQL connections the server opened during the run

    def ms_per_request(self, cores: float) -> float:
        return cores * 1000 / self.load.rps if self.load.rps else float("nan")

    def line(self) -> str:
        load = self.load
        return (
            f"{self.query:<9} {load.rps:8.0f} req/s  p50 {load.p50_ms:6.2f} ms  "
            f"p99 {load.p99_ms:6.2f} ms  errors {load.errors + load.status_errors:<3} "
            f"CPU ms/req srv {self.ms_per_request(self.cpu.server):.3f} "
            f"pg {self.ms_per_request(self.cpu.pg):.3f}  conns {self.new_connections}  "
            f"({self.cpu.brief()})"
        )


async def run_benchmark(admin_url: str, redis_url: str, options: Options) -> list[Measured]:
    prefix = f"hom_perf_{uuid.uuid4().hex[:12]}:"
    workdir = Path(tempfile.mkdtemp(prefix="hom-perf-"))
    try:
        async with fresh_database(admin_url) as (name, db_url):
            [email] = await seed_users(db_url, 1)
            async with hom_server(
                db_url, redis_url, prefix, workdir, workers=options.workers
            ) as server:
                token = await sign_in(server.base_url, email)
                return await _measure_all(server, admin_url, name, token, workdir, options)
    finally:
        await delete_keys(redis_url, prefix)
        shutil.rmtree(workdir, ignore_errors=True)


async def _measure_all(
    server: RunningServer,
    admin_url: str,
    database: str,
    token: str,
    workdir: Path,
    options: Options,
) -> list[Measured]:
    results = []
    for round_ in range(options.repeat):
        for query in options.queries:
            body = json.dumps({"query": QUERIES[query]})
            target = Target(server.base_url, token, workdir, PASSWORD, body)
            await run_load(target, "query", options.connections, options.warmup, options.use_wrk)
            profile = options.py_spy / query if options.py_spy and round_ == 0 else None
            measured = await _measure(server, admin_url, database, target, query, options, profile)
            print(measured.line(), flush=True)
            results.append(measured)
    return results


async def _measure(
    server: RunningServer,
    admin_url: str,
    database: str,
    target: Target,
    query: str,
    options: Options,
    profile: Path | None,
) -> Measured:
    await asyncio.to_thread(wait_for_idle, options.idle_wait)
    recorders = await _py_spy(server, profile, options.duration) if profile else []
    opened = await sessions_opened(admin_url, database)
    meter = CpuMeter(server.pgid, database)
    load = await run_load(target, "query", options.connections, options.duration, options.use_wrk)
    cpu = meter.stop()
    for recorder in recorders:
        await recorder.wait()
    await asyncio.sleep(1.5)  # closed connections have reported (see sessions_opened)
    opened = await sessions_opened(admin_url, database) - opened
    return Measured(query, load, cpu, opened)


async def _py_spy(
    server: RunningServer, prefix: Path, seconds: float
) -> list[asyncio.subprocess.Process]:
    """py-spy recording each worker (a child of `hom serve`) for `seconds`, into
    `<prefix>-<pid>.txt`: uvicorn's workers share one socket, and now and then one of them
    takes every connection."""
    prefix.parent.mkdir(parents=True, exist_ok=True)
    return [
        await asyncio.create_subprocess_exec(
            *("py-spy", "record", "--nonblocking", "--format", "raw", "--rate", "250"),
            *("--duration", str(round(seconds)), "--pid", str(worker)),
            *("--output", f"{prefix}-{worker}.txt"),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        for worker in _children(server.process.pid)
    ]


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[1]) == pid and "spawn_main" in _cmdline(stat.parent):
            found.append(int(stat.parent.name))
    return found


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def parse_options(argv: list[str] | None = None) -> Options:
    d = Options()
    prog = "python -m tests.perf.plumbing_bench"
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    parser.add_argument("--queries", default=",".join(d.queries), help="typename,me")
    parser.add_argument("--workers", type=int, default=d.workers)
    parser.add_argument("--connections", type=int, default=d.connections)
    parser.add_argument("--duration", type=float, default=d.duration)
    parser.add_argument("--warmup", type=float, default=d.warmup)
    parser.add_argument("--repeat", type=int, default=d.repeat)
    parser.add_argument("--idle-wait", type=float, default=d.idle_wait)
    parser.add_argument("--py-spy", type=Path, help="record the workers into this directory")
    args = parser.parse_args(argv)
    return Options(
        queries=tuple(q for q in args.queries.split(",") if q in QUERIES),
        workers=args.workers,
        connections=args.connections,
        duration=args.duration,
        warmup=args.warmup,
        repeat=args.repeat,
        idle_wait=args.idle_wait,
        py_spy=args.py_spy,
    )


def main(argv: list[str] | None = None) -> None:
    options = parse_options(argv)
    with backends() as (admin_url, redis_url):
        asyncio.run(run_benchmark(admin_url, redis_url, options))


if __name__ == "__main__":
    main()

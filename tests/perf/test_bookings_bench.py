"""The bookings benchmarks as pytest runs: `uv run pytest tests/perf/test_bookings_bench.py -s`.

Smoke runs by default (a few hundred products, 1 s of load per run, one round): they prove
the harness works end to end and that the loads get clean answers, not the figures.
HOM_PERF_DURATION, HOM_PERF_ROUNDS and HOM_PERF_PRODUCTS make them real runs (the
figures in docs/PERFORMANCE.md come from `python -m tests.perf.bookings_bench`). The data's
rules are checked without a server.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from itertools import islice, pairwise

import pytest

from tests.perf import bookings_data as data
from tests.perf.bookings_bench import Options, run_benchmark

pytestmark = pytest.mark.perf


def smoke(*parts: str) -> Options:
    return Options(
        products=int(os.environ.get("HOM_PERF_PRODUCTS", "200")),
        rounds=int(os.environ.get("HOM_PERF_ROUNDS", "1")),
        duration=float(os.environ.get("HOM_PERF_DURATION", "1")),
        warmup=0.5,
        idle_wait=0.0,
        count_requests=2,
        book_staff=3,
        parts=parts,
    )


def test_the_busy_staff_members_appointments_fit_their_week() -> None:
    first = date(2030, 3, 20)  # the range holds Berlin's spring clock change
    starts = data.appointment_starts(first, 300)
    away = data.time_off(first)
    assert len(set(starts)) == len(starts) == 300
    assert all(b - a >= timedelta(minutes=data.MINUTES) for a, b in pairwise(starts))
    for start in starts:
        assert start in data.places(start.date(), data.BUSY_WEEK, data.BERLIN)
        assert not data._clashes(start, away)
    last = datetime.combine(first, datetime.min.time(), tzinfo=data.BERLIN) + data.RANGE
    assert starts[-1] + timedelta(minutes=data.MINUTES) <= last
    with pytest.raises(ValueError, match="do not fit"):
        data.appointment_starts(first, 600)


def test_free_slots_go_round_the_staff_members() -> None:
    calendars = data.OpenCalendars(service_id=1, staff_ids=[7, 8], first=date(2030, 1, 1))
    six = list(islice(data.free_slots(calendars), 6))
    at = datetime(2030, 1, 1, 6, tzinfo=UTC)
    half = timedelta(minutes=30)
    assert [(staff, start.astimezone(UTC)) for staff, start in six] == [
        (7, at), (8, at), (7, at + half), (8, at + half), (7, at + 2 * half), (8, at + 2 * half),
    ]  # fmt: skip


async def test_slots_beside_the_catalog(admin_db_url: str, redis_url: str) -> None:
    report = await run_benchmark(admin_db_url, redis_url, smoke("slots"))
    print(report.render())
    assert report.slots_answered > 0
    assert {run.case for run in report.runs} == {"hom-catalog", "hom-slots"}
    assert all(run.load.requests > 0 and run.errors == 0 for run in report.runs)
    assert report.counts["hom-slots"].queries <= 4  # the slots read in three statements


async def test_concurrent_bookings_of_free_slots(admin_db_url: str, redis_url: str) -> None:
    report = await run_benchmark(admin_db_url, redis_url, smoke("book"))
    print(report.render())
    if report.booking_skipped:
        pytest.skip(report.booking_skipped)
    assert report.booking is not None
    assert report.booking.booked > 0
    assert report.booking.http.unexpected() == {}

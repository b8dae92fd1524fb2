"""Periodic jobs: one worker per tick, failures logged and retried, leases respected, stop heard."""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from datetime import datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text
from structlog.testing import capture_logs

from hom.core.db import sessions_once
from hom.core.periodic import (
    PeriodicJob,
    PeriodicScheduler,
    claim_tick,
    finish_tick,
    seconds_to_next_tick,
    worker_identity,
)
from hom.core.periodic_models import PeriodicJobState
from hom.core.unit_of_work import SessionMaker, unit_of_work

TICK = timedelta(milliseconds=200)
POLL = 0.01
# A safety net for a broken scheduler, not a measure of speed: the tests wait on counts.
PATIENCE = 20.0


@pytest.fixture
async def maker_a(db_url: str) -> AsyncIterator[SessionMaker]:
    async with sessions_once(db_url) as maker:
        yield maker


@pytest.fixture
async def maker_b(db_url: str) -> AsyncIterator[SessionMaker]:
    """A second worker's own engine on the same database."""
    async with sessions_once(db_url) as maker:
        yield maker


async def sql(maker: SessionMaker, statement: str, **params: Any) -> Any:
    """The first column of the first row (None for none), committed."""
    async with unit_of_work(maker) as session:
        result = await (await session.connection()).execute(text(statement), params)
        return result.scalar() if result.returns_rows else None


async def state(maker: SessionMaker, name: str) -> PeriodicJobState:
    async with maker() as session:
        found = await session.get(PeriodicJobState, name)
    assert found is not None
    return found


async def until(condition: Callable[[], Awaitable[bool]]) -> None:
    async with asyncio.timeout(PATIENCE):
        while True:
            if await condition():  # in the database: no event to wait on
                return
            await asyncio.sleep(POLL)


async def noop() -> None:
    pass


def runs_of(job: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "hom_periodic_job_runs_total", {"job": job, "outcome": outcome}
    )
    return value or 0.0


async def test_two_workers_run_each_tick_exactly_once(
    maker_a: SessionMaker, maker_b: SessionMaker
) -> None:
    name = "test.two_workers"
    runs: list[tuple[str, datetime, int]] = []

    def job_of(worker: str, maker: SessionMaker) -> PeriodicJob:
        async def run() -> None:
            # While this run holds the lease, the row shows the tick it claimed.
            row = await state(maker, name)
            runs.append((worker, row.next_run_at, row.run_count))

        return PeriodicJob(name, TICK, run)

    schedulers = [
        PeriodicScheduler(maker, [job_of(worker, maker)], worker_id=worker, poll_seconds=POLL)
        for worker, maker in (("a", maker_a), ("b", maker_b))
    ]
    stop = asyncio.Event()
    async with asyncio.TaskGroup() as group:
        for scheduler in schedulers:
            group.create_task(scheduler.run(stop))
        await until(lambda: _at_least(runs, 6))
        stop.set()

    ticks = [tick for _, tick, _ in runs]
    assert len(set(ticks)) == len(ticks), f"a tick ran twice: {runs}"
    assert [count for _, _, count in runs] == list(range(1, len(runs) + 1))
    assert (await state(maker_a, name)).run_count == len(runs)
    assert all((later - earlier) % TICK == timedelta(0) for earlier, later in _pairs(ticks))


async def _at_least(items: list[Any], count: int) -> bool:
    return len(items) >= count


def _pairs(items: list[datetime]) -> list[tuple[datetime, datetime]]:
    return list(itertools.pairwise(items))


async def test_of_many_simultaneous_claims_exactly_one_wins(
    maker_a: SessionMaker, maker_b: SessionMaker
) -> None:
    job = PeriodicJob("test.race", timedelta(hours=1), noop)
    claims = [
        claim_tick(maker, job, worker)
        for _ in range(5)
        for worker, maker in (("a", maker_a), ("b", maker_b))
    ]
    won = [claim for claim in await asyncio.gather(*claims) if claim is not None]
    assert len(won) == 1
    assert (await state(maker_a, job.name)).run_count == 1


async def test_a_failing_job_is_logged_recorded_and_retried_while_others_run(
    maker_a: SessionMaker,
) -> None:
    calls = {"test.broken": 0, "test.flaky": 0, "test.steady": 0}

    def job(name: str, fails: Callable[[int], bool]) -> PeriodicJob:
        async def run() -> None:
            calls[name] += 1
            if fails(calls[name]):
                raise RuntimeError("boom")

        return PeriodicJob(name, TICK, run)

    jobs = [
        job("test.broken", lambda _: True),
        job("test.flaky", lambda call: call == 1),
        job("test.steady", lambda _: False),
    ]
    scheduler = PeriodicScheduler(maker_a, jobs, worker_id="a", poll_seconds=POLL)
    stop = asyncio.Event()
    with capture_logs() as logs:
        task = asyncio.create_task(scheduler.run(stop))
        await until(lambda: _all_ran(calls, 3))
        stop.set()
        await task

    broken, flaky = await state(maker_a, "test.broken"), await state(maker_a, "test.flaky")
    assert broken.last_error == "RuntimeError: boom"
    assert broken.failure_count == broken.run_count == calls["test.broken"]
    assert (flaky.failure_count, flaky.last_error) == (1, None), "retried, and then it succeeded"
    assert (await state(maker_a, "test.steady")).failure_count == 0
    failures = [entry for entry in logs if entry["event"] == "periodic job failed"]
    assert [entry["job"] for entry in failures].count("test.broken") == calls["test.broken"]
    assert all(entry["log_level"] == "error" and entry["exc_info"] for entry in failures)
    assert runs_of("test.broken", "failed") == calls["test.broken"]
    assert runs_of("test.steady", "ok") == calls["test.steady"]


async def _all_ran(calls: dict[str, int], times: int) -> bool:
    return min(calls.values()) >= times


async def test_a_job_whose_lease_is_held_is_not_started_by_the_other_worker(
    maker_a: SessionMaker, maker_b: SessionMaker
) -> None:
    started, release = asyncio.Event(), asyncio.Event()

    async def long_run() -> None:
        started.set()
        await release.wait()

    job_a = PeriodicJob("test.long", TICK, long_run)
    job_b = PeriodicJob("test.long", TICK, noop)
    stop = asyncio.Event()
    task = asyncio.create_task(PeriodicScheduler(maker_a, [job_a], worker_id="a").run(stop))
    await started.wait()
    await until(lambda: _due(maker_b, job_b))

    assert await claim_tick(maker_b, job_b, "b") is None, "the tick is due but a holds the lease"
    assert (await state(maker_b, job_b.name)).running_by == "a"
    release.set()
    stop.set()
    await task
    finished = await state(maker_b, job_b.name)
    assert (finished.run_count, finished.running_by, finished.running_until) == (1, None, None)
    assert await claim_tick(maker_b, job_b, "b") is not None, "the overdue tick, once released"


async def _due(maker: SessionMaker, job: PeriodicJob) -> bool:
    seconds = await seconds_to_next_tick(maker, job)
    return seconds is not None and seconds <= 0


async def test_an_expired_lease_passes_to_another_worker_and_the_late_finish_is_ignored(
    maker_a: SessionMaker, maker_b: SessionMaker
) -> None:
    job = PeriodicJob("test.expiring", TICK, noop, lease=timedelta(milliseconds=300))
    lost = await claim_tick(maker_a, job, "a")
    assert lost is not None
    await until(lambda: _lease_expired(maker_b, job.name))

    taken = await claim_tick(maker_b, job, "b")
    assert taken is not None
    assert not await finish_tick(maker_a, job, "a", lost, error=None)
    assert (await state(maker_a, job.name)).running_by == "b"
    assert await finish_tick(maker_b, job, "b", taken, error=None)
    assert (await state(maker_a, job.name)).running_by is None


async def test_a_job_that_outlives_its_lease_says_so_and_leaves_the_new_holder_alone(
    maker_a: SessionMaker, maker_b: SessionMaker
) -> None:
    started, release = asyncio.Event(), asyncio.Event()

    async def slow() -> None:
        started.set()
        await release.wait()

    job = PeriodicJob("test.slow", TICK, slow, lease=timedelta(milliseconds=300))
    stop = asyncio.Event()
    with capture_logs() as logs:
        task = asyncio.create_task(PeriodicScheduler(maker_a, [job], worker_id="a").run(stop))
        await started.wait()
        await until(lambda: _lease_expired(maker_b, job.name))
        assert await claim_tick(maker_b, job, "b") is not None
        stop.set()
        release.set()
        await task
    assert (await state(maker_b, job.name)).running_by == "b"
    assert any(entry["event"] == "periodic job outlived its lease" for entry in logs)


async def _lease_expired(maker: SessionMaker, name: str) -> bool:
    expired = "SELECT running_until < now() AND next_run_at <= now() FROM periodic_job"
    return bool(await sql(maker, expired + " WHERE name = :n", n=name))


async def test_ticks_stay_on_the_grid_and_missed_ticks_are_skipped(maker_a: SessionMaker) -> None:
    job = PeriodicJob("test.grid", timedelta(hours=1), noop)
    first = await claim_tick(maker_a, job, "a")
    assert first is not None
    epoch_seconds = "SELECT extract(epoch FROM next_run_at) FROM periodic_job WHERE name = :n"
    assert await sql(maker_a, epoch_seconds, n=job.name) % 3600 == 0, "a new job starts on the grid"
    await finish_tick(maker_a, job, "a", first, error=None)
    # Scheduled at :17 past, and five ticks missed (the workers were down).
    hour = "date_bin(interval '1 hour', now(), TIMESTAMPTZ 'epoch')"
    missed = f"UPDATE periodic_job SET next_run_at = {hour} - interval '283 min'"
    await sql(maker_a, missed + " WHERE name = :n", n=job.name)

    second = await claim_tick(maker_a, job, "a")
    assert second is not None
    moved = await state(maker_a, job.name)
    assert (moved.next_run_at.minute, moved.next_run_at.second) == (17, 0), "the phase is kept"
    ahead = "SELECT next_run_at - now() FROM periodic_job WHERE name = :n"
    assert timedelta(0) < await sql(maker_a, ahead, n=job.name) <= job.interval
    await finish_tick(maker_a, job, "a", second, error=None)
    assert await claim_tick(maker_a, job, "a") is None, "the next tick is not due yet"
    assert moved.run_count == 2, "one run for the missed ticks, not a burst"


async def test_a_shortened_interval_applies_at_once(maker_a: SessionMaker) -> None:
    daily = PeriodicJob("test.shortened", timedelta(days=1), noop)
    claim = await claim_tick(maker_a, daily, "a")
    assert claim is not None
    await finish_tick(maker_a, daily, "a", claim, error=None)
    assert await claim_tick(maker_a, daily, "a") is None

    hourly = PeriodicJob(daily.name, timedelta(hours=1), noop)
    assert await claim_tick(maker_a, hourly, "a") is not None


async def test_stop_returns_promptly_and_lets_a_running_job_finish(maker_a: SessionMaker) -> None:
    started, release = asyncio.Event(), asyncio.Event()

    async def held() -> None:
        started.set()
        await release.wait()

    jobs = [
        PeriodicJob("test.held", timedelta(hours=1), held),
        PeriodicJob("test.idle", timedelta(hours=1), noop),
    ]
    stop = asyncio.Event()
    task = asyncio.create_task(PeriodicScheduler(maker_a, jobs, worker_id="a").run(stop))
    await started.wait()
    await until(lambda: _finished(maker_a, "test.idle"))
    stop.set()
    await asyncio.sleep(POLL)
    assert not task.done(), "the job in flight is not abandoned"

    release.set()
    await asyncio.wait_for(task, PATIENCE)
    assert (await state(maker_a, "test.held")).last_finished_at is not None


async def _finished(maker: SessionMaker, name: str) -> bool:
    finished = "SELECT last_finished_at IS NOT NULL FROM periodic_job WHERE name = :n"
    return bool(await sql(maker, finished, n=name))


async def test_an_unreachable_database_is_logged_and_retried_not_fatal(db_url: str) -> None:
    missing = db_url.rsplit("/", 1)[0] + "/hom_no_such_database"
    stop = asyncio.Event()
    with capture_logs() as logs:
        async with sessions_once(missing) as maker:
            jobs = [PeriodicJob("test.unreachable", TICK, noop)]
            scheduler = PeriodicScheduler(maker, jobs, worker_id="a", poll_seconds=POLL)
            task = asyncio.create_task(scheduler.run(stop))
            await until(lambda: _logged(logs, "periodic job tick could not be claimed", 2))
            stop.set()
            await task
    assert runs_of("test.unreachable", "ok") == 0


async def _logged(logs: list[MutableMapping[str, Any]], event: str, times: int) -> bool:
    return sum(str(entry["event"]).startswith(event) for entry in logs) >= times


async def test_without_jobs_run_waits_for_stop(maker_a: SessionMaker) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(PeriodicScheduler(maker_a, [], worker_id="a").run(stop))
    await asyncio.sleep(POLL)
    assert not task.done()
    stop.set()
    await asyncio.wait_for(task, PATIENCE)


async def test_job_names_are_unique_and_intervals_positive(maker_a: SessionMaker) -> None:
    job = PeriodicJob("test.twice", TICK, noop)
    with pytest.raises(ValueError, match="unique"):
        PeriodicScheduler(maker_a, [job, job], worker_id="a")
    with pytest.raises(ValueError, match="positive"):
        PeriodicJob("test.never", timedelta(0), noop)
    assert worker_identity().endswith(f":{os.getpid()}")

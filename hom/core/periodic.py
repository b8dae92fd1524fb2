"""Periodic jobs: each tick of a job runs on exactly one worker, and the database decides which.

A worker claims a due tick with one conditional upsert on the job's `periodic_job` row (a new
job's row is created by its first claim). The claim moves `next_run_at` to the next tick on the
interval's grid (missed ticks are skipped, not run in a burst) and takes a lease until
`now() + lease`; any other claim of that row matches nothing until the tick after it is due and
the lease is released or has expired. Time is the database's `now()`, so the workers' clocks
need not agree.

The lease is `max(interval, 5 minutes)` unless the job sets its own. A worker that dies mid-job
holds the job until its lease expires; a job that runs longer than its lease may be started by
another worker meanwhile, so a job must stay shorter than its lease (its finish is then not
recorded: the lease is no longer its own). A job that fails is logged and recorded, and runs
again at its next tick; nothing a job raises (short of cancellation) leaves `run()`.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import CursorResult, TextClause, text
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.core.metrics import PERIODIC_JOB_DURATION, PERIODIC_JOB_RUNS
from hom.core.unit_of_work import SessionMaker, unit_of_work
from hom.core.waiting import sleep_unless_set

log = structlog.get_logger("hom.periodic")

MIN_LEASE = timedelta(minutes=5)
MAX_NAME = 128
MAX_WORKER_ID = 64
MAX_ERROR = 2000

# A stored tick later than one interval from now was scheduled with a longer interval than the
# job has now: it is claimable at once, so a shortened interval takes effect without waiting.
CLAIM = text("""
INSERT INTO periodic_job AS job
    (name, next_run_at, running_until, running_by, last_started_at, run_count)
VALUES (
    :name,
    date_bin(CAST(:interval AS interval), now(), TIMESTAMPTZ 'epoch') + CAST(:interval AS interval),
    now() + CAST(:lease AS interval), :worker_id, now(), 1
)
ON CONFLICT (name) DO UPDATE SET
    next_run_at = date_bin(CAST(:interval AS interval), now(), job.next_run_at)
        + CAST(:interval AS interval),
    running_until = excluded.running_until,
    running_by = excluded.running_by,
    last_started_at = excluded.last_started_at,
    run_count = job.run_count + 1
WHERE (job.next_run_at <= now() OR job.next_run_at > now() + CAST(:interval AS interval))
    AND (job.running_until IS NULL OR job.running_until <= now())
RETURNING job.last_started_at, CAST(extract(epoch FROM job.next_run_at - now()) AS float8)
""")

FINISH = text("""
UPDATE periodic_job
SET running_until = NULL, running_by = NULL, last_finished_at = now(),
    last_error = :error, failure_count = failure_count + :failed
WHERE name = :name AND running_by = :worker_id AND last_started_at = :started_at
""")

UNTIL_NEXT_TICK = text("""
SELECT CAST(extract(epoch FROM next_run_at - now()) AS float8) FROM periodic_job
WHERE name = :name
""")


@dataclass(frozen=True)
class PeriodicJob:
    """A job run every `interval`, on one worker at a time; `run` binds what it needs itself."""

    name: str
    interval: timedelta
    run: Callable[[], Awaitable[None]]
    lease: timedelta | None = None

    def __post_init__(self) -> None:
        if not 0 < len(self.name) <= MAX_NAME:
            raise ValueError(f"a periodic job's name has 1 to {MAX_NAME} characters: {self.name!r}")
        if self.interval <= timedelta(0):
            raise ValueError(f"periodic job {self.name}: the interval must be positive")

    @property
    def lease_time(self) -> timedelta:
        return self.lease or max(self.interval, MIN_LEASE)


@dataclass(frozen=True)
class Claim:
    """A tick this worker holds: when it started (the lease's token) and the next tick's time."""

    started_at: datetime
    next_tick: float  # on the event loop's clock


def worker_identity() -> str:
    """`host:pid`, to tell the workers apart in `periodic_job.running_by`."""
    return f"{socket.gethostname()}:{os.getpid()}"[-MAX_WORKER_ID:]


async def claim_tick(session_maker: SessionMaker, job: PeriodicJob, worker_id: str) -> Claim | None:
    """Take the due tick and its lease; None when it is not due or another worker runs the job."""
    params = {
        "name": job.name,
        "interval": job.interval,
        "lease": job.lease_time,
        "worker_id": worker_id,
    }
    async with unit_of_work(session_maker) as session:
        row = (await _execute(session, CLAIM, params)).one_or_none()
    if row is None:
        return None
    return Claim(started_at=row[0], next_tick=_loop_time_in(row[1]))


async def finish_tick(
    session_maker: SessionMaker, job: PeriodicJob, worker_id: str, claim: Claim, error: str | None
) -> bool:
    """Release the lease and record the outcome; False when the lease was no longer ours."""
    params = {
        "name": job.name,
        "worker_id": worker_id,
        "started_at": claim.started_at,
        "error": error,
        "failed": int(error is not None),
    }
    async with unit_of_work(session_maker) as session:
        result = await _execute(session, FINISH, params)
    return result.rowcount == 1


async def seconds_to_next_tick(session_maker: SessionMaker, job: PeriodicJob) -> float | None:
    """How long until the job's next tick is due (negative when overdue), None if never claimed."""
    async with session_maker() as session:
        seconds = (await _execute(session, UNTIL_NEXT_TICK, {"name": job.name})).scalar()
    return None if seconds is None else float(seconds)


class PeriodicScheduler:
    """Runs each job at its ticks, on whichever worker claims the tick first."""

    def __init__(
        self,
        session_maker: SessionMaker,
        jobs: Sequence[PeriodicJob],
        *,
        worker_id: str,
        poll_seconds: float = 1.0,
    ) -> None:
        names = [job.name for job in jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"periodic job names must be unique: {sorted(names)}")
        if not 0 < len(worker_id) <= MAX_WORKER_ID:
            raise ValueError(f"a worker id has 1 to {MAX_WORKER_ID} characters")
        self._session_maker = session_maker
        self._jobs = tuple(jobs)
        self._worker_id = worker_id
        self._poll_seconds = poll_seconds

    async def run(self, stop: asyncio.Event) -> None:
        """Run the jobs until `stop` is set; a job already running finishes first."""
        if not self._jobs:
            await stop.wait()
        async with asyncio.TaskGroup() as group:
            for job in self._jobs:
                group.create_task(self._job_loop(job, stop), name=f"periodic:{job.name}")

    async def _job_loop(self, job: PeriodicJob, stop: asyncio.Event) -> None:
        while not stop.is_set():
            next_try = await self._tick(job)
            await sleep_unless_set(stop, next_try - _loop_time())

    async def _tick(self, job: PeriodicJob) -> float:
        """Run the job if this worker gets its tick; when to try again (on the loop's clock)."""
        try:
            claim = await claim_tick(self._session_maker, job, self._worker_id)
            if claim is None:
                return await self._next_try(job)
            await self._run_claimed(job, claim)
            return claim.next_tick
        except Exception:
            log.exception("periodic job tick could not be claimed or recorded", job=job.name)
            return _loop_time() + self._poll_seconds

    async def _next_try(self, job: PeriodicJob) -> float:
        seconds = await seconds_to_next_tick(self._session_maker, job)
        if seconds is None or seconds <= 0:  # due, but another worker holds the lease
            seconds = self._poll_seconds
        return _loop_time() + min(seconds, job.interval.total_seconds())

    async def _run_claimed(self, job: PeriodicJob, claim: Claim) -> None:
        started = time.perf_counter()
        error = await _run_logged(job, self._worker_id)
        PERIODIC_JOB_DURATION.labels(job.name).observe(time.perf_counter() - started)
        PERIODIC_JOB_RUNS.labels(job.name, "ok" if error is None else "failed").inc()
        if not await finish_tick(self._session_maker, job, self._worker_id, claim, error):
            log.warning("periodic job outlived its lease", job=job.name, lease=str(job.lease_time))


async def _run_logged(job: PeriodicJob, worker_id: str) -> str | None:
    """Run the job once: None when it succeeded, else its error, logged."""
    try:
        await job.run()
    except Exception as error:
        log.exception("periodic job failed", job=job.name, worker_id=worker_id)
        return f"{type(error).__name__}: {error}"[:MAX_ERROR]
    return None


async def _execute(
    session: AsyncSession, statement: TextClause, params: dict[str, Any]
) -> CursorResult[*tuple[Any, ...]]:
    connection = await session.connection()
    return await connection.execute(statement, params)


def _loop_time() -> float:
    return asyncio.get_running_loop().time()


def _loop_time_in(seconds: float) -> float:
    return _loop_time() + seconds

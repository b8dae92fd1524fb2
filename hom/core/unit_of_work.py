"""One unit of work for requests, the worker, the CLI and tests.

A block of work commits when it succeeds and rolls back on any error. Work that
must only happen once the outcome is known (mail, pub/sub, Redis sessions,
files) is registered on the session and runs after the commit (or after the
rollback). Such work failing once the data is committed is logged, not raised:
the change it follows has happened and must be reported as such.
"""

from __future__ import annotations

import asyncio
import inspect
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

AfterWork = Callable[[], Awaitable[object] | object]
SessionMaker = async_sessionmaker[AsyncSession]
_AFTER_COMMIT = "hom_after_commit"
_AFTER_ROLLBACK = "hom_after_rollback"
log = structlog.get_logger("hom.unit_of_work")
T = TypeVar("T")
# Deadlock detected, serialization failure: PostgreSQL asks for the work to be run again.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
RETRY_ATTEMPTS = 5


def after_commit(session: AsyncSession, work: AfterWork) -> None:
    """Run `work` once the session's transaction has committed (never if it rolls back)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(work)


def after_rollback(session: AsyncSession, work: AfterWork) -> None:
    """Run `work` if the session's transaction rolls back (undo what the database cannot)."""
    session.info.setdefault(_AFTER_ROLLBACK, []).append(work)


@asynccontextmanager
async def transaction(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """Commit when the block succeeds, roll back on any error, then run the outcome's hooks."""
    try:
        yield session
        await session.commit()
    except BaseException:
        await session.rollback()
        await _run_hooks(session, _AFTER_ROLLBACK, dropped=_AFTER_COMMIT)
        raise
    await _run_hooks(session, _AFTER_COMMIT, dropped=_AFTER_ROLLBACK)


@asynccontextmanager
async def unit_of_work(session_maker: SessionMaker) -> AsyncIterator[AsyncSession]:
    """A new session in one transaction (the worker, the CLI, tests)."""
    async with session_maker() as session, transaction(session):
        yield session


async def _run_hooks(session: AsyncSession, outcome: str, dropped: str) -> None:
    session.info.pop(dropped, None)
    for work in session.info.pop(outcome, []):
        try:
            result = work()
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception(f"{outcome.removeprefix('hom_')} work failed", work=_name(work))


def _name(work: AfterWork) -> str:
    return getattr(work, "__qualname__", type(work).__name__)


def asks_for_retry(error: BaseException) -> bool:
    """PostgreSQL gave up on the statement and asks for the work to be run again."""
    if not isinstance(error, DBAPIError):
        return False
    sqlstate = getattr(error.orig, "sqlstate", None)
    sqlstate = sqlstate or getattr(getattr(error.orig, "__cause__", None), "sqlstate", None)
    return sqlstate in RETRYABLE_SQLSTATES


async def retried(
    session: AsyncSession, work: Callable[[], Awaitable[T]], *, attempts: int = RETRY_ATTEMPTS
) -> T:
    """Run `work` in the caller's transaction; when PostgreSQL aborts it with a deadlock or
    a serialization failure, undo it (which lets go of the locks it took) and run it again,
    up to `attempts` times, after a short random pause. Any other error leaves as it came.

    When the transaction has not started yet, `work` is all of it: a failed attempt rolls
    the whole transaction back, and no savepoint is needed (two round trips fewer). Else
    `work` runs in a savepoint, so what came before it stays. Either way, the hooks a
    failed attempt registered (`after_commit`, `after_rollback`) are dropped with it."""
    for attempt in range(1, attempts + 1):
        hooks = _hook_counts(session)
        try:
            if session.in_transaction():
                async with session.begin_nested():
                    return await work()
            try:
                return await work()
            except DBAPIError as error:
                if asks_for_retry(error):
                    await session.rollback()
                raise
        except DBAPIError as error:
            if attempt == attempts or not asks_for_retry(error):
                raise
            _drop_hooks_since(session, hooks)
            log.info("work retried", attempt=attempt, sqlstate=_sqlstate(error))
            await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))  # noqa: S311
    raise AssertionError("unreachable")


def _hook_counts(session: AsyncSession) -> dict[str, int]:
    return {name: len(session.info.get(name, ())) for name in (_AFTER_COMMIT, _AFTER_ROLLBACK)}


def _drop_hooks_since(session: AsyncSession, counts: dict[str, int]) -> None:
    for name, count in counts.items():
        if name in session.info:
            del session.info[name][count:]


def _sqlstate(error: DBAPIError) -> str | None:
    return getattr(error.orig, "sqlstate", None)

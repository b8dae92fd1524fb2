"""One unit of work for requests, the worker, the CLI and tests.

A block of work commits when it succeeds and rolls back on any error. Work that
must only happen once the outcome is known (mail, pub/sub, Redis sessions,
files) is registered on the session and runs after the commit (or after the
rollback). Such work failing once the data is committed is logged, not raised:
the change it follows has happened and must be reported as such.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import structlog
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

AfterWork = Callable[[], Awaitable[object] | object]
SessionMaker = async_sessionmaker[AsyncSession]
_AFTER_COMMIT = "hom_after_commit"
_AFTER_ROLLBACK = "hom_after_rollback"
log = structlog.get_logger("hom.unit_of_work")


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

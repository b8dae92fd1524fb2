"""`retried`: a deadlock PostgreSQL breaks is run again, inside the caller's
transaction (all of it when the work is all of it, else from a savepoint), and never
reaches the caller; other errors pass through untouched."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.core.config import Settings
from hom.core.db import create_engine, create_session_maker
from hom.core.unit_of_work import (
    SessionMaker,
    after_commit,
    asks_for_retry,
    retried,
    unit_of_work,
)


@pytest.fixture
async def maker(settings: Settings) -> AsyncIterator[SessionMaker]:
    engine: AsyncEngine = create_engine(settings)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE retry_probe (id int PRIMARY KEY, n int)"))
        await connection.execute(
            text("INSERT INTO retry_probe VALUES (1, 0), (2, 0), (3, 0), (4, 0)")
        )
    yield create_session_maker(engine)
    async with engine.begin() as connection:
        await connection.execute(text("DROP TABLE retry_probe"))
    await engine.dispose()


async def run(session: AsyncSession, sql: str, **params: object) -> list[tuple[object, ...]]:
    connection = await session.connection()
    result = await connection.execute(text(sql), params)
    return [tuple(row) for row in result.all()] if result.returns_rows else []


async def bump(session: AsyncSession, row: int) -> None:
    await run(session, "UPDATE retry_probe SET n = n + 1 WHERE id = :id", id=row)


async def cross(maker: SessionMaker, *, before: bool) -> tuple[dict[int, int], list[str]]:
    """Two transactions lock rows 1 and 2 in opposite orders inside `retried` (PostgreSQL
    finds the deadlock after `deadlock_timeout`, 1 s by default); with `before`, each first
    bumps row 3 or 4 outside the retried work. Returns the attempts per side and the
    after-commit hooks that ran."""
    locked = {1: asyncio.Event(), 2: asyncio.Event()}
    attempts = {1: 0, 2: 0}
    ran: list[str] = []

    async def crossing(first: int, second: int) -> None:
        async with unit_of_work(maker) as session:
            if before:
                await bump(session, first + 2)

            async def work() -> None:
                attempts[first] += 1
                after_commit(session, lambda: ran.append(f"{first}#{attempts[first]}"))
                await bump(session, first)
                locked[first].set()
                await locked[second].wait()
                await bump(session, second)

            await retried(session, work)

    await asyncio.wait_for(asyncio.gather(crossing(1, 2), crossing(2, 1)), timeout=30)
    return attempts, ran


@pytest.mark.parametrize("before", [False, True], ids=["whole transaction", "savepoint"])
async def test_a_deadlock_is_retried_and_both_sides_finish(
    maker: SessionMaker, before: bool
) -> None:
    attempts, ran = await cross(maker, before=before)

    assert sorted(attempts.values()) == [1, 2]  # one side was chosen as the victim, once
    async with unit_of_work(maker) as session:
        rows = await run(session, "SELECT id, n FROM retry_probe ORDER BY id")
    # each side's work counted once, and what came before it kept
    assert dict(rows) == {1: 2, 2: 2, 3: int(before), 4: int(before)}
    # the victim's failed attempt took its hook with it
    victim = 1 if attempts[1] == 2 else 2
    assert sorted(ran) == sorted([f"{3 - victim}#1", f"{victim}#2"])


async def test_work_that_is_the_whole_transaction_takes_no_savepoint(
    maker: SessionMaker,
) -> None:
    async with unit_of_work(maker) as session:

        async def work() -> list[tuple[object, ...]]:
            return await run(session, "SELECT count(*) FROM pg_stat_activity")

        await retried(session, work)
        assert session.get_nested_transaction() is None
        await bump(session, 1)

        async def nested() -> object:
            return session.get_nested_transaction()

        assert await retried(session, nested) is not None


async def test_other_errors_are_not_retried(maker: SessionMaker) -> None:
    calls = 0

    async def work() -> None:
        nonlocal calls
        calls += 1
        await run(session, "INSERT INTO retry_probe VALUES (1, 0)")

    with pytest.raises(IntegrityError):
        async with unit_of_work(maker) as session:
            await retried(session, work)
    assert calls == 1


class Aborted(Exception):
    sqlstate = "40P01"


async def test_retries_are_bounded(maker: SessionMaker) -> None:
    calls = 0

    async def work() -> None:
        nonlocal calls
        calls += 1
        raise DBAPIError("UPDATE …", {}, Aborted())

    with pytest.raises(DBAPIError):
        async with unit_of_work(maker) as session:
            await retried(session, work, attempts=3)
    assert calls == 3


def test_only_deadlocks_and_serialization_failures_ask_for_a_retry() -> None:
    class Refused(Exception):
        sqlstate = "23505"

    assert asks_for_retry(DBAPIError("x", {}, Aborted()))
    assert not asks_for_retry(DBAPIError("x", {}, Refused()))
    assert not asks_for_retry(ValueError("40P01"))

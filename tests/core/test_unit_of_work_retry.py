"""`retried_in_savepoint`: a deadlock PostgreSQL breaks is run again, inside the caller's
transaction, and never reaches the caller; other errors pass through untouched."""

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
    asks_for_retry,
    retried_in_savepoint,
    unit_of_work,
)


@pytest.fixture
async def maker(settings: Settings) -> AsyncIterator[SessionMaker]:
    engine: AsyncEngine = create_engine(settings)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE retry_probe (id int PRIMARY KEY, n int)"))
        await connection.execute(text("INSERT INTO retry_probe VALUES (1, 0), (2, 0)"))
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


async def test_a_deadlock_is_retried_and_both_sides_finish(maker: SessionMaker) -> None:
    locked = {1: asyncio.Event(), 2: asyncio.Event()}
    attempts = {1: 0, 2: 0}

    async def crossing(first: int, second: int) -> None:
        """Lock `first`, wait until the other side holds `second`, then want it too
        (PostgreSQL finds the deadlock after `deadlock_timeout`, 1 s by default)."""
        async with unit_of_work(maker) as session:

            async def work() -> None:
                attempts[first] += 1
                await bump(session, first)
                locked[first].set()
                await locked[second].wait()
                await bump(session, second)

            await retried_in_savepoint(session, work)

    await asyncio.wait_for(asyncio.gather(crossing(1, 2), crossing(2, 1)), timeout=30)

    assert sorted(attempts.values()) == [1, 2]  # one side was chosen as the victim, once
    async with unit_of_work(maker) as session:
        rows = await run(session, "SELECT n FROM retry_probe ORDER BY id")
    assert [n for (n,) in rows] == [2, 2]  # each side's work counted once


async def test_other_errors_are_not_retried(maker: SessionMaker) -> None:
    calls = 0

    async def work() -> None:
        nonlocal calls
        calls += 1
        await run(session, "INSERT INTO retry_probe VALUES (1, 0)")

    with pytest.raises(IntegrityError):
        async with unit_of_work(maker) as session:
            await retried_in_savepoint(session, work)
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
            await retried_in_savepoint(session, work, attempts=3)
    assert calls == 3


def test_only_deadlocks_and_serialization_failures_ask_for_a_retry() -> None:
    class Refused(Exception):
        sqlstate = "23505"

    assert asks_for_retry(DBAPIError("x", {}, Aborted()))
    assert not asks_for_retry(DBAPIError("x", {}, Refused()))
    assert not asks_for_retry(ValueError("40P01"))

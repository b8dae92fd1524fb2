"""The per-request database handle: lazy, one connection, explicit transactions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from hom.core.config import Settings
from hom.core.db import (
    NAMING_CONVENTION,
    RequestDatabase,
    SessionReentered,
    create_engine,
    create_session_maker,
)
from tests.support import GraphQLClient


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE IF NOT EXISTS tx_probe (n int)"))
        await connection.execute(text("TRUNCATE tx_probe"))
    yield engine
    async with engine.begin() as connection:
        await connection.execute(text("DROP TABLE tx_probe"))
    await engine.dispose()


def count_checkouts(engine: AsyncEngine) -> list[int]:
    checkouts: list[int] = []
    event.listen(engine.sync_engine.pool, "checkout", lambda *args: checkouts.append(1))
    return checkouts


async def probe_rows(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT count(*) FROM tx_probe"))).scalar_one())


async def test_untouched_request_checks_out_no_connection(engine: AsyncEngine) -> None:
    checkouts = count_checkouts(engine)
    db = RequestDatabase(create_session_maker(engine))
    async with db.session():
        pass
    await db.close()
    assert checkouts == []


async def test_concurrent_reads_share_one_connection(engine: AsyncEngine) -> None:
    checkouts = count_checkouts(engine)
    db = RequestDatabase(create_session_maker(engine))

    async def read(n: int) -> int:
        async with db.session() as session:
            return int((await session.exec(text(f"SELECT {n}"))).scalar_one())

    assert await asyncio.gather(*(read(n) for n in range(10))) == list(range(10))
    await db.close()
    assert len(checkouts) == 1


async def test_transaction_commits_on_success(engine: AsyncEngine) -> None:
    db = RequestDatabase(create_session_maker(engine))
    async with db.transaction() as session:
        await session.exec(text("INSERT INTO tx_probe VALUES (1)"))
    await db.close()
    assert await probe_rows(engine) == 1


async def test_transaction_rolls_back_on_error(engine: AsyncEngine) -> None:
    db = RequestDatabase(create_session_maker(engine))

    async def insert_then_fail() -> None:
        async with db.transaction() as session:
            await session.exec(text("INSERT INTO tx_probe VALUES (2)"))
            raise RuntimeError("rule broken")

    with pytest.raises(RuntimeError):
        await insert_then_fail()
    await db.close()
    assert await probe_rows(engine) == 0


async def test_graphql_request_without_database_fields_takes_no_connection(
    gql: GraphQLClient, app: object
) -> None:
    engine = app.state.services.engine  # type: ignore[attr-defined]
    checkouts = count_checkouts(engine)
    body = await gql("{ serverInfo { version } }")
    assert body["data"]["serverInfo"]["version"]
    assert checkouts == []


def test_constraint_names_follow_the_convention() -> None:
    assert NAMING_CONVENTION["uq"] == "uq_%(table_name)s_%(column_0_N_name)s"
    assert set(NAMING_CONVENTION) == {"ix", "uq", "ck", "fk", "pk"}


async def test_entering_the_session_twice_raises_instead_of_hanging(engine: AsyncEngine) -> None:
    db = RequestDatabase(create_session_maker(engine))
    async with db.session():
        with pytest.raises(SessionReentered, match="would wait for that block forever"):
            async with db.session():
                pass
    async with db.transaction():  # and the handle is still usable
        pass
    await db.close()


async def test_work_started_inside_the_block_cannot_take_the_session(engine: AsyncEngine) -> None:
    db = RequestDatabase(create_session_maker(engine))

    async def read() -> int:
        async with db.session() as session:
            return int((await session.exec(text("SELECT 1"))).scalar_one())

    async with db.session():
        inner = asyncio.ensure_future(read())
        with pytest.raises(SessionReentered):
            await asyncio.wait_for(inner, timeout=30)
    assert await read() == 1
    await db.close()


async def test_closing_after_the_connection_died_gives_it_up_quietly(engine: AsyncEngine) -> None:
    """A statement cancelled mid-flight (a sibling field failed) closes its connection;
    the request still ends cleanly, and the pool hands out a live one next."""
    db = RequestDatabase(create_session_maker(engine))
    async with db.session() as session:
        await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        raw = await (await session.connection()).get_raw_connection()
        raw.driver_connection.terminate()
    await db.close()
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT 2"))).scalar_one() == 2

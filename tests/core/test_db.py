"""The per-request database handle: lazy, one connection, explicit transactions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from hom.accounts.models import User
from hom.core.config import Settings
from hom.core.db import (
    NAMING_CONVENTION,
    RequestDatabase,
    SessionMaker,
    SessionReentered,
    create_engine,
    create_session_maker,
)
from tests.factories import create_user
from tests.support import GraphQLClient, count_driver_statements


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


async def test_concurrent_reads_take_one_connection_at_a_time(engine: AsyncEngine) -> None:
    held, most = [0], [0]

    def checkout(*args: object) -> None:
        held[0] += 1
        most[0] = max(most[0], held[0])

    def checkin(*args: object) -> None:
        held[0] -= 1

    event.listen(engine.sync_engine.pool, "checkout", checkout)
    event.listen(engine.sync_engine.pool, "checkin", checkin)
    db = RequestDatabase(create_session_maker(engine))
    assert await asyncio.gather(*(read_one(db, n) for n in range(10))) == list(range(10))
    assert held == [0]  # each read block gave its connection back
    await db.close()
    assert most == [1]


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


async def test_a_read_cancelled_mid_statement_leaves_the_next_read_working(
    engine: AsyncEngine,
) -> None:
    """A root field cancelled while its statement runs (a sibling non-null field failed)
    must not leave the request's session in a transaction no one can roll back."""
    db = RequestDatabase(create_session_maker(engine))
    await read_one(db, 1)

    async def slow() -> None:
        async with db.session() as session:
            await session.exec(text("SELECT pg_sleep(5)"))  # type: ignore[call-overload]

    task = asyncio.create_task(slow())
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await read_one(db, 2) == 2
    await db.close()


async def read_one(db: RequestDatabase, n: int) -> int:
    async with db.session() as session:
        return int((await session.exec(text(f"SELECT {n}"))).scalar_one())


async def test_reads_send_no_begin_or_rollback(engine: AsyncEngine) -> None:
    db = RequestDatabase(create_session_maker(engine))
    with count_driver_statements(engine) as log:
        assert [await read_one(db, 1), await read_one(db, 2)] == [1, 2]
        await db.close()
    assert log.statements == []


async def test_a_transaction_after_reads_is_a_real_one(engine: AsyncEngine) -> None:
    db = RequestDatabase(create_session_maker(engine))
    with count_driver_statements(engine) as log:
        await read_one(db, 1)
        async with db.transaction() as session:
            await session.exec(text("INSERT INTO tx_probe VALUES (3)"))
        await read_one(db, 2)
        await db.close()
    control = [statement.split()[0].rstrip(";").upper() for statement in log.statements]
    assert control == ["BEGIN", "COMMIT"]
    assert await probe_rows(engine) == 1


async def test_a_transaction_after_reads_still_rolls_back(engine: AsyncEngine) -> None:
    db = RequestDatabase(create_session_maker(engine))
    await read_one(db, 1)

    async def insert_then_fail() -> None:
        async with db.transaction() as session:
            await session.exec(text("INSERT INTO tx_probe VALUES (4)"))
            raise RuntimeError("rule broken")

    with pytest.raises(RuntimeError):
        await insert_then_fail()
    await db.close()
    assert await probe_rows(engine) == 0


async def test_rows_read_before_a_transaction_stay_in_the_session(
    engine: AsyncEngine, session_maker: SessionMaker
) -> None:
    user = await create_user(session_maker, full_name="Before")
    db = RequestDatabase(create_session_maker(engine))
    async with db.session() as session:
        read = await session.get(User, user.id)
    async with db.transaction() as session:
        changed = await session.get(User, user.id)
        assert changed is read  # one identity map: the transaction changes what was read
        changed.full_name = "After"
    assert read is not None
    assert read.full_name == "After"
    await db.close()

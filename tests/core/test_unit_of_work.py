"""One unit of work: commit or roll back, then the outcome's hooks; failing hooks are logged."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from structlog.testing import capture_logs

from hom.audit.models import AuditEntry
from hom.core.config import Settings
from hom.core.db import create_engine, create_session_maker
from hom.core.roles import Role
from hom.core.unit_of_work import SessionMaker, after_commit, after_rollback, unit_of_work
from tests.factories import signed_in
from tests.support import GraphQLClient


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings)
    async with engine.begin() as connection:
        await connection.execute(
            text("CREATE TABLE uow_probe (n int UNIQUE DEFERRABLE INITIALLY DEFERRED)")
        )
    yield engine
    async with engine.begin() as connection:
        await connection.execute(text("DROP TABLE uow_probe"))
    await engine.dispose()


@pytest.fixture
def maker(engine: AsyncEngine) -> SessionMaker:
    return create_session_maker(engine)


async def rows(maker: SessionMaker) -> list[int]:
    async with maker() as session:
        result = await session.exec(text("SELECT n FROM uow_probe ORDER BY n"))
        return [int(n) for n in result.scalars()]


class Refused(Exception):
    pass


async def test_commit_runs_the_commit_hooks_in_order(maker: SessionMaker) -> None:
    ran: list[str] = []

    async def note(what: str) -> None:
        ran.append(what)

    async with unit_of_work(maker) as session:
        await session.exec(text("INSERT INTO uow_probe VALUES (1)"))
        after_commit(session, lambda: note("async"))
        after_commit(session, lambda: ran.append("sync"))
        after_rollback(session, lambda: ran.append("rolled back"))
        assert ran == []
    assert ran == ["async", "sync"]
    assert await rows(maker) == [1]


async def test_rollback_runs_only_the_rollback_hooks(maker: SessionMaker) -> None:
    ran: list[str] = []

    async def refused_work() -> None:
        async with unit_of_work(maker) as session:
            await session.exec(text("INSERT INTO uow_probe VALUES (2)"))
            after_commit(session, lambda: ran.append("committed"))
            after_rollback(session, lambda: ran.append("rolled back"))
            raise Refused

    with pytest.raises(Refused):
        await refused_work()
    assert ran == ["rolled back"]
    assert await rows(maker) == []


async def test_a_failing_commit_hook_is_logged_and_the_work_stands(maker: SessionMaker) -> None:
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("mail server on fire")

    with capture_logs() as logs:
        async with unit_of_work(maker) as session:
            await session.exec(text("INSERT INTO uow_probe VALUES (3)"))
            after_commit(session, broken)
            after_commit(session, lambda: ran.append("next hook"))
    assert await rows(maker) == [3]
    assert ran == ["next hook"], "one failing hook does not stop the others"
    (failure,) = [log for log in logs if log["log_level"] == "error"]
    assert failure["event"] == "after_commit work failed"
    assert "broken" in failure["work"]


async def test_a_refused_commit_runs_the_rollback_hooks(maker: SessionMaker) -> None:
    ran: list[str] = []

    async def work_refused_at_commit() -> None:
        async with unit_of_work(maker) as session:
            after_commit(session, lambda: ran.append("committed"))
            after_rollback(session, lambda: ran.append("rolled back"))
            await session.exec(text("INSERT INTO uow_probe VALUES (4), (4)"))

    with pytest.raises(IntegrityError):  # the deferred constraint is checked at COMMIT
        await work_refused_at_commit()
    assert ran == ["rolled back"]
    assert await rows(maker) == []


async def test_a_mutation_whose_after_commit_work_fails_still_succeeds(
    plumbing: tuple[object, httpx.AsyncClient], pgql: GraphQLClient, session_maker: SessionMaker
) -> None:
    _, admin = await signed_in(plumbing[1], session_maker, Role.ADMIN)
    mutation = """mutation ($action: String!) {
      recordEntry(action: $action, breakAfterCommit: true) { entry { action } errors { code } }
    }"""
    action = f"hooked {uuid.uuid4().hex[:8]}"
    with capture_logs() as logs:
        body = await pgql(mutation, {"action": action}, token=admin.access_token)
    assert body == {"data": {"recordEntry": {"entry": {"action": action}, "errors": []}}}
    async with session_maker() as session:
        stored = await session.exec(select(AuditEntry).where(AuditEntry.action == action))
        assert len(stored.all()) == 1
    assert any(log["event"] == "after_commit work failed" for log in logs)

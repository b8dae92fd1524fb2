"""PostgreSQL: the engine, the per-request database handle, the naming convention."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.core.config import Settings

# Conventional constraint names, so migrations and autogenerate agree on them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

SessionMaker = async_sessionmaker[AsyncSession]
AfterCommit = Callable[[], Awaitable[object]]
_AFTER_COMMIT = "hom_after_commit"


def after_commit(session: AsyncSession, work: AfterCommit) -> None:
    """Run `work` once the request's transaction has committed (not if it rolls back)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(work)


async def _run_after_commit(session: AsyncSession) -> None:
    for work in session.info.pop(_AFTER_COMMIT, []):
        await work()


def create_engine(settings: Settings, url: str | None = None) -> AsyncEngine:
    """The process-wide async engine with the pool settings of SPEC §3."""
    return create_async_engine(
        url or _require_url(settings),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_recycle=settings.db_pool_recycle,
        pool_pre_ping=settings.db_pool_pre_ping,
        connect_args={"server_settings": {"application_name": "hom"}},
    )


def _require_url(settings: Settings) -> str:
    if not settings.db_url:
        raise RuntimeError("DB_URL is not set (hom serve starts an embedded PostgreSQL in dev)")
    return settings.db_url


@asynccontextmanager
async def connect_once(db_url: str) -> AsyncIterator[AsyncConnection]:
    """A single connection for a one-off job (CLI, start-up checks), engine disposed after."""
    engine = create_async_engine(db_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            yield connection
    finally:
        await engine.dispose()


def create_session_maker(engine: AsyncEngine) -> SessionMaker:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


class RequestDatabase:
    """One request's database access: one lazily opened session, one coroutine at a time.

    The session checks out a pooled connection only on its first statement, so a
    request that never touches the database never costs one.
    """

    def __init__(self, session_maker: SessionMaker) -> None:
        self._session_maker = session_maker
        self._session: AsyncSession | None = None
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """Exclusive use of the request's session for reads."""
        async with self._lock:
            if self._session is None:
                self._session = self._session_maker()
            yield self._session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits when the block succeeds, rolls back on any error."""
        async with self.session() as session:
            try:
                yield session
            except BaseException:
                session.info.pop(_AFTER_COMMIT, None)
                await session.rollback()
                raise
            await session.commit()
            await _run_after_commit(session)

    async def close(self) -> None:
        """Give the connection back to the pool (rolling back any open read transaction)."""
        if self._session is not None:
            await self._session.close()
            self._session = None

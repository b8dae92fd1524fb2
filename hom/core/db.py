"""PostgreSQL: the engine, the per-request database handle, the naming convention."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from contextvars import ContextVar
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool
from sqlmodel import Session, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.core.config import Settings
from hom.core.errors import DomainError, ErrorCode
from hom.core.row_reads import ModelT, fetch_by_primary_key, get_by_primary_key
from hom.core.unit_of_work import SessionMaker, transaction

# Conventional constraint names, so migrations and autogenerate agree on them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

# Sent with every pooled connection. The pg_trgm threshold makes `<%` (indexable) mean
# "within one typo" (catalog search); a dotted setting is a placeholder where pg_trgm
# is not installed, so it is harmless there. random_page_cost 1.1 (SSD, a cached working
# set; the default 4 assumes spinning disks): the planner does not count the CPU of
# trigram matching, so at 4 it seq-scans every product to rank a search (65 ms on
# 20 000 products) instead of reading the GIN indexes (10 ms). jit off: a page of 50
# products whose JSON PostgreSQL builds (the compiled read path) is estimated expensive
# enough to JIT-compile, which took 15 ms for a query that runs in 1 ms without it.
SERVER_SETTINGS = {
    "application_name": "hom",
    "pg_trgm.word_similarity_threshold": "0.5",
    "random_page_cost": "1.1",
    "jit": "off",
}


def create_engine(settings: Settings, url: str | None = None) -> AsyncEngine:
    """The process-wide async engine with the pool settings of SPEC §3."""
    engine = create_async_engine(
        url or _require_url(settings),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_recycle=settings.db_pool_recycle,
        pool_pre_ping=settings.db_pool_pre_ping,
        connect_args={"server_settings": dict(SERVER_SETTINGS)},
    )
    event.listen(engine.sync_engine.pool, "checkout", _refuse_closed)
    return engine


def _refuse_closed(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """A connection closed while pooled (a statement cancelled mid-flight closes it) is
    replaced at checkout, without the round trip a pre-ping costs."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the pooled connection was closed")


def _require_url(settings: Settings) -> str:
    if not settings.db_url:
        raise RuntimeError("DB_URL is not set (hom serve starts an embedded PostgreSQL in dev)")
    return settings.db_url


@asynccontextmanager
async def connect_once(db_url: str) -> AsyncIterator[AsyncConnection]:
    """A single connection for a one-off job (start-up checks), engine disposed after."""
    engine = create_async_engine(db_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            yield connection
    finally:
        await engine.dispose()


@asynccontextmanager
async def sessions_once(db_url: str) -> AsyncIterator[SessionMaker]:
    """Sessions for a one-off job (a CLI command): no pool kept, engine disposed after."""
    engine = create_async_engine(db_url, poolclass=NullPool)
    try:
        yield create_session_maker(engine)
    finally:
        await engine.dispose()


def create_session_maker(engine: AsyncEngine, info: dict[str, Any] | None = None) -> SessionMaker:
    """Sessions on `engine`; `info` goes into each session's `info` (its publisher)."""
    # Same pool: asyncpg sends no BEGIN/ROLLBACK in autocommit, and switching a pooled
    # connection to it and back costs no round trip.
    reads = engine.execution_options(isolation_level="AUTOCOMMIT")
    return async_sessionmaker(
        engine,
        class_=AsyncSession,
        sync_session_class=RoutingSession,
        expire_on_commit=False,
        info={**(info or {}), _AUTOCOMMIT_BIND: reads},
    )


def violated_constraint(error: IntegrityError) -> str | None:
    """The name of the constraint an INSERT/UPDATE broke (asyncpg), if any."""
    cause = getattr(error.orig, "__cause__", None)
    return getattr(cause, "constraint_name", None)


async def save_unique(session: AsyncSession, row: Any, unique_fields: Mapping[str, str]) -> None:
    """INSERT or UPDATE `row` in a savepoint; breaking a unique index named in
    `unique_fields` is ALREADY_EXISTS on that index's input field."""
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError as error:
        field = unique_fields.get(violated_constraint(error) or "")
        if field is None:
            raise
        raise DomainError(
            ErrorCode.ALREADY_EXISTS, f"Another one has this {field}", field
        ) from None


class PrimaryKeyReader(Protocol):
    """What reads rows by primary key: a session, or the request's RequestDatabase."""

    async def get(self, entity: type[ModelT], ident: Any) -> ModelT | None: ...


class SessionReentered(RuntimeError):
    """The request's session was asked for while this code path already holds it."""


# The request database whose session the current task (and the tasks it starts) holds.
_holding: ContextVar[RequestDatabase | None] = ContextVar("hom_holding_session", default=None)
# In a session's `info`: its AsyncEngine in autocommit, and whether its statements are reads.
_AUTOCOMMIT_BIND = "hom_autocommit_bind"
_READING = "hom_reading"


class RoutingSession(Session):
    """A session whose reads, while marked so, run on autocommit connections: no BEGIN
    and no ROLLBACK around them, one round trip per statement."""

    def get_bind(self, mapper: Any = None, **kw: Any) -> Engine | Connection:
        reads: AsyncEngine | None = self.info.get(_AUTOCOMMIT_BIND)
        if self.info.get(_READING) and reads is not None:
            return reads.sync_engine
        return super().get_bind(mapper, **kw)


async def _end_reads(session: AsyncSession) -> None:
    """Give the connection back now, not when the response is written: in autocommit a
    commit costs no round trip, and what was read stays in the session. Should that fail,
    a rollback, so that the session never stays in its reads' (autocommit) transaction."""
    try:
        await session.commit()
    except BaseException:
        await session.rollback()
        raise


class RequestDatabase:
    """One request's database access: one lazily opened session, one coroutine at a time.

    The session checks out a pooled connection only on its first statement, so a
    request that never touches the database never costs one. Reads run in autocommit
    (under READ COMMITTED a transaction around them saw nothing more consistent, and
    its BEGIN and ROLLBACK were two of a primary-key read's three round trips), and a
    read block gives its connection back when it ends: a request holds at most one
    connection, and only while it talks to the database. A `transaction()` runs in a
    real one, on the same session and identity map. `get` reads one row by primary key
    without the ORM, and without making a session when the request has none yet.
    Asking for the session while holding it (a nested block, or awaiting a loader
    inside a block: the loader would wait for the block forever) raises
    SessionReentered.
    """

    def __init__(self, session_maker: SessionMaker) -> None:
        self._session_maker = session_maker
        self._reads: AsyncEngine = session_maker.kw["info"][_AUTOCOMMIT_BIND]
        self._session: AsyncSession | None = None
        self._lock = asyncio.Lock()

    @property
    def held_here(self) -> bool:
        """True inside this request's session block (and in work started from it)."""
        return _holding.get() is self

    def ensure_not_held(self, what: str) -> None:
        if self.held_here:
            raise SessionReentered(
                f"{what} inside a `db.session()`/`db.transaction()` block would wait for that "
                "block forever; leave the block before loading related objects"
            )

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """Exclusive use of the request's session for reads (autocommit: no transaction)."""
        async with self._held() as session:
            session.info[_READING] = True
            try:
                yield session
            except asyncio.CancelledError:
                await self._recover(session)
                raise
            finally:
                if self._session is session and session.in_transaction():
                    await self._end_reads(session)

    async def _end_reads(self, session: AsyncSession) -> None:
        try:
            await _end_reads(session)
        except BaseException:
            await self._drop(session)
            raise

    async def _recover(self, session: AsyncSession) -> None:
        """After a read block was cancelled mid-statement (a sibling field failed), roll
        back, so that the next block finds a usable session (SQLAlchemy leaves it in a
        transaction it calls invalid); one that cannot even roll back is dropped with its
        connection, and the next block starts afresh."""
        try:
            await session.rollback()
        except BaseException:
            await self._drop(session)

    async def _drop(self, session: AsyncSession) -> None:
        self._session = None
        with suppress(Exception):
            await session.invalidate()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """The request's unit of work (commit on success, rollback on any error)."""
        async with self._held() as session:
            session.info[_READING] = False
            async with transaction(session):
                yield session

    @asynccontextmanager
    async def _held(self) -> AsyncIterator[AsyncSession]:
        self.ensure_not_held("Entering the request's session again")
        async with self._lock:
            if self._session is None:
                self._session = self._session_maker()
            token = _holding.set(self)
            try:
                yield self._session
            finally:
                _holding.reset(token)

    async def get(self, model: type[ModelT], ident: Any) -> ModelT | None:
        """`session.get`, as one statement without the ORM's loading machinery (see
        row_reads): in the request's session once it has one (its identity map), else on
        a connection taken for that statement alone, without making a session."""
        if self._session is not None:
            async with self.session() as session:
                return await get_by_primary_key(session, model, ident)
        self.ensure_not_held("Reading a row")
        async with self._lock:
            return await fetch_by_primary_key(self._reads, model, ident)

    async def close(self) -> None:
        """Forget the session; one still in a transaction (a block that failed to end it)
        rolls back and gives its connection back."""
        session, self._session = self._session, None
        if session is not None and session.in_transaction():
            try:
                await session.close()
            except DBAPIError:  # a statement cancelled mid-flight closed the connection
                await session.invalidate()

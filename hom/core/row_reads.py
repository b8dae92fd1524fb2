"""Primary-key reads without the ORM's loading machinery, for the hottest reads (`me`).

`session.get` builds, caches and runs a SELECT through the ORM and spends most of a
one-row request's database time there. Here the SELECT is compiled once per model and
run by asyncpg on a pooled connection, and the row becomes the model object a query
would have loaded: persistent in a session's identity map when read through one, else
detached. When tracing is on, the statement gets a span like the instrumented ones.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Select, bindparam, inspect, select
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.util.concurrency import greenlet_spawn
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.core.tracing import span

ModelT = TypeVar("ModelT", bound=SQLModel)
_DIALECT = PGDialect_asyncpg(paramstyle="numeric_dollar")  # type: ignore[no-untyped-call]


class PrimaryKeyRead:
    """`SELECT <every column> FROM <table> WHERE <primary key> = $1`, compiled once."""

    def __init__(self, model: type[SQLModel]) -> None:
        mapper = inspect(model)
        [key] = mapper.primary_key  # one column: composite keys are not read here
        columns = [attr.columns[0].label(attr.key) for attr in mapper.column_attrs]
        if any(_converts(column.type) for column in columns):
            raise TypeError(f"{model.__name__} has columns whose values SQLAlchemy converts")
        statement: Select[Any] = select(*columns).where(key == bindparam("ident"))
        self.sql = compiled_sql(statement).sql
        self.span_name = f"SELECT {mapper.persist_selectable.name}"


@dataclass(frozen=True)
class CompiledSql:
    """A statement's SQL for asyncpg, and the names of its `$1`, `$2`… parameters."""

    sql: str
    names: tuple[str, ...]

    def arguments(self, **values: Any) -> list[Any]:
        """The parameters' values, by name, in their positions."""
        return [values[name] for name in self.names]


def compiled_sql(statement: Any) -> CompiledSql:
    """For statements compiled once and run on asyncpg's connection itself."""
    compiled = statement.compile(dialect=_DIALECT)
    return CompiledSql(str(compiled), tuple(compiled.positiontup or ()))


def _converts(type_: Any) -> bool:
    """Whether SQLAlchemy turns this column's values from asyncpg into something else."""
    return type_.dialect_impl(_DIALECT).result_processor(_DIALECT, None) is not None


@cache
def primary_key_read(model: type[SQLModel]) -> PrimaryKeyRead:
    return PrimaryKeyRead(model)


async def get_by_primary_key(
    session: AsyncSession, model: type[ModelT], ident: Any
) -> ModelT | None:
    """What `session.get(model, ident)` answers, in one statement and less CPU."""
    known = session.identity_map.get(session.sync_session.identity_key(model, ident))
    if known is not None:
        return known  # type: ignore[no-any-return]
    connection = await session.connection()
    found = _loaded(model, await _fetch_row(connection, primary_key_read(model), ident))
    if found is not None:
        session.add(found)
    return found


async def fetch_by_primary_key(
    engine: AsyncEngine, model: type[ModelT], ident: Any
) -> ModelT | None:
    """The row as a detached object (in no session), read on a connection of its own."""
    read = primary_key_read(model)
    async with pooled_driver(engine) as driver:
        with statement_span(read.span_name, read.sql):
            row = await driver.fetchrow(read.sql, ident)
    return _loaded(model, row)


def _loaded(model: type[ModelT], row: Mapping[str, Any] | None) -> ModelT | None:
    """The object a query would have loaded from `row`: no pending changes."""
    if row is None:
        return None
    found = model(**row)
    make_transient_to_detached(found)
    return found


async def _fetch_row(
    connection: AsyncConnection, read: PrimaryKeyRead, ident: Any
) -> Mapping[str, Any] | None:
    async with on_driver(connection, read.span_name, read.sql) as driver:
        row: Mapping[str, Any] | None = await driver.fetchrow(read.sql, ident)
    return row


@asynccontextmanager
async def on_driver(connection: AsyncConnection, span_name: str, sql: str) -> AsyncIterator[Any]:
    """asyncpg's own connection under a started SQLAlchemy one, to run `sql` on in a
    span like the instrumented statements': no cursor, result or greenlet around it,
    and no BEGIN (outside a transaction each statement is its own)."""
    async with driver_of(connection) as driver:
        with statement_span(span_name, sql):
            yield driver


@asynccontextmanager
async def driver_of(connection: AsyncConnection) -> AsyncIterator[Any]:
    """asyncpg's own connection under a started SQLAlchemy one (see `on_driver`), for
    functions that run their statements on asyncpg whoever holds the connection."""
    started = connection.sync_connection
    assert started is not None, "a started connection (engine.connect(), session.connection())"
    driver: Any = started.connection.driver_connection
    try:
        yield driver
    except Exception:
        if driver.is_closed():  # what SQLAlchemy would do: never pool a dead connection
            await connection.invalidate()
        raise


@asynccontextmanager
async def pooled_driver(engine: AsyncEngine) -> AsyncIterator[Any]:
    """asyncpg's connection checked out of the engine's pool (its checkout events run),
    for reads that need nothing else: without an `engine.connect()` Connection around
    it, whose bookkeeping cost as much CPU as the read itself (~40 µs). Outside a
    transaction each statement is its own snapshot."""
    pooled = await greenlet_spawn(engine.sync_engine.pool.connect)
    driver: Any = pooled.driver_connection
    try:
        yield driver
    except Exception:
        if driver.is_closed():  # never pool a dead connection
            await greenlet_spawn(pooled.invalidate)
        raise
    finally:
        await greenlet_spawn(pooled.close)


@contextmanager
def statement_span(span_name: str, sql: str) -> Iterator[None]:
    """A span like the instrumented statements' around one run on asyncpg directly."""
    with span(span_name) as current:
        if current is not None:
            current.set_attributes({"db.system": "postgresql", "db.statement": sql})
        yield

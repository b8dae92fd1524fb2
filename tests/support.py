"""Test plumbing: where the real PostgreSQL and Redis are, a GraphQL client helper."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import uvicorn
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

LOCAL_DB_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 1
        ):
            return True
    except OSError:
        return False


EMBEDDED = "embedded"


def configured(env_name: str, local: str, port: int) -> str | None:
    """The URL named by the environment, else the local default when it answers.

    None means: use an embedded server (also forced with `<env_name>=embedded`).
    """
    named = os.environ.get(env_name)
    if named:
        return None if named == EMBEDDED else named
    return local if reachable(local, port) else None


@contextmanager
def outside_pytest_tmp() -> Iterator[Path]:
    """A temporary directory for an embedded PostgreSQL's data, not under pytest's own.

    As root, pgserver runs PostgreSQL as the user `pgserver` and opens up the path to
    its data; but each pytest session starting on the machine makes /tmp/pytest-of-root
    private again, and then PostgreSQL cannot reach its data (initdb: permission denied).
    """
    with tempfile.TemporaryDirectory(prefix="hom-test-", ignore_cleanup_errors=True) as path:
        yield Path(path)


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(False)


def with_database(sqlalchemy_url: str, name: str) -> str:
    return make_url(sqlalchemy_url).set(database=name).render_as_string(False)


async def admin_execute(admin_url: str, *statements: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def new_database_name() -> str:
    return f"hom_test_{uuid.uuid4().hex[:12]}"


def create_database_sql(name: str, template: str | None = None) -> str:
    # The default strategy (WAL_LOG), not FILE_COPY: that one waits for two checkpoints,
    # which take seconds on a busy server.
    return f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")


def drop_database_sql(name: str) -> str:
    return f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'


def create_database(admin_url: str) -> str:
    name = new_database_name()
    asyncio.run(admin_execute(admin_url, create_database_sql(name)))
    return name


def drop_database(admin_url: str, name: str) -> None:
    asyncio.run(admin_execute(admin_url, drop_database_sql(name)))


def bearer(token: str | None) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"} if token else {}


@dataclass
class GraphQLClient:
    """`await gql(query, variables, token=…)` → the decoded response body.

    With the app's compiled read path (`compiled`), every query that path answers is
    asked again of the executor, and the two answers must be identical: so every
    plannable query of the suite is a differential test too.
    """

    http: httpx.AsyncClient
    compiled: Any = None

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        token: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """The body without its cost report (checked here for every executed operation)."""
        return without_cost(await self.answer(query, variables, token, **kwargs))

    async def answer(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        token: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """The whole body, `extensions` included."""
        headers = {**bearer(token), **kwargs.pop("headers", {})}
        payload = {"query": query, "variables": variables or {}}
        answered = self.compiled.answered if self.compiled is not None else None
        response = await self.http.post("/graphql", json=payload, headers=headers, **kwargs)
        body: dict[str, Any] = response.json()
        if answered is not None and self.compiled.answered > answered:
            self.compiled.enabled = False
            try:
                with uncounted():
                    executed = await self.http.post(
                        "/graphql", json=payload, headers=headers, **kwargs
                    )
            finally:
                self.compiled.enabled = True
            assert executed.json() == body, f"the paths differ on {query}"
        return body


def without_cost(body: dict[str, Any]) -> dict[str, Any]:
    """`body` without `extensions.cost`, which every operation that ran must report."""
    extensions = dict(body.get("extensions") or {})
    cost = extensions.pop("cost", None)
    if body.get("data") is not None:
        assert cost is not None, f"no cost in {body}"
        assert cost["requestedQueryCost"] >= 0
    rest = {key: value for key, value in body.items() if key != "extensions"}
    return {**rest, "extensions": extensions} if extensions else rest


def error_codes(body: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in body.get("errors", [])]


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """Serve `app` with uvicorn on a free loopback port, in a thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive(), "the app failed to start (see the log above)"
        assert time.monotonic() < deadline, "the app did not start within 60 s"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@dataclass
class StatementLog:
    """The SQL statements an engine sent while `count_statements` was active (and not
    paused: the differential replay of a query is not the request being counted)."""

    statements: list[str] = field(default_factory=list)
    paused: bool = False

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def count_statements(engine: AsyncEngine | Engine) -> Iterator[StatementLog]:
    """Record every statement the engine sends to the database: SQLAlchemy's
    (`before_cursor_execute`) and those run on asyncpg's connection itself
    (hom.core.row_reads, the compiled read path); not BEGIN/COMMIT/ROLLBACK or the
    pool's pre-ping."""
    target = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
    log = StatementLog()

    def record(
        connection: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        if not log.paused:
            log.statements.append(statement)

    def record_driver(query: str) -> None:
        if not log.paused and not _TRANSACTION_CONTROL.match(query):
            log.statements.append(query)

    event.listen(target, "before_cursor_execute", record)
    _COUNTING.append(log)
    try:
        with _driver_queries(target.pool, record_driver):
            yield log
    finally:
        _COUNTING.remove(log)
        event.remove(target, "before_cursor_execute", record)


# What asyncpg logs that is not one of the request's statements: a transaction's
# edges and the pool's pre-ping (`;`).
_TRANSACTION_CONTROL = re.compile(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|;|$)", re.I)


@contextmanager
def _driver_queries(pool: Any, record: Callable[[str], None]) -> Iterator[None]:
    """`record(query)` for each statement asyncpg runs through its Connection methods on
    connections checked out meanwhile (SQLAlchemy's own prepared statements are not among
    them), as it is sent. A connection is watched from its first checkout inside the
    block on.

    asyncpg's query loggers hear of a statement only on a later turn of the event loop
    (call_soon), which a request may not take before the test reads the log; so its
    `_time_and_log`, which runs them, is wrapped instead (a logger that does nothing
    turns it on)."""
    hooked: list[Any] = []
    original = asyncpg.Connection._time_and_log

    @contextmanager
    def time_and_log(connection: Any, query: str, args: Any, timeout: Any) -> Iterator[None]:
        if any(connection is driver for driver in hooked):
            record(query)
        with original(connection, query, args, timeout):
            yield

    def on_checkout(dbapi_connection: Any, record_: Any, proxy: Any) -> None:
        driver = getattr(dbapi_connection, "driver_connection", None)
        if hasattr(driver, "add_query_logger") and not any(driver is d for d in hooked):
            hooked.append(driver)
            driver.add_query_logger(_heard_elsewhere)

    asyncpg.Connection._time_and_log = time_and_log  # type: ignore[method-assign]
    event.listen(pool, "checkout", on_checkout)
    try:
        yield
    finally:
        event.remove(pool, "checkout", on_checkout)
        asyncpg.Connection._time_and_log = original  # type: ignore[method-assign]
        for driver in hooked:
            driver.remove_query_logger(_heard_elsewhere)


def _heard_elsewhere(query: Any) -> None:
    """The query logger that makes asyncpg call `_time_and_log` (recorded there)."""


_COUNTING: list[StatementLog] = []


@contextmanager
def uncounted() -> Iterator[None]:
    """Statements sent meanwhile are left out of every active `count_statements`."""
    for log in _COUNTING:
        log.paused = True
    try:
        yield
    finally:
        for log in _COUNTING:
            log.paused = False


@contextmanager
def count_driver_statements(engine: AsyncEngine) -> Iterator[StatementLog]:
    """Record what asyncpg runs through its Connection methods while active, BEGIN,
    COMMIT, ROLLBACK and the pool's pre-ping (`;`) included, which `count_statements`
    leaves out (SQLAlchemy's own statements run as asyncpg prepared statements, which
    only `count_statements` sees).

    A connection is watched from its first checkout inside the block on, and a pre-ping
    runs before that: send one request first when the ping matters.
    """
    log = StatementLog()

    def record(query: str) -> None:
        if not log.paused:
            log.statements.append(query)

    _COUNTING.append(log)
    try:
        with _driver_queries(engine.sync_engine.pool, record):
            yield log
    finally:
        _COUNTING.remove(log)

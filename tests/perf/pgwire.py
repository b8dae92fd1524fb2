"""A PostgreSQL wire-protocol proxy on 127.0.0.1 that records what its clients execute.

Used only while counting statements per request (pg_stat_statements is not loaded on
the local server). It answers SSL/GSS encryption requests with "N" itself, so the
traffic stays readable, and forwards everything else unchanged. From the client's
messages it records:

- a simple-protocol `Query` ('Q': BEGIN, COMMIT, ROLLBACK as asyncpg sends them) as
  one statement;
- an extended-protocol `Execute` ('E') as one statement, named by the text of the
  `Parse` ('P') its portal was bound ('B') to (asyncpg caches prepared statements, so
  a statement is parsed once per connection and only bound/executed afterwards);
- each `Sync` ('S') and `Query` as one round trip (the client waits for ReadyForQuery).

`statement_proxy` runs one for a block; `statements_of` counts what requests sent one at a
time cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import make_url

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102


def _cstring(data: bytes) -> tuple[bytes, bytes]:
    """A NUL-terminated string at the start of `data`, and the rest."""
    head, _, rest = data.partition(b"\0")
    return head, rest


def shorten(statement: str, width: int = 90) -> str:
    """One line; a long SELECT keeps its FROM/WHERE part, which says more than its columns."""
    text = re.sub(r"\s+", " ", statement).strip()
    if text == ";":
        return "; (empty statement: the pool's pre-ping)"
    main_from = _outer_from(text)
    if len(text) > width and text[:7].upper() == "SELECT " and main_from is not None:
        text = "SELECT … FROM " + text[main_from + 6 :]
    return text if len(text) <= width else text[: width - 1] + "…"


def _outer_from(text: str) -> int | None:
    """Where the outermost query's " FROM " starts (not a subquery's in the select list)."""
    depth = 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and text[index : index + 6].upper() == " FROM ":
            return index
    return None


@dataclass
class Recording:
    statements: list[str] = field(default_factory=list)
    round_trips: int = 0

    def sequence(self) -> tuple[str, ...]:
        return tuple(shorten(s) for s in self.statements)


@dataclass
class StatementProxy:
    upstream_host: str
    upstream_port: int
    recording: Recording = field(default_factory=Recording)
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    def url_for(self, db_url: str) -> str:
        """`db_url` (any driver) pointed at this proxy instead of the server."""
        return make_url(db_url).set(host="127.0.0.1", port=self.port).render_as_string(False)

    def reset(self) -> Recording:
        """Start a new recording; returns the previous one."""
        previous, self.recording = self.recording, Recording()
        return previous

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _handle(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        upstream_out: asyncio.StreamWriter | None = None
        pump: asyncio.Task[None] | None = None
        try:
            upstream_in, upstream_out = await asyncio.open_connection(
                self.upstream_host, self.upstream_port
            )
            pump = asyncio.create_task(_copy(upstream_in, client_out))
            await self._forward(client_in, upstream_out, client_out)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            if pump is not None:
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                    await pump
            for writer in (upstream_out, client_out):
                if writer is not None:
                    writer.close()
            self._tasks.discard(task)

    async def _forward(
        self,
        reader: asyncio.StreamReader,
        upstream: asyncio.StreamWriter,
        client: asyncio.StreamWriter,
    ) -> None:
        while True:  # untyped start-up packets
            head = await reader.readexactly(4)
            body = await reader.readexactly(int.from_bytes(head, "big") - 4)
            code = int.from_bytes(body[:4], "big")
            if code in (SSL_REQUEST, GSSENC_REQUEST):
                client.write(b"N")  # "no encryption": the client goes on in plain text
                await client.drain()
                continue
            upstream.write(head + body)
            await upstream.drain()
            if code == CANCEL_REQUEST:
                return
            break
        prepared: dict[bytes, str] = {}
        portals: dict[bytes, str] = {}
        while True:
            head = await reader.readexactly(5)
            kind = head[:1]
            body = await reader.readexactly(int.from_bytes(head[1:], "big") - 4)
            self._note(kind, body, prepared, portals)
            upstream.write(head + body)
            await upstream.drain()
            if kind == b"X":
                return

    def _note(
        self, kind: bytes, body: bytes, prepared: dict[bytes, str], portals: dict[bytes, str]
    ) -> None:
        recording = self.recording
        if kind == b"Q":
            recording.statements.append(body.rstrip(b"\0").decode(errors="replace"))
            recording.round_trips += 1
        elif kind == b"P":
            name, rest = _cstring(body)
            prepared[name] = _cstring(rest)[0].decode(errors="replace")
        elif kind == b"B":
            portal, rest = _cstring(body)
            portals[portal] = prepared.get(_cstring(rest)[0], "<unknown statement>")
        elif kind == b"E":
            recording.statements.append(portals.get(_cstring(body)[0], "<unknown portal>"))
        elif kind == b"S":
            recording.round_trips += 1


@contextlib.asynccontextmanager
async def statement_proxy(upstream_url: str) -> AsyncIterator[StatementProxy]:
    """A running proxy to the PostgreSQL server of `upstream_url`, closed afterwards."""
    upstream = make_url(upstream_url)
    proxy = StatementProxy(upstream.host or "127.0.0.1", upstream.port or 5432)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()


# What reads or writes data; the rest is transaction control (BEGIN, ROLLBACK, COMMIT) and
# the pool's pre-ping (an empty statement).
QUERY_VERBS = {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"}


def is_query(statement: str) -> bool:
    words = statement.split(None, 1)
    return bool(words) and words[0].upper() in QUERY_VERBS


async def statements_of(
    proxy: StatementProxy, send: Callable[[], Awaitable[object]], requests: int
) -> list[Recording]:
    """What each of `requests` calls of `send`, one at a time, sent through `proxy`."""
    recordings = []
    for _ in range(requests):
        await asyncio.sleep(0.2)  # the previous request's session has closed (ROLLBACK)
        proxy.reset()
        await send()
        await asyncio.sleep(0.2)  # this one's has too
        recordings.append(proxy.reset())
    return recordings


async def _copy(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while chunk := await source.read(65536):
            target.write(chunk)
            await target.drain()
    target.close()

"""Redis pub/sub: messages published once a transaction commits, and one listening
connection per process.

`PubSubHub` holds the process's one Redis PubSub connection. Each listener (a live
subscription) names the channels it wants; the hub subscribes to a channel when its
first local listener arrives, unsubscribes when the last one leaves, and hands every
message to the asyncio queue of each listener of its channel. When the connection
comes back after Redis restarted or dropped it, redis-py subscribes again and every
listener gets `GAP`: messages may have been missed meanwhile.

Channels are tuples of name parts under the run's key prefix:
`("notifications", "user", "7")` → `hom:notifications:user:7`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import orjson
import structlog
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.connection import Connection
from redis.exceptions import RedisError
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.core.redis import RedisKeys
from hom.core.unit_of_work import after_commit
from hom.core.waiting import stop_if_cancelled

Channel = tuple[str, ...]
_PUBLISHER = "hom_publisher"
# A quiet connection is pinged this often, so a dead one is noticed and replaced.
KEEPALIVE_SECONDS = 30.0
RECONNECT_DELAY_SECONDS = 0.5
MAX_RECONNECT_DELAY_SECONDS = 5.0
LISTENER_QUEUE_SIZE = 100
log = structlog.get_logger("hom.pubsub")


class Gap(Enum):
    """The connection was re-established: messages may have been missed."""

    GAP = "gap"


GAP = Gap.GAP


@dataclass(frozen=True)
class Message:
    channel: Channel
    data: Any


Event = Message | Gap


class Publisher:
    """Publishes JSON messages on channels under the key prefix."""

    def __init__(self, redis: Redis, keys: RedisKeys) -> None:
        self.redis = redis
        self.keys = keys

    async def publish(self, channel: Channel, data: Any) -> None:
        await self.redis.publish(self.keys(*channel), orjson.dumps(data))


def session_info(publisher: Publisher) -> dict[str, Any]:
    """What a session maker puts in each session's `info` so its work can publish."""
    return {_PUBLISHER: publisher}


def publish_after_commit(session: AsyncSession, channel: Channel, data: Any) -> None:
    """Publish `data` once the session's transaction commits (never if it rolls back)."""
    publisher = session.info.get(_PUBLISHER)
    if not isinstance(publisher, Publisher):
        raise RuntimeError("this session cannot publish: its session maker has no publisher")
    after_commit(session, lambda: publisher.publish(channel, data))


class Listener:
    """One subscriber's queue of events from the hub."""

    def __init__(self, size: int = LISTENER_QUEUE_SIZE) -> None:
        self._queue: asyncio.Queue[Event] = asyncio.Queue(size)

    def deliver(self, event: Event) -> None:
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            log.warning("pub/sub listener too slow, event dropped")

    async def next(self, within: float) -> Event | None:
        """The next event, or None when none came `within` seconds."""
        stop_if_cancelled()  # a subscription may wait here for hours: see hom.core.waiting
        try:
            async with asyncio.timeout(within):
                return await self._queue.get()
        except TimeoutError:
            return None


class PubSubHub:
    """The process's one pub/sub connection, shared by all its listeners."""

    def __init__(self, redis: Redis, keys: RedisKeys) -> None:
        self._redis = redis
        self._keys = keys
        self._pubsub: PubSub = redis.pubsub()
        self._listeners: dict[str, set[Listener]] = {}
        self._channels: dict[str, Channel] = {}
        self._lock = asyncio.Lock()
        self._reader: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def listen(self, *channels: Channel) -> AsyncIterator[Listener]:
        """A listener for `channels` while the block runs."""
        listener = Listener()
        names = {self._keys(*channel): channel for channel in channels}
        await self._join(listener, names)
        try:
            yield listener
        finally:
            await self._leave(listener, names)

    async def _join(self, listener: Listener, names: dict[str, Channel]) -> None:
        async with self._lock:
            new = [name for name in names if name not in self._listeners]
            for name, channel in names.items():
                self._listeners.setdefault(name, set()).add(listener)
                self._channels[name] = channel
            try:
                if new:
                    await self._pubsub.subscribe(*new)
            except BaseException:
                self._forget(listener, names)
                raise
            self._start_reader()

    async def _leave(self, listener: Listener, names: Iterable[str]) -> None:
        async with self._lock:
            unused = self._forget(listener, names)
            if not unused:
                return
            try:
                await self._pubsub.unsubscribe(*unused)
            except (RedisError, OSError):
                # Not subscribed again when the connection comes back.
                for name in unused:
                    self._pubsub.channels.pop(name, None)

    def _forget(self, listener: Listener, names: Iterable[str]) -> list[str]:
        """Drop the listener from `names`; the names nobody listens to any more."""
        unused = []
        for name in names:
            listeners = self._listeners.get(name, set())
            listeners.discard(listener)
            if not listeners:
                self._listeners.pop(name, None)
                self._channels.pop(name, None)
                unused.append(name)
        return unused

    def _start_reader(self) -> None:
        if self._reader is None or self._reader.done():
            connection = self._pubsub.connection
            assert connection is not None, "subscribing connects"
            connection.register_connect_callback(self._reconnected)
            self._reader = asyncio.create_task(self._read(), name="hom-pubsub-reader")

    async def _read(self) -> None:
        delay = RECONNECT_DELAY_SECONDS
        while True:
            try:
                await self._read_one()
                delay = RECONNECT_DELAY_SECONDS
            except (RedisError, OSError) as error:
                log.warning("pub/sub connection lost", error=type(error).__name__, retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RECONNECT_DELAY_SECONDS)

    async def _read_one(self) -> None:
        message = await self._pubsub.get_message(timeout=KEEPALIVE_SECONDS)
        if message is None:
            await self._pubsub.ping()
        elif message["type"] == "message":
            self._dispatch(message["channel"], message["data"])

    def _dispatch(self, name: str, raw: str) -> None:
        channel = self._channels.get(name)
        if channel is None:
            return  # arrived after its last listener left
        try:
            event = Message(channel, orjson.loads(raw))
        except orjson.JSONDecodeError:
            log.warning("pub/sub message is not JSON, dropped", channel=name)
            return
        for listener in self._listeners.get(name, ()):
            listener.deliver(event)

    async def _reconnected(self, connection: Connection) -> None:
        log.info("pub/sub connection re-established", channels=len(self._listeners))
        for listener in {one for listeners in self._listeners.values() for one in listeners}:
            listener.deliver(GAP)

    async def close(self) -> None:
        """Stop reading and close the connection (the hub may be used again afterwards)."""
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, RuntimeError):
                await reader
        await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        await self._redis.aclose()

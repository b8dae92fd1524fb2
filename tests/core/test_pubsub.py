"""The pub/sub hub: one Redis connection per process whatever the listeners, channels
subscribed on demand, and back after the connection drops."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from hom.core.config import Settings
from hom.core.pubsub import GAP, Listener, Message, Publisher, PubSubHub
from hom.core.redis import RedisKeys, create_redis
from tests.serving import until

WAIT = 5.0  # seconds a message may take to arrive (it normally takes milliseconds)


@pytest.fixture
async def hub(settings: Settings) -> AsyncIterator[PubSubHub]:
    keys = RedisKeys(settings.redis_prefix)
    made = PubSubHub(create_redis(settings, client_name=keys("pubsub")), keys)
    yield made
    await made.close()


def channel() -> tuple[str, ...]:
    return ("test", uuid.uuid4().hex[:8])


async def subscribers(redis: Redis, settings: Settings, name: tuple[str, ...]) -> int:
    ((_, count),) = await redis.pubsub_numsub(RedisKeys(settings.redis_prefix)(*name))
    return int(count)


async def hub_connections(redis: Redis, settings: Settings) -> list[int]:
    clients = await redis.client_list(_type="pubsub")
    return [int(c["id"]) for c in clients if c["name"] == f"{settings.redis_prefix}pubsub"]


async def test_listeners_share_one_connection_and_channels_are_dropped_when_unused(
    hub: PubSubHub, redis: Redis, settings: Settings
) -> None:
    shared, alone = channel(), channel()
    publisher = Publisher(redis, RedisKeys(settings.redis_prefix))
    async with hub.listen(shared) as first, hub.listen(shared, alone) as second:
        assert await subscribers(redis, settings, shared) == 1
        assert len(await hub_connections(redis, settings)) == 1
        await publisher.publish(shared, {"n": 1})
        await publisher.publish(alone, {"n": 2})
        assert await first.next(WAIT) == Message(shared, {"n": 1})
        assert await second.next(WAIT) == Message(shared, {"n": 1})
        assert await second.next(WAIT) == Message(alone, {"n": 2})
    assert await subscribers(redis, settings, shared) == 0
    assert await subscribers(redis, settings, alone) == 0


async def test_a_channel_stays_while_another_listener_needs_it(
    hub: PubSubHub, redis: Redis, settings: Settings
) -> None:
    name = channel()
    async with hub.listen(name) as staying:
        async with hub.listen(name):
            pass
        assert await subscribers(redis, settings, name) == 1
        await Publisher(redis, RedisKeys(settings.redis_prefix)).publish(name, "still here")
        assert await staying.next(WAIT) == Message(name, "still here")


async def test_a_dropped_connection_is_replaced_and_listeners_hear_of_the_gap(
    hub: PubSubHub, redis: Redis, settings: Settings
) -> None:
    name = channel()
    async with hub.listen(name) as listener:
        (connection,) = await hub_connections(redis, settings)
        await redis.client_kill_filter(_id=str(connection))
        assert await listener.next(WAIT) is GAP

        async def resubscribed() -> bool:
            return await subscribers(redis, settings, name) == 1

        await until(resubscribed, "subscribed again")
        await Publisher(redis, RedisKeys(settings.redis_prefix)).publish(name, "after")
        assert await listener.next(WAIT) == Message(name, "after")


async def test_a_listener_does_not_wait_in_a_task_asked_to_stop() -> None:
    """Python 3.11's wait_for (redis-py awaits each command with it) loses a cancellation
    that arrives with what it waited for; the task must not then wait for events."""
    listener = Listener()
    written = asyncio.get_running_loop().create_future()
    waited = []

    async def subscription() -> None:
        await asyncio.wait_for(written, 10)  # as redis-py waits for a write to Redis
        waited.append("past wait_for")
        await listener.next(within=2)

    task = asyncio.create_task(subscription())
    await asyncio.sleep(0)  # waiting for the write
    written.set_result(None)
    task.cancel()  # the connection closes as the write completes
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()
    if sys.version_info < (3, 12):
        assert waited == ["past wait_for"]  # lost there: stopped by the listener

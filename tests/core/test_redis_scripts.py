"""run_script: a Lua script's answer on the short path, and the client's way when the
short path meets a script Redis has forgotten or a connection Redis has dropped."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from hom.core.config import Settings
from hom.core.redis import RedisKeys, create_redis, run_script

ROLE_OF = "return redis.call('HGET', KEYS[1], 'role')"


@pytest.fixture
async def session_key(redis: Redis, settings: Settings) -> str:
    key = RedisKeys(settings.redis_prefix)("session", "s1")
    await redis.hset(key, "role", "staff")
    return key


async def test_answers_as_the_script_does(redis: Redis, session_key: str) -> None:
    script = redis.register_script(ROLE_OF)
    missing = session_key + ":missing"
    assert await run_script(script, [session_key]) == await script(keys=[session_key]) == "staff"
    assert await run_script(script, [missing]) is None


async def test_a_script_redis_has_forgotten_is_loaded_again(redis: Redis, session_key: str) -> None:
    script = redis.register_script(ROLE_OF)
    await script(keys=[session_key])
    await redis.script_flush()  # as after a restart without persistence
    assert await run_script(script, [session_key]) == "staff"
    assert await redis.script_exists(script.sha) == [True]


async def test_a_pooled_connection_redis_dropped_is_replaced(
    redis: Redis, session_key: str, settings: Settings
) -> None:
    script = redis.register_script(ROLE_OF)
    assert await run_script(script, [session_key]) == "staff"
    pooled_id = await redis.client_id()  # the one pooled connection, which ran the script
    other = create_redis(settings)
    try:
        assert await other.client_kill_filter(_id=str(pooled_id)) == 1
    finally:
        await other.aclose()
    assert await run_script(script, [session_key]) == "staff"
    assert await redis.client_id() != pooled_id

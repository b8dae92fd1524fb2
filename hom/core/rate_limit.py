"""Fixed-window rate limits in Redis, shared by every instance."""

from __future__ import annotations

import hashlib

from redis.asyncio import Redis

from hom.core.redis import RedisKeys

_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


def anonymized(value: str) -> str:
    """A stable key part that does not store the value itself (emails, tokens)."""
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]


class RateLimiter:
    def __init__(self, redis: Redis, keys: RedisKeys) -> None:
        self.keys = keys
        self._hit = redis.register_script(_HIT)

    async def allow(self, bucket: str, who: str, limit: int, window_seconds: int) -> bool:
        """Count one hit for `who` in `bucket`; False once it exceeds `limit` per window."""
        count = await self._hit(keys=[self.keys("rate", bucket, who)], args=[window_seconds])
        return int(count) <= limit

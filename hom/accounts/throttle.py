"""Login throttling in Redis: per account and per client IP, exponential backoff.

Failures are counted in a sliding window; from the threshold on, each failure
locks the key for twice as long as the previous one. While locked, every
attempt (the right password too) gets 429 with Retry-After.
"""

from __future__ import annotations

import hashlib

from redis.asyncio import Redis

from hom.core.redis import RedisKeys

WINDOW_SECONDS = 15 * 60
ACCOUNT_THRESHOLD = 5
IP_THRESHOLD = 20
BASE_LOCK_SECONDS = 30
MAX_LOCK_SECONDS = 60 * 60

_FAIL = """
local count = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
local threshold = tonumber(ARGV[2])
if count >= threshold then
  local lock = math.min(tonumber(ARGV[3]) * 2 ^ (count - threshold), tonumber(ARGV[4]))
  redis.call('SET', KEYS[2], '1', 'EX', math.floor(lock))
  redis.call('EXPIRE', KEYS[1], math.max(tonumber(ARGV[1]), math.floor(lock) * 2))
end
return count
"""


def _account_id(email: str) -> str:
    """Keys never hold an email address."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


class LoginThrottle:
    def __init__(self, redis: Redis, keys: RedisKeys) -> None:
        self.redis = redis
        self.keys = keys
        self._fail = redis.register_script(_FAIL)

    def _keys(self, kind: str, who: str) -> tuple[str, str]:
        return self.keys("login_fail", kind, who), self.keys("login_lock", kind, who)

    async def retry_after(self, email: str, ip: str) -> int | None:
        """Seconds until the account or the IP may try again; None when not locked."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.ttl(self._keys("account", _account_id(email))[1])
            pipe.ttl(self._keys("ip", ip)[1])
            ttls = await pipe.execute()
        remaining = max(int(ttl) for ttl in ttls)
        return remaining if remaining > 0 else None

    async def failed(self, email: str, ip: str) -> None:
        for kind, who, threshold in (
            ("account", _account_id(email), ACCOUNT_THRESHOLD),
            ("ip", ip, IP_THRESHOLD),
        ):
            args = [WINDOW_SECONDS, threshold, BASE_LOCK_SECONDS, MAX_LOCK_SECONDS]
            await self._fail(keys=list(self._keys(kind, who)), args=args)

    async def succeeded(self, email: str) -> None:
        await self.redis.delete(self._keys("account", _account_id(email))[0])

"""Redis: one client per process and the key prefix every key goes under."""

from __future__ import annotations

from redis.asyncio import Redis

from hom.core.config import Settings


def create_redis(settings: Settings, url: str | None = None) -> Redis:
    """The process-wide client (a connection pool underneath; connects lazily)."""
    target = url or settings.redis_url
    if not target:
        raise RuntimeError("REDIS_URL is not set (hom serve starts an embedded Redis in dev)")
    return Redis.from_url(target, decode_responses=True, socket_connect_timeout=2, socket_timeout=5)


class RedisKeys:
    """Builds keys under the configured prefix: `keys("session", sid)` → `hom:session:<sid>`."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def __call__(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

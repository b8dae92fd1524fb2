"""The process-wide resources an app holds: settings, engine, Redis, the pub/sub hub."""

from __future__ import annotations

from dataclasses import dataclass, field

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from hom.core.config import Settings
from hom.core.db import create_engine, create_session_maker
from hom.core.pubsub import Publisher, PubSubHub, session_info
from hom.core.redis import RedisKeys, create_redis
from hom.core.tracing import instrument_engine
from hom.core.unit_of_work import SessionMaker


@dataclass
class DatabaseFeatures:
    """Optional extensions the database has (SPEC §1), learnt once per process: the app
    asks at start-up; None until somebody has asked."""

    pg_trgm: bool | None = None


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    session_maker: SessionMaker
    redis: Redis
    keys: RedisKeys
    pubsub: PubSubHub
    features: DatabaseFeatures = field(default_factory=DatabaseFeatures)

    @classmethod
    def create(cls, settings: Settings) -> Services:
        """Pools are created here but connect lazily, on first use."""
        engine = create_engine(settings)
        instrument_engine(engine)
        redis, keys = create_redis(settings), RedisKeys(settings.redis_prefix)
        listening = create_redis(settings, client_name=keys("pubsub"))
        return cls(
            settings=settings,
            engine=engine,
            session_maker=create_session_maker(engine, session_info(Publisher(redis, keys))),
            redis=redis,
            keys=keys,
            pubsub=PubSubHub(listening, keys),
        )

    async def close(self) -> None:
        await self.pubsub.close()
        await self.redis.aclose()
        await self.engine.dispose()

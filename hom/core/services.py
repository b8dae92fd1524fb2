"""The process-wide resources an app holds: settings, engine, Redis."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from hom.core.config import Settings
from hom.core.db import create_engine, create_session_maker
from hom.core.redis import RedisKeys, create_redis
from hom.core.tracing import instrument_engine
from hom.core.unit_of_work import SessionMaker


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    session_maker: SessionMaker
    redis: Redis
    keys: RedisKeys

    @classmethod
    def create(cls, settings: Settings) -> Services:
        """Pools are created here but connect lazily, on first use."""
        engine = create_engine(settings)
        instrument_engine(engine)
        return cls(
            settings=settings,
            engine=engine,
            session_maker=create_session_maker(engine),
            redis=create_redis(settings),
            keys=RedisKeys(settings.redis_prefix),
        )

    async def close(self) -> None:
        await self.redis.aclose()
        await self.engine.dispose()

"""`exportMyData`'s shared parts: whom it is about, and the shape of a domain's section."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from redis.asyncio import Redis
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.core.config import Settings
from hom.core.redis import RedisKeys


@dataclass(frozen=True)
class ExportRequest:
    """The signed-in user whose data is exported, and where the data not in PostgreSQL lives."""

    user_id: int
    email: str
    redis: Redis
    keys: RedisKeys
    settings: Settings


class ExportSection(Protocol):
    """A domain's part of the export: top-level keys of its own, no secrets."""

    async def __call__(
        self, session: AsyncSession, *, request: ExportRequest
    ) -> dict[str, Any]: ...

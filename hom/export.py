"""`exportMyData`: everything stored about the caller, as one JSON document.

It sits above the domains so that it can gather each one's section (`export` in its
declaration): accounts may not import the catalog, but this module may ask both.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import strawberry
from redis.asyncio import Redis
from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry.scalars import JSON

from hom.accounts import service as accounts
from hom.context import Context
from hom.core.clock import iso_utc
from hom.core.config import Settings
from hom.core.export import ExportRequest
from hom.core.graphql.permissions import IsAuthenticated, require_viewer
from hom.core.redis import RedisKeys
from hom.domains import export_sections


async def export_user_data(
    session: AsyncSession, *, user_id: int, redis: Redis, keys: RedisKeys, settings: Settings
) -> dict[str, Any]:
    """Every domain's section, in domain order, after the moment of the export."""
    user = await accounts.require_user(session, user_id=user_id)
    request = ExportRequest(user_id, user.email, redis, keys, settings)
    data: dict[str, Any] = {"exportedAt": iso_utc(datetime.now(UTC))}
    for section in export_sections():
        part = await section(session, request=request)
        assert not data.keys() & part.keys(), f"export sections overlap: {sorted(part)}"
        data.update(part)
    return data


@strawberry.type
class ExportQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Everything stored about you, as one JSON document (no secrets).",
    )
    async def export_my_data(self, info: strawberry.Info) -> JSON:
        viewer = await require_viewer(info)
        context: Context = info.context
        async with context.db.session() as session:
            data = await export_user_data(
                session,
                user_id=viewer.user_id,
                redis=context.redis,
                keys=context.keys,
                settings=context.settings,
            )
        return JSON(data)

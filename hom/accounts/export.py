"""The accounts' part of `exportMyData`: the profile and the signed-in devices.

Secrets are left out (password hash, token hashes).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from hom.accounts import service
from hom.accounts.models import User
from hom.accounts.sessions import SessionInfo, SessionStore
from hom.core.clock import iso_utc
from hom.core.export import ExportRequest


def _iso(value: datetime | int | None) -> str | None:
    """Like the DateTime scalar; epoch seconds (sessions in Redis) too."""
    if isinstance(value, int):
        value = datetime.fromtimestamp(value, UTC)
    return iso_utc(value) if value else None


def _profile(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "fullName": user.full_name,
        "role": user.role,
        "isActive": user.is_active,
        "emailVerifiedAt": _iso(user.email_verified_at),
        "timezone": user.timezone,
        "avatar": user.avatar,
        "createdAt": _iso(user.created_at),
        "updatedAt": _iso(user.updated_at),
    }


def _session(info: SessionInfo) -> dict[str, Any]:
    return {
        "userAgent": info.user_agent,
        "ip": info.ip,
        "createdAt": _iso(info.created_at),
        "lastUsedAt": _iso(info.last_used_at),
    }


async def export_section(session: AsyncSession, *, request: ExportRequest) -> dict[str, Any]:
    user = await service.require_user(session, user_id=request.user_id)
    sessions = SessionStore(request.redis, request.keys, request.settings)
    return {
        "profile": _profile(user),
        "sessions": [_session(info) for info in await sessions.list(request.user_id)],
    }

"""Avatars: sniffed, size-checked, re-encoded without metadata, stored under a random name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from hom.accounts.models import User
from hom.core.errors import DomainError, ErrorCode
from hom.core.viewer import Viewer


async def change_avatar(
    session: AsyncSession, media_dir: Path, viewer: Viewer, upload: Any
) -> User:
    raise DomainError(ErrorCode.INVALID, "Avatars are not accepted yet", "file")

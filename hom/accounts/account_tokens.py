"""Single-use, expiring tokens mailed to users (email verification, password reset)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.accounts.models import AccountToken, TokenPurpose
from hom.core.clock import utcnow

LIFETIMES = {
    TokenPurpose.VERIFY_EMAIL: timedelta(hours=48),
    TokenPurpose.RESET_PASSWORD: timedelta(hours=1),
}


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


async def issue_token(session: AsyncSession, *, user_id: int, purpose: TokenPurpose) -> str:
    """A new token for the user; only its hash is stored, the raw value goes into the mail."""
    raw = secrets.token_urlsafe(32)
    expires_at = utcnow() + LIFETIMES[purpose]
    session.add(
        AccountToken(
            user_id=user_id, purpose=purpose.value, token_hash=_digest(raw), expires_at=expires_at
        )
    )
    await session.flush()
    return raw


async def consume_token(session: AsyncSession, *, raw: str, purpose: TokenPurpose) -> int | None:
    """Use a token once: the user id it was for, or None if unknown, used or expired."""
    statement = (
        update(AccountToken)
        .where(
            col(AccountToken.token_hash) == _digest(raw),
            col(AccountToken.purpose) == purpose.value,
            col(AccountToken.used_at).is_(None),
            col(AccountToken.expires_at) > utcnow(),
        )
        .values(used_at=utcnow())
        .returning(col(AccountToken.user_id))
    )
    user_id = (await session.exec(statement)).scalar_one_or_none()
    return int(user_id) if user_id is not None else None

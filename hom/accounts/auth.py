"""Logging in, refreshing and logging out: the rules behind the REST /auth endpoints."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from hom.accounts import service
from hom.accounts.sessions import SessionError, SessionStore, TokenPair
from hom.accounts.throttle import LoginThrottle
from hom.core import tokens
from hom.core.config import Settings
from hom.core.passwords import verify_password
from hom.core.roles import Role
from hom.core.tokens import InvalidToken, TokenType


class LoginRefused(StrEnum):
    INVALID_CREDENTIALS = "invalid_credentials"
    THROTTLED = "throttled"
    INACTIVE = "inactive"


class LoginFailed(Exception):
    def __init__(self, reason: LoginRefused, retry_after: int = 0) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class Client:
    ip: str
    user_agent: str


async def login(
    session: AsyncSession,
    *,
    sessions: SessionStore,
    throttle: LoginThrottle,
    email: str,
    password: str,
    client: Client,
) -> TokenPair:
    """A new session for the right password; the same refusal for unknown email or wrong one."""
    retry_after = await throttle.retry_after(email, client.ip)
    if retry_after:
        raise LoginFailed(LoginRefused.THROTTLED, retry_after)
    user = await service.find_by_email(session, email=email)
    if user is not None:
        session.expunge(user)
    # End the read before hashing (~45 ms of CPU): no pooled connection waits on argon2.
    await session.rollback()
    checked = await verify_password(user.password_hash if user else None, password)
    if user is None or not checked.ok:
        await throttle.failed(email, client.ip)
        raise LoginFailed(LoginRefused.INVALID_CREDENTIALS)
    await throttle.succeeded(email)
    if not user.is_active:
        raise LoginFailed(LoginRefused.INACTIVE)
    assert user.id is not None
    if checked.new_hash:
        await service.set_password_hash(session, user_id=user.id, password_hash=checked.new_hash)
    return await sessions.start(user.id, Role(user.role), client.user_agent, client.ip)


async def refresh(*, settings: Settings, sessions: SessionStore, refresh_token: str) -> TokenPair:
    """Rotate: raises InvalidToken or SessionError (reuse ends the session)."""
    claims = tokens.decode(settings, refresh_token, TokenType.REFRESH)
    return await sessions.rotate(claims)


async def logout(
    *, settings: Settings, sessions: SessionStore, access_token: str, refresh_token: str
) -> None:
    """End the session both tokens belong to; they must belong to the same one."""
    access = tokens.decode(settings, access_token, TokenType.ACCESS)
    refresh_claims = tokens.decode(settings, refresh_token, TokenType.REFRESH)
    if access.sid != refresh_claims.sid or access.user_id != refresh_claims.user_id:
        raise InvalidToken("tokens of different sessions")
    if not await sessions.viewer(access):
        raise InvalidToken("session already ended")
    await sessions.end(access.user_id, access.sid, access)


__all__ = [
    "Client",
    "InvalidToken",
    "LoginFailed",
    "LoginRefused",
    "SessionError",
    "login",
    "logout",
    "refresh",
]

"""Password changes: by a mailed reset link, or by the holder who knows the current one.

Either ends the account's other sessions (`end_sessions`, which an admin's
deactivation uses too) and leaves an in-app notice. Plain async functions over a
session; they never commit and never import strawberry.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from hom.accounts.account_tokens import consume_token
from hom.accounts.checks import check_password, normalize_email
from hom.accounts.models import TokenPurpose, User
from hom.accounts.registration import MAIL_LIMIT
from hom.accounts.service import require_user
from hom.accounts.sessions import SessionStore
from hom.core.errors import DomainError, ErrorCode
from hom.core.passwords import hash_password, verify_password
from hom.core.rate_limit import RateLimiter, anonymized
from hom.core.unit_of_work import after_commit
from hom.core.viewer import Viewer
from hom.notifications import service as notifications

RESET_MAIL = "password_reset"
PASSWORD_CHANGED = "account.password_changed"  # noqa: S105 - a notification kind


async def request_password_reset(
    session: AsyncSession, *, limiter: RateLimiter, email: str
) -> None:
    """Queue a reset mail for the address, whether or not it has an account.

    The request does the same work either way (one INSERT), so neither its
    answer nor its timing tells whether the address is known; the worker
    looks the account up and writes only to an existing one. At most a few
    mails per address per hour, so nobody can flood an inbox.
    """
    address = normalize_email(email).lower()  # addresses are case-insensitive here
    if not await limiter.allow("reset_mail", anonymized(address), *MAIL_LIMIT):
        return
    await notifications.enqueue_mail(session, to=address, template=RESET_MAIL)


async def reset_password(
    session: AsyncSession, *, sessions: SessionStore, token: str, new_password: str
) -> User:
    check_password(new_password, field="new_password")
    user_id = await consume_token(session, raw=token, purpose=TokenPurpose.RESET_PASSWORD)
    if user_id is None:
        raise DomainError(ErrorCode.INVALID, "This link is invalid or has expired", "token")
    user = await require_user(session, user_id=user_id)
    user.password_hash = await hash_password(new_password)
    await session.flush()
    await end_sessions(session, sessions=sessions, user_id=user_id)
    await _tell_password_changed(session, user_id=user_id)
    return user


async def change_password(
    session: AsyncSession,
    *,
    sessions: SessionStore,
    viewer: Viewer,
    current_password: str,
    new_password: str,
) -> User:
    """Change the viewer's password; every other session of theirs ends."""
    user = await require_user(session, user_id=viewer.user_id)
    if not (await verify_password(user.password_hash, current_password)).ok:
        raise DomainError(
            ErrorCode.INVALID_CREDENTIALS, "Current password is wrong", "current_password"
        )
    check_password(new_password, field="new_password")
    user.password_hash = await hash_password(new_password)
    await session.flush()
    await end_sessions(session, sessions=sessions, user_id=viewer.user_id, keep_sid=viewer.sid)
    await _tell_password_changed(session, user_id=viewer.user_id)
    return user


async def _tell_password_changed(session: AsyncSession, *, user_id: int) -> None:
    """An in-app notice: the one way to learn of a change made by someone else."""
    await notifications.notify(
        session,
        user_id=user_id,
        kind=PASSWORD_CHANGED,
        title="Your password was changed",
        body="Your other sessions were signed out. If this was not you, reset your password.",
    )


async def end_sessions(
    session: AsyncSession, *, sessions: SessionStore, user_id: int, keep_sid: str | None = None
) -> None:
    """End the user's sessions now, and again after commit.

    A login racing this transaction still reads the old row and may start a
    session; the second pass ends that one too.
    """
    await sessions.end_all(user_id, keep_sid)
    after_commit(session, lambda: sessions.end_all(user_id, keep_sid))

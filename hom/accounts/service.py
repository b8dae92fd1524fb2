"""Users: the lookups other code calls (by id, by email, in batches), and the writes to
an account holder's own row (profile, a rehashed password).

Plain async functions over a session; they never commit (the caller's
transaction does) and never import strawberry. Registration and email
verification are in `registration`, password reset and change in `passwords`,
user management by admins in `admin`, input checks in `checks`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.accounts.checks import check_full_name, check_timezone
from hom.accounts.models import User as User
from hom.accounts.sessions import revoked_channel as revoked_channel
from hom.core.db import PrimaryKeyReader
from hom.core.errors import DomainError, ErrorCode
from hom.core.viewer import Viewer


async def find_by_email(session: AsyncSession, *, email: str) -> User | None:
    statement = select(User).where(func.lower(User.email) == email.strip().lower())
    return (await session.exec(statement)).one_or_none()


async def user_ids_by_email(session: AsyncSession, *, emails: Sequence[str]) -> dict[str, int]:
    """{email as asked: user id} of those that exist, in one statement."""
    asked = {email.strip().lower(): email for email in emails}
    statement = select(func.lower(User.email), col(User.id)).where(
        func.lower(User.email).in_(asked)
    )
    return {asked[email]: user_id for email, user_id in await session.exec(statement) if user_id}


async def get_user(session: PrimaryKeyReader, *, user_id: int) -> User | None:
    """By id, through a session or the request's database (one statement, see row_reads)."""
    return await session.get(User, user_id)


async def users_by_ids(session: AsyncSession, *, ids: Sequence[int]) -> list[User | None]:
    """Batch lookup in the order asked (the users loader)."""
    rows = await session.exec(select(User).where(col(User.id).in_(ids)))
    found = {user.id: user for user in rows}
    return [found.get(user_id) for user_id in ids]


async def set_password_hash(session: AsyncSession, *, user_id: int, password_hash: str) -> None:
    statement = update(User).where(col(User.id) == user_id).values(password_hash=password_hash)
    await session.exec(statement)


async def require_user(session: PrimaryKeyReader, *, user_id: int, field: str = "id") -> User:
    user = await get_user(session, user_id=user_id)
    if user is None:
        raise DomainError(ErrorCode.NOT_FOUND, "No such user", field)
    return user


async def update_profile(
    session: AsyncSession, *, viewer: Viewer, full_name: str | None, timezone: str | None
) -> User:
    user = await require_user(session, user_id=viewer.user_id)
    if full_name is not None:
        user.full_name = check_full_name(full_name)
    if timezone is not None:
        user.timezone = check_timezone(timezone)
    await session.flush()
    return user

"""Staff members: the users with role STAFF who give appointments (SPEC §7), and who may
change whose schedule.

Plain functions over a session, like the service; they never commit.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import FromClause, and_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.accounts import service as accounts
from hom.core.errors import DomainError, ErrorCode
from hom.core.roles import Role
from hom.core.viewer import Viewer


def gives_appointments(user: FromClause) -> ColumnElement[bool]:
    """SQL over a user row: an active account with role STAFF."""
    return and_(user.c.role == Role.STAFF.value, user.c.is_active.is_(True))


class Member(Protocol):
    """What `is_staff_member` reads of an account (a row, or columns read without one)."""

    @property
    def role(self) -> str: ...
    @property
    def is_active(self) -> bool: ...


def is_staff_member(user: Member) -> bool:
    return user.role == Role.STAFF.value and user.is_active


async def require_staff_member(
    session: AsyncSession, *, staff_id: int, field: str = "staff_id", lock: bool = False
) -> accounts.User:
    """The active staff member, else NOT_FOUND (no such user) or INVALID (not staff) on
    `field`. With `lock`, their row is held (FOR NO KEY UPDATE) until the transaction
    ends: the changes of one staff member's schedule take turns."""
    user = await accounts.get_user(session, user_id=staff_id)
    if user is None:
        raise DomainError(ErrorCode.NOT_FOUND, "No such staff member", field)
    if lock:
        await session.refresh(user, with_for_update={"key_share": True})
    if not is_staff_member(user):
        message = f"{user.full_name} is not a staff member (an active user with role STAFF)"
        raise DomainError(ErrorCode.INVALID, message, field)
    return user


def check_acts_for(actor: Viewer, *, staff_id: int, field: str = "staff_id") -> None:
    """Admins change anyone's schedule; a staff member only their own."""
    if not (actor.is_admin or actor.user_id == staff_id):
        message = "Staff members change their own working hours and time off only"
        raise DomainError(ErrorCode.INVALID, message, field)

"""User management by admins: create, update (audited) and list accounts; and
`ensure_admin`, the CLI's way to make (or promote) the first admin.

Plain async functions over a session; they never commit (the caller's
transaction does) and never import strawberry.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.accounts.checks import check_full_name
from hom.accounts.models import User
from hom.accounts.passwords import end_sessions
from hom.accounts.registration import insert_user, send_verification
from hom.accounts.service import find_by_email, require_user
from hom.accounts.sessions import SessionStore
from hom.audit import service as audit
from hom.core.clock import utcnow
from hom.core.errors import DomainError, ErrorCode
from hom.core.pagination import Page, PageRequest, SortKey, keyset_select, make_page
from hom.core.roles import Role
from hom.core.unit_of_work import after_commit
from hom.core.viewer import Viewer

USER_KEYS = [SortKey(col(User.id))]


@dataclass(frozen=True, kw_only=True)
class NewUser:
    email: str
    password: str
    full_name: str
    role: Role
    email_verified: bool


async def create_user(session: AsyncSession, *, new: NewUser, actor: Viewer | None = None) -> User:
    """An account made by an admin, with any role, verified or not (audited)."""
    user = await insert_user(
        session, email=new.email, password=new.password, full_name=new.full_name, role=new.role
    )
    if new.email_verified:
        user.email_verified_at = utcnow()
        await session.flush()
    else:
        await send_verification(session, user=user)
    if actor is not None:
        changes = {**_audited(user), "email": user.email}
        await _audit(session, actor=actor, action="user.create", user=user, changes=changes)
    return user


async def _audit(
    session: AsyncSession, *, actor: Viewer, action: str, user: User, changes: dict[str, object]
) -> None:
    assert user.id is not None
    await audit.record(
        session, actor=actor, action=action, entity="User", entity_id=user.id, changes=changes
    )


def _audited(user: User) -> dict[str, object]:
    """The fields of a user that admins change, as the audit log shows them."""
    return {"role": user.role, "is_active": user.is_active, "full_name": user.full_name}


@dataclass(frozen=True, kw_only=True)
class UserChanges:
    user_id: int
    role: Role | None = None
    is_active: bool | None = None
    full_name: str | None = None


async def update_user(
    session: AsyncSession, *, sessions: SessionStore, actor: Viewer, changes: UserChanges
) -> User:
    """Admin changes (audited): a role change reaches live sessions at once; deactivation
    ends them."""
    user = await require_user(session, user_id=changes.user_id)
    demotes = changes.role is not None and changes.role is not Role.ADMIN
    if changes.user_id == actor.user_id and (changes.is_active is False or demotes):
        raise DomainError(ErrorCode.INVALID, "You cannot demote or deactivate yourself", "id")
    before = _audited(user)
    _apply(user, changes)
    await session.flush()
    diff = audit.diff(before, _audited(user))
    await _audit(session, actor=actor, action="user.update", user=user, changes=diff)
    await _propagate(session, sessions=sessions, changes=changes)
    return user


def _apply(user: User, changes: UserChanges) -> None:
    if changes.full_name is not None:
        user.full_name = check_full_name(changes.full_name)
    if changes.role is not None:
        user.role = changes.role.value
    if changes.is_active is not None:
        user.is_active = changes.is_active


async def _propagate(
    session: AsyncSession, *, sessions: SessionStore, changes: UserChanges
) -> None:
    """Deactivation ends the user's sessions; a role change reaches them."""
    if changes.is_active is False:
        await end_sessions(session, sessions=sessions, user_id=changes.user_id)
    elif changes.role is not None:
        role = changes.role
        await sessions.set_role(changes.user_id, role)
        after_commit(session, lambda: sessions.set_role(changes.user_id, role))


@dataclass(frozen=True, kw_only=True)
class UserFilter:
    role: Role | None = None
    is_active: bool | None = None
    search: str | None = None


async def list_users(
    session: AsyncSession, *, filters: UserFilter, request: PageRequest
) -> Page[User]:
    statement = select(User)
    if filters.role is not None:
        statement = statement.where(col(User.role) == filters.role.value)
    if filters.is_active is not None:
        statement = statement.where(col(User.is_active) == filters.is_active)
    if filters.search:
        pattern = "%" + _escape_like(filters.search.strip()) + "%"
        statement = statement.where(
            or_(col(User.email).ilike(pattern), col(User.full_name).ilike(pattern))
        )
    rows = (await session.exec(keyset_select(statement, USER_KEYS, request))).all()
    return make_page(rows, request, lambda user: (user.id,))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def ensure_admin(
    session: AsyncSession, *, sessions: SessionStore, email: str, password: str
) -> User:
    """Create the admin, or promote (and re-activate) an existing account.

    A promoted account's live sessions get the role once the promotion is committed.
    """
    user = await find_by_email(session, email=email)
    if user is None:
        user = await insert_user(
            session, email=email, password=password, full_name="Administrator", role=Role.ADMIN
        )
    user.role, user.is_active = Role.ADMIN.value, True
    user.email_verified_at = user.email_verified_at or utcnow()
    await session.flush()
    user_id = user.id
    assert user_id is not None
    after_commit(session, lambda: sessions.set_role(user_id, Role.ADMIN))
    return user

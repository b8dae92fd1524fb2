"""Account rules: registration, verification, passwords, profiles, user management.

Plain async functions over a session; they never commit (the caller's
transaction does) and never import strawberry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.accounts.account_tokens import consume_token
from hom.accounts.models import TokenPurpose
from hom.accounts.models import User as User
from hom.accounts.sessions import SessionStore
from hom.accounts.sessions import revoked_channel as revoked_channel
from hom.audit import service as audit
from hom.core.clock import utcnow
from hom.core.db import PrimaryKeyReader, violated_constraint
from hom.core.errors import DomainError, ErrorCode
from hom.core.pagination import Page, PageRequest, SortKey, keyset_select, make_page
from hom.core.passwords import hash_password, password_problem, verify_password
from hom.core.rate_limit import RateLimiter, anonymized
from hom.core.roles import Role
from hom.core.unit_of_work import after_commit
from hom.core.viewer import Viewer
from hom.notifications import service as notifications

MAX_NAME_LENGTH = 200
MAIL_LIMIT = (3, 3600)  # mails per address (or user), per window in seconds
USER_KEYS = [SortKey(col(User.id))]
VERIFY_MAIL = "verify_email"
RESET_MAIL = "password_reset"
PASSWORD_CHANGED = "account.password_changed"  # noqa: S105 - a notification kind


def normalize_email(email: str, *, field: str = "email") -> str:
    """A syntactically valid address (domain lower-cased), else INVALID."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise DomainError(ErrorCode.INVALID, "Enter a valid email address", field) from None


def check_password(password: str, *, field: str = "password") -> None:
    problem = password_problem(password)
    if problem:
        raise DomainError(ErrorCode.INVALID, problem, field)


def check_full_name(full_name: str) -> str:
    name = " ".join(full_name.split())
    if not name or len(name) > MAX_NAME_LENGTH:
        raise DomainError(
            ErrorCode.INVALID, f"Name must be 1-{MAX_NAME_LENGTH} characters", "full_name"
        )
    return name


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_timezone(timezone: str) -> str:
    if timezone not in _timezones():
        raise DomainError(ErrorCode.INVALID, "Unknown time zone", "timezone")
    return timezone


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


async def _insert(session: AsyncSession, user: User) -> User:
    try:
        # Added inside the savepoint, so a refused INSERT also expunges the object and the
        # caller's transaction stays usable (else the next autoflush would retry the INSERT).
        async with session.begin_nested():
            session.add(user)
            await session.flush()
    except IntegrityError as error:
        if violated_constraint(error) == "uq_user_account_email_lower":
            raise DomainError(
                ErrorCode.ALREADY_EXISTS, "An account with this email exists", "email"
            ) from None
        raise
    return user


async def _new_user(
    session: AsyncSession, *, email: str, password: str, full_name: str, role: Role
) -> User:
    address = normalize_email(email)
    check_password(password)
    name = check_full_name(full_name)
    user = User(email=address, full_name=name, role=role.value, password_hash="")
    user.password_hash = await hash_password(password)
    return await _insert(session, user)


async def register(session: AsyncSession, *, email: str, password: str, full_name: str) -> User:
    """A new customer account, with a verification mail in the outbox."""
    user = await _new_user(
        session, email=email, password=password, full_name=full_name, role=Role.CUSTOMER
    )
    await send_verification(session, user=user)
    return user


async def send_verification(session: AsyncSession, *, user: User) -> None:
    """Queue the verification mail; the worker issues its token when it sends it."""
    await notifications.enqueue_mail(
        session,
        to=user.email,
        to_name=user.full_name,
        template=VERIFY_MAIL,
        context={"user_id": user.id},
    )


async def resend_verification(
    session: AsyncSession, *, limiter: RateLimiter, viewer: Viewer
) -> User:
    """A fresh verification mail for the viewer, unless already verified or asked too often."""
    user = await require_user(session, user_id=viewer.user_id)
    if user.email_verified_at is not None:
        raise DomainError(ErrorCode.INVALID, "Your email address is already verified")
    if not await limiter.allow("verify_mail", str(viewer.user_id), *MAIL_LIMIT):
        raise DomainError(ErrorCode.RATE_LIMITED, "Too many mails asked for; try again later")
    await send_verification(session, user=user)
    return user


async def verify_email(session: AsyncSession, *, token: str) -> User:
    user_id = await consume_token(session, raw=token, purpose=TokenPurpose.VERIFY_EMAIL)
    if user_id is None:
        raise DomainError(ErrorCode.INVALID, "This link is invalid or has expired", "token")
    user = await require_user(session, user_id=user_id)
    user.email_verified_at = user.email_verified_at or utcnow()
    await session.flush()
    return user


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


@dataclass(frozen=True, kw_only=True)
class NewUser:
    email: str
    password: str
    full_name: str
    role: Role
    email_verified: bool


async def create_user(session: AsyncSession, *, new: NewUser, actor: Viewer | None = None) -> User:
    """An account made by an admin, with any role, verified or not (audited)."""
    user = await _new_user(
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


async def end_sessions(
    session: AsyncSession, *, sessions: SessionStore, user_id: int, keep_sid: str | None = None
) -> None:
    """End the user's sessions now, and again after commit.

    A login racing this transaction still reads the old row and may start a
    session; the second pass ends that one too.
    """
    await sessions.end_all(user_id, keep_sid)
    after_commit(session, lambda: sessions.end_all(user_id, keep_sid))


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
        user = await _new_user(
            session, email=email, password=password, full_name="Administrator", role=Role.ADMIN
        )
    user.role, user.is_active = Role.ADMIN.value, True
    user.email_verified_at = user.email_verified_at or utcnow()
    await session.flush()
    user_id = user.id
    assert user_id is not None
    after_commit(session, lambda: sessions.set_role(user_id, Role.ADMIN))
    return user

"""New accounts: the checked INSERT every way of making one shares, customers'
self-registration, and the verification of their email address.

Plain async functions over a session; they never commit (the caller's
transaction does) and never import strawberry.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.accounts.account_tokens import consume_token
from hom.accounts.checks import check_full_name, check_password, normalize_email
from hom.accounts.models import TokenPurpose, User
from hom.accounts.service import require_user
from hom.core.clock import utcnow
from hom.core.db import violated_constraint
from hom.core.errors import DomainError, ErrorCode
from hom.core.passwords import hash_password
from hom.core.rate_limit import RateLimiter
from hom.core.roles import Role
from hom.core.viewer import Viewer
from hom.notifications import service as notifications

MAIL_LIMIT = (3, 3600)  # mails per address (or user), per window in seconds
VERIFY_MAIL = "verify_email"


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


async def insert_user(
    session: AsyncSession, *, email: str, password: str, full_name: str, role: Role
) -> User:
    """A new account row, its inputs checked and its password hashed."""
    address = normalize_email(email)
    check_password(password)
    name = check_full_name(full_name)
    user = User(email=address, full_name=name, role=role.value, password_hash="")
    user.password_hash = await hash_password(password)
    return await _insert(session, user)


async def register(session: AsyncSession, *, email: str, password: str, full_name: str) -> User:
    """A new customer account, with a verification mail in the outbox."""
    user = await insert_user(
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

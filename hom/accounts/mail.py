"""The accounts' mail, decided when the worker sends it: tokens are issued then.

Raw tokens thus never rest in the outbox, and a password reset for an address
without an account costs the request exactly what one for a real account costs.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel.ext.asyncio.session import AsyncSession

from hom.accounts import passwords, registration, service
from hom.accounts.account_tokens import issue_token
from hom.accounts.models import TokenPurpose, User
from hom.notifications.service import OutboxMessage, Prepared, Preparer


async def _with_token(session: AsyncSession, user: User, purpose: TokenPurpose) -> Prepared:
    assert user.id is not None
    token = await issue_token(session, user_id=user.id, purpose=purpose)
    context = {"name": user.full_name, "token": token}
    return Prepared(context, to_name=user.full_name, to=user.email)


async def prepare_verification(session: AsyncSession, message: OutboxMessage) -> Prepared | None:
    """A link for an account that still needs one; nothing once it is verified or gone."""
    user = await service.get_user(session, user_id=int(message.context["user_id"]))
    if user is None or not user.is_active or user.email_verified_at is not None:
        return None
    if user.email.lower() != message.recipient.lower():
        return None
    return await _with_token(session, user, TokenPurpose.VERIFY_EMAIL)


async def prepare_password_reset(session: AsyncSession, message: OutboxMessage) -> Prepared | None:
    """A reset link for an active account with this address; nobody to write to otherwise."""
    user = await service.find_by_email(session, email=message.recipient)
    if user is None or not user.is_active:
        return None
    return await _with_token(session, user, TokenPurpose.RESET_PASSWORD)


PREPARERS: Mapping[str, Preparer] = {
    registration.VERIFY_MAIL: prepare_verification,
    passwords.RESET_MAIL: prepare_password_reset,
}

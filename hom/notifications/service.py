"""Notification rules: mail goes into the outbox, in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from hom.notifications.models import OutboxMessage


class MailKind:
    VERIFY_EMAIL = "mail.verify_email"
    PASSWORD_RESET = "mail.password_reset"  # noqa: S105 - a kind, not a secret


async def enqueue_mail(
    session: AsyncSession, *, kind: str, recipient: str, payload: dict[str, Any]
) -> OutboxMessage:
    """Queue a mail; it is sent by the worker only if the surrounding transaction commits."""
    message = OutboxMessage(kind=kind, recipient=recipient, payload=payload)
    session.add(message)
    await session.flush()
    return message

"""The outbox's API for other domains: mail is queued in the caller's transaction.

A message written here is sent by `hom worker` only once the surrounding
transaction commits; if it rolls back, the message never existed. A `key`
makes enqueueing idempotent and lets a later event cancel or move a message
that is still pending (a reminder for an appointment that moved). A domain whose mail
is decided when it is sent declares a `Preparer` per template (its `mail_preparers`);
in-app notifications are written with `notify` (several in one statement: `notify_all`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, literal_column, null, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.core.clock import iso_utc
from hom.core.errors import InvalidInput
from hom.core.export import ExportRequest
from hom.notifications.inbox import Note as Note
from hom.notifications.inbox import export_notifications
from hom.notifications.inbox import notify as notify
from hom.notifications.inbox import notify_all as notify_all
from hom.notifications.models import MailStatus
from hom.notifications.models import OutboxMessage as OutboxMessage
from hom.notifications.rendering import TEMPLATES


@dataclass(frozen=True)
class Prepared:
    """What a template's preparer decided: the context, the display name, the address."""

    context: dict[str, Any]
    to_name: str | None = None
    to: str | None = None  # the account's own spelling, rather than the one typed


# A domain's last word before sending (look up the account, issue a token), in its
# own committed transaction; None means there is nobody to write to.
Preparer = Callable[[AsyncSession, OutboxMessage], Awaitable[Prepared | None]]


async def enqueue_mail(
    session: AsyncSession,
    *,
    to: str,
    template: str,
    context: dict[str, Any] | None = None,
    to_name: str | None = None,
    send_after: datetime | None = None,
    key: str | None = None,
) -> OutboxMessage:
    """Queue a mail; with a `key` already queued, the existing message is returned unchanged."""
    if template not in TEMPLATES:
        raise InvalidInput(f"No mail template named {template!r}")
    _check_time(send_after)
    values: dict[str, Any] = {"template": template, "recipient": to, "recipient_name": to_name}
    values |= {"context": context or {}, "key": key, "send_after": send_after}
    made: OutboxMessage | None = (await session.exec(_ENQUEUE, params=values)).scalar_one_or_none()
    if made is not None:
        return made
    # the key was taken: enqueueing again changes nothing
    return (await session.exec(select(OutboxMessage).where(OutboxMessage.key == key))).one()


def _enqueue_statement() -> Any:
    """The INSERT of `enqueue_mail`, built once, a parameter per value (`send_after` None:
    now, as the column's default); a key already taken skips it (no row back)."""
    table: Any = OutboxMessage.__table__  # type: ignore[attr-defined]
    names = ("template", "recipient", "recipient_name", "context", "key")
    values: dict[str, Any] = {name: bindparam(name, type_=table.c[name].type) for name in names}
    send_after = bindparam("send_after", type_=table.c.send_after.type)
    values["send_after"] = func.coalesce(send_after, func.now())
    statement = (
        insert(table)
        .values(values)
        .on_conflict_do_nothing(index_elements=["key"], index_where=table.c.key.isnot(None))
        .returning(*table.c)
    )
    return select(OutboxMessage).from_statement(statement)


_ENQUEUE = _enqueue_statement()


def _check_time(send_after: datetime | None) -> None:
    if send_after is not None and send_after.tzinfo is None:
        raise InvalidInput("send_after needs a time zone")


@dataclass(frozen=True, kw_only=True)
class ScheduledMail:
    """A keyed mail for a set time (an appointment's reminder)."""

    key: str
    to: str
    template: str
    send_after: datetime
    context: dict[str, Any] = field(default_factory=dict)
    to_name: str | None = None


async def schedule_mails(session: AsyncSession, *, mails: Sequence[ScheduledMail]) -> None:
    """Queue each keyed mail for its `send_after`, in one statement: written when its key is
    new; queued again, at the new time and with the new context, when the message with its
    key is pending, cancelled or already sent (a reminder of an appointment that moved);
    left alone while a worker holds it."""
    if not mails:
        return
    for mail in mails:
        if mail.template not in TEMPLATES:
            raise InvalidInput(f"No mail template named {mail.template!r}")
        _check_time(mail.send_after)
    # Several rows: SQLAlchemy writes them into one INSERT (its "insertmanyvalues", which
    # RETURNING asks for), from the statement compiled once.
    await session.exec(_SCHEDULE, params=[_row(mail) for mail in mails])


def _schedule_statement() -> Any:
    """The upsert of `schedule_mails`, with a parameter per column of `_row` and none
    after VALUES (SQLAlchemy sends a row at a time a statement with such parameters)."""
    table: Any = OutboxMessage.__table__  # type: ignore[attr-defined]
    statement = insert(table)
    fresh = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["key"],
        index_where=table.c.key.isnot(None),
        set_={
            **{name: fresh[name] for name in ("template", "recipient", "recipient_name")},
            **{name: fresh[name] for name in ("context", "send_after")},
            "status": literal_column(f"'{MailStatus.PENDING.value}'"),
            **dict.fromkeys(("last_error", "sent_at", "locked_until", "claim"), null()),
            "attempts": literal_column("0"),
        },
        where=table.c.status != literal_column(f"'{MailStatus.SENDING.value}'"),
    ).returning(table.c.id)


_SCHEDULE = _schedule_statement()


def _row(mail: ScheduledMail) -> dict[str, Any]:
    return {
        "key": mail.key,
        "recipient": mail.to,
        "recipient_name": mail.to_name,
        "template": mail.template,
        "context": mail.context,
        "send_after": mail.send_after,
    }


async def cancel_mail(session: AsyncSession, *, key: str) -> bool:
    """Cancel the pending message with this key; False when there is none (or it went out)."""
    return await _change_pending(session, key, status=MailStatus.CANCELLED.value)


async def move_mail(session: AsyncSession, *, key: str, send_after: datetime) -> bool:
    """Send the pending message with this key at another time; False when there is none."""
    _check_time(send_after)
    return await _change_pending(session, key, send_after=send_after)


async def _change_pending(session: AsyncSession, key: str, **values: Any) -> bool:
    statement = (
        update(OutboxMessage)
        .where(col(OutboxMessage.key) == key, col(OutboxMessage.status) == MailStatus.PENDING)
        .values(**values)
        .returning(col(OutboxMessage.id))
    )
    return (await session.exec(statement)).first() is not None


async def export_mail(session: AsyncSession, *, address: str) -> list[dict[str, Any]]:
    """What the outbox holds for an address (for its owner's data export): no contents."""
    statement = (
        select(OutboxMessage)
        .where(func.lower(OutboxMessage.recipient) == address.lower())
        .order_by(col(OutboxMessage.id))
    )
    return [
        {
            "template": message.template,
            "status": message.status,
            "createdAt": iso_utc(message.created_at) if message.created_at else None,
            "sentAt": iso_utc(message.sent_at) if message.sent_at else None,
        }
        for message in (await session.exec(statement)).all()
    ]


async def export_section(session: AsyncSession, *, request: ExportRequest) -> dict[str, Any]:
    """The notifications' part of `exportMyData`: the in-app ones and the mail kept."""
    return {
        "notifications": await export_notifications(session, user_id=request.user_id),
        "mail": await export_mail(session, address=request.email),
    }

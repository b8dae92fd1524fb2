"""In-app notification rules: written in the event's transaction, published once it commits,
read and marked read by their owner only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.core.clock import iso_utc
from hom.core.errors import DomainError, ErrorCode
from hom.core.pagination import (
    Page,
    PageRequest,
    SortKey,
    count_rows,
    keyset_select,
    make_page,
)
from hom.core.pubsub import Channel, publish_after_commit
from hom.notifications.models import Notification

NOTIFICATION_KEYS = [SortKey(col(Notification.id), descending=True)]


def user_channel(user_id: int) -> Channel:
    """Where a user's new notifications are published (`notification_message`)."""
    return ("notifications", "user", str(user_id))


@dataclass(frozen=True, kw_only=True)
class Note:
    """One in-app notification to write (`notify_all`)."""

    user_id: int
    kind: str
    title: str
    body: str
    link: str | None = None
    data: dict[str, Any] | None = None


async def notify(
    session: AsyncSession,
    *,
    user_id: int,
    kind: str,
    title: str,
    body: str,
    link: str | None = None,
    data: dict[str, Any] | None = None,
) -> Notification:
    """Store a notification; it is published to live subscribers only if the caller's
    transaction commits."""
    note = Note(user_id=user_id, kind=kind, title=title, body=body, link=link, data=data)
    [notification] = await notify_all(session, notes=[note])
    return notification


async def notify_all(session: AsyncSession, *, notes: Sequence[Note]) -> list[Notification]:
    """Store the notifications in one statement (one flush), in order; each is published to
    live subscribers only if the caller's transaction commits."""
    made = [
        Notification(
            user_id=note.user_id,
            kind=note.kind,
            title=note.title,
            body=note.body,
            link=note.link,
            data=note.data or {},
        )
        for note in notes
    ]
    session.add_all(made)
    await session.flush()
    for notification in made:
        channel = user_channel(notification.user_id)
        publish_after_commit(session, channel, notification_message(notification))
    return made


def notification_message(notification: Notification) -> dict[str, Any]:
    """The published form of a notification (JSON)."""
    message = notification.model_dump()
    for name in ("read_at", "created_at"):
        value = message[name]
        message[name] = iso_utc(value) if value is not None else None
    return message


def notification_of_message(message: dict[str, Any]) -> Notification:
    """A notification from its published form."""
    times = {
        name: datetime.fromisoformat(message[name]) if message.get(name) else None
        for name in ("read_at", "created_at")
    }
    return Notification(**{**message, **times})


async def list_notifications(
    session: AsyncSession, *, user_id: int, unread_only: bool, request: PageRequest
) -> Page[Notification]:
    """The user's notifications, newest first."""
    statement = notifications_listing(user_id, unread_only=unread_only)
    rows = (await session.exec(keyset_select(statement, NOTIFICATION_KEYS, request))).all()
    return make_page(rows, request, lambda notification: (notification.id,))


def notifications_listing(user_id: int, *, unread_only: bool) -> Any:
    statement = select(Notification).where(col(Notification.user_id) == user_id)
    if unread_only:
        statement = statement.where(col(Notification.read_at).is_(None))
    return statement


async def count_notifications(session: AsyncSession, *, user_id: int, unread_only: bool) -> int:
    """How many notifications `list_notifications` pages through."""
    return await count_rows(session, notifications_listing(user_id, unread_only=unread_only))


async def unread_count(session: AsyncSession, *, user_id: int) -> int:
    statement = select(func.count()).where(
        col(Notification.user_id) == user_id, col(Notification.read_at).is_(None)
    )
    return int((await session.exec(statement)).one())


async def mark_read(session: AsyncSession, *, user_id: int, notification_id: int) -> Notification:
    """Mark one of the user's notifications read (again: no change); anyone else's is
    NOT_FOUND."""
    statement = (
        update(Notification)
        .where(col(Notification.id) == notification_id, col(Notification.user_id) == user_id)
        .values(read_at=func.coalesce(col(Notification.read_at), func.now()))
        .returning(Notification)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    notification: Notification | None = (await session.exec(statement)).scalar_one_or_none()
    if notification is None:
        raise DomainError(ErrorCode.NOT_FOUND, "No such notification", "id")
    return notification


async def mark_all_read(session: AsyncSession, *, user_id: int) -> int:
    """Mark every unread notification of the user read; how many were."""
    statement = (
        update(Notification)
        .where(col(Notification.user_id) == user_id, col(Notification.read_at).is_(None))
        .values(read_at=func.now())
        .execution_options(synchronize_session=False)
    )
    return (await session.exec(statement)).rowcount


async def notifications_by_ids(
    session: AsyncSession, *, ids: Sequence[int]
) -> list[Notification | None]:
    """Batch lookup in the order asked (the notifications loader)."""
    rows = await session.exec(select(Notification).where(col(Notification.id).in_(ids)))
    found = {notification.id: notification for notification in rows}
    return [found.get(notification_id) for notification_id in ids]


async def export_notifications(session: AsyncSession, *, user_id: int) -> list[dict[str, Any]]:
    """All of the user's notifications, newest first, for their data export."""
    statement = (
        select(Notification)
        .where(col(Notification.user_id) == user_id)
        .order_by(col(Notification.id).desc())
    )
    return [
        {
            "kind": notification.kind,
            "title": notification.title,
            "body": notification.body,
            "link": notification.link,
            "data": notification.data,
            "createdAt": iso_utc(notification.created_at) if notification.created_at else None,
            "readAt": iso_utc(notification.read_at) if notification.read_at else None,
        }
        for notification in (await session.exec(statement)).all()
    ]

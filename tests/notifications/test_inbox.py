"""The rules of hom/notifications/inbox.py, on the real database and Redis."""

from __future__ import annotations

import pytest
from sqlmodel import col, select
from starlette.applications import Starlette

from hom.core.errors import DomainError, ErrorCode
from hom.core.pagination import PageRequest
from hom.core.pubsub import Message, PubSubHub
from hom.core.unit_of_work import SessionMaker, unit_of_work
from hom.notifications import inbox
from hom.notifications.models import Notification
from tests.factories import create_user
from tests.notifications.factories import create_notifications

WAIT = 5.0  # seconds a message may take to arrive (it normally takes milliseconds)


class Refused(Exception):
    pass


def hub_of(app: Starlette) -> PubSubHub:
    hub: PubSubHub = app.state.services.pubsub
    return hub


async def titles(session_maker: SessionMaker, user_id: int, **options: object) -> list[str]:
    request = options.pop("request", PageRequest(first=20, after=None))
    async with unit_of_work(session_maker) as session:
        page = await inbox.list_notifications(
            session,
            user_id=user_id,
            unread_only=bool(options.get("unread_only")),
            request=request,  # type: ignore[arg-type]
        )
    return [notification.title for notification in page.rows]


async def test_notify_stores_the_notification(session_maker: SessionMaker) -> None:
    user = await create_user(session_maker)
    assert user.id is not None
    (stored,) = await create_notifications(
        session_maker, user.id, kind="order.cancelled", link="/orders/1", data={"order": 1}
    )
    async with unit_of_work(session_maker) as session:
        found = (await session.exec(select(Notification))).all()
    assert [(n.id, n.user_id, n.kind, n.link, n.data, n.read_at) for n in found] == [
        (stored.id, user.id, "order.cancelled", "/orders/1", {"order": 1}, None)
    ]
    assert stored.created_at is not None


async def notify_then_fail(session_maker: SessionMaker, user_id: int) -> None:
    async with unit_of_work(session_maker) as session:
        await inbox.notify(session, user_id=user_id, kind="k", title="rolled back", body="b")
        raise Refused


async def test_published_only_once_committed(app: Starlette, session_maker: SessionMaker) -> None:
    user = await create_user(session_maker)
    assert user.id is not None
    async with hub_of(app).listen(inbox.user_channel(user.id)) as listener:
        with pytest.raises(Refused):
            await notify_then_fail(session_maker, user.id)
        await create_notifications(session_maker, user.id, title="committed")
        event = await listener.next(WAIT)
    assert isinstance(event, Message)
    assert event.channel == inbox.user_channel(user.id)
    assert event.data["title"] == "committed"
    assert inbox.notification_of_message(event.data).title == "committed"


async def test_newest_first_unread_only_and_pages(session_maker: SessionMaker) -> None:
    user, other = await create_user(session_maker), await create_user(session_maker)
    assert user.id is not None
    made = await create_notifications(session_maker, user.id, count=3)
    await create_notifications(session_maker, other.id, title="not mine")
    async with unit_of_work(session_maker) as session:
        await inbox.mark_read(session, user_id=user.id, notification_id=made[1].id or 0)

    assert await titles(session_maker, user.id) == ["Title 2", "Title 1", "Title 0"]
    assert await titles(session_maker, user.id, unread_only=True) == ["Title 2", "Title 0"]
    first_page = PageRequest(first=2, after=None)
    assert await titles(session_maker, user.id, request=first_page) == ["Title 2", "Title 1"]
    rest = PageRequest(first=2, after=(made[1].id,))
    assert await titles(session_maker, user.id, request=rest) == ["Title 0"]


async def test_mark_read_is_idempotent(session_maker: SessionMaker) -> None:
    user = await create_user(session_maker)
    assert user.id is not None
    (made,) = await create_notifications(session_maker, user.id)
    assert made.id is not None
    async with unit_of_work(session_maker) as session:
        first = await inbox.mark_read(session, user_id=user.id, notification_id=made.id)
    async with unit_of_work(session_maker) as session:
        again = await inbox.mark_read(session, user_id=user.id, notification_id=made.id)
        assert await inbox.unread_count(session, user_id=user.id) == 0
    assert first.read_at is not None
    assert again.read_at == first.read_at


async def test_someone_elses_notification_is_not_found_and_stays_unread(
    session_maker: SessionMaker,
) -> None:
    owner, intruder = await create_user(session_maker), await create_user(session_maker)
    (made,) = await create_notifications(session_maker, owner.id)
    assert made.id is not None
    assert intruder.id is not None
    with pytest.raises(DomainError) as refused:
        async with unit_of_work(session_maker) as session:
            await inbox.mark_read(session, user_id=intruder.id, notification_id=made.id)
    assert (refused.value.code, refused.value.field) == (ErrorCode.NOT_FOUND, "id")
    async with unit_of_work(session_maker) as session:
        assert await inbox.unread_count(session, user_id=owner.id or 0) == 1


async def test_mark_all_read_counts_and_touches_only_the_user(
    session_maker: SessionMaker,
) -> None:
    user, other = await create_user(session_maker), await create_user(session_maker)
    assert user.id is not None
    assert other.id is not None
    await create_notifications(session_maker, user.id, count=3)
    await create_notifications(session_maker, other.id, count=2)
    async with unit_of_work(session_maker) as session:
        assert await inbox.mark_all_read(session, user_id=user.id) == 3
    async with unit_of_work(session_maker) as session:
        assert await inbox.mark_all_read(session, user_id=user.id) == 0
        assert await inbox.unread_count(session, user_id=user.id) == 0
        assert await inbox.unread_count(session, user_id=other.id) == 2


async def test_notifications_go_with_their_user(session_maker: SessionMaker) -> None:
    user = await create_user(session_maker)
    await create_notifications(session_maker, user.id, count=2)
    async with unit_of_work(session_maker) as session:
        await session.delete(user)
    async with unit_of_work(session_maker) as session:
        left = (
            await session.exec(select(Notification.id).where(col(Notification.user_id) == user.id))
        ).all()
    assert left == []

"""NotificationsQuery / NotificationsMutation / NotificationsSubscription: your in-app
notifications, read, marked read, and live."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable

import strawberry

from hom.accounts.service import revoked_channel
from hom.context import Context
from hom.core.graphql.payloads import mutate
from hom.core.graphql.permissions import (
    HasLiveSession,
    IsAuthenticated,
    require_fresh_viewer,
    require_viewer,
)
from hom.core.graphql.reading import read_counted_page
from hom.core.graphql.relay import CountedConnection, decode_id
from hom.core.graphql.visibility import present
from hom.core.pubsub import Listener, Message
from hom.core.viewer import Reader, Viewer
from hom.notifications import inbox
from hom.notifications.models import Notification
from hom.notifications.types import (
    MarkAllNotificationsReadPayload,
    MarkNotificationReadPayload,
    NotificationType,
)


def shown_to(reader: Reader) -> Callable[[Notification], NotificationType | None]:
    return lambda notification: present(reader, NotificationType, notification)


@strawberry.type
class NotificationsQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Your notifications, newest first; `totalCount`: how many of them (unread "
        "ones only with `unreadOnly`).",
    )
    async def my_notifications(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        unread_only: bool = False,
        last: int | None = None,
        before: str | None = None,
    ) -> CountedConnection[NotificationType]:
        user_id = (await require_viewer(info)).user_id
        connection: CountedConnection[NotificationType] = await read_counted_page(
            info,
            NotificationType,
            inbox.NOTIFICATION_KEYS,
            (first, after, last, before),
            lambda s, request: inbox.list_notifications(
                s, user_id=user_id, unread_only=unread_only, request=request
            ),
            lambda s: inbox.count_notifications(s, user_id=user_id, unread_only=unread_only),
        )
        return connection

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="How many of your notifications are unread.",
    )
    async def unread_notification_count(self, info: strawberry.Info) -> int:
        viewer = await require_viewer(info)
        async with info.context.db.session() as session:
            return await inbox.unread_count(session, user_id=viewer.user_id)


@strawberry.type
class NotificationsMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Mark one of your notifications read (once read, it stays as it is).",
    )
    async def mark_notification_read(
        self, info: strawberry.Info, id: strawberry.ID
    ) -> MarkNotificationReadPayload:
        viewer = await require_viewer(info)
        notification_id = decode_id(id, "Notification")
        return await mutate(
            info,
            MarkNotificationReadPayload,
            lambda s: inbox.mark_read(s, user_id=viewer.user_id, notification_id=notification_id),
            shown_to(viewer.reader),
        )

    @strawberry.mutation(
        permission_classes=[IsAuthenticated], description="Mark all your notifications read."
    )
    async def mark_all_notifications_read(
        self, info: strawberry.Info
    ) -> MarkAllNotificationsReadPayload:
        viewer = await require_viewer(info)
        return await mutate(
            info,
            MarkAllNotificationsReadPayload,
            lambda s: inbox.mark_all_read(s, user_id=viewer.user_id),
            int,
        )


@strawberry.type
class NotificationsSubscription:
    @strawberry.subscription(
        permission_classes=[HasLiveSession],
        description=(
            "Your new notifications as they are created, on any instance. "
            "Ends (UNAUTHENTICATED) when your session or access token does."
        ),
    )
    async def notifications(self, info: strawberry.Info) -> AsyncGenerator[NotificationType, None]:
        context: Context = info.context
        viewer = await require_viewer(info)
        channels = (inbox.user_channel(viewer.user_id), revoked_channel(viewer.user_id))
        async with context.pubsub.listen(*channels) as listener:
            async for notification in arrivals(context, viewer, listener):
                yield notification


async def arrivals(
    context: Context, viewer: Viewer, listener: Listener
) -> AsyncIterator[NotificationType]:
    """The viewer's new notifications; the session is checked again whenever one of theirs
    ends, messages may have been missed, or it has not been for a while."""
    mine = inbox.user_channel(viewer.user_id)
    while True:
        event = await listener.next(check_in(context, viewer))
        if isinstance(event, Message) and event.channel == mine:
            notification = inbox.notification_of_message(event.data)
            shown = present(viewer.reader, NotificationType, notification)
            if shown is not None:
                yield shown
        else:
            viewer = await require_fresh_viewer(context)


def check_in(context: Context, viewer: Viewer) -> float:
    """Seconds until the session is to be checked again: at the latest when the token expires."""
    until_expiry = viewer.expires_at + 1 - time.time()
    return max(min(context.settings.subscription_session_check_seconds, until_expiry), 0.1)

"""Strawberry types of in-app notifications."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from hom.core.graphql.payloads import Payload
from hom.core.graphql.relations import nodes_by_id
from hom.core.graphql.visibility import personal, visible_to
from hom.notifications.loaders import notification_by_id
from hom.notifications.models import Notification
from hom.notifications.rules import NOTIFICATIONS


@visible_to(NOTIFICATIONS)
@strawberry.type(name="Notification", description="A message for you, shown in the app.")
class NotificationType(relay.Node):
    notification_id: relay.NodeID[int]
    kind: str = strawberry.field(description='What happened, e.g. "order.cancelled".')
    title: str = personal()
    body: str = personal()
    link: str | None = personal("Where in the app it leads, if anywhere.")
    data: JSON = personal("Details for the client, by kind.")
    read_at: datetime | None
    created_at: datetime

    @strawberry.field(description="Whether you have marked it read.")
    def is_read(self) -> bool:
        return self.read_at is not None

    @classmethod
    def from_model(cls, notification: Notification) -> NotificationType:
        assert notification.id is not None
        assert notification.created_at is not None
        return cls(
            notification_id=notification.id,
            kind=notification.kind,
            title=notification.title,
            body=notification.body,
            link=notification.link,
            data=JSON(notification.data),
            read_at=notification.read_at,
            created_at=notification.created_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[NotificationType | None]:
        return await nodes_by_id(info, cls, notification_by_id, node_ids)


@strawberry.type
class MarkNotificationReadPayload(Payload):
    notification: NotificationType | None = None


@strawberry.type
class MarkAllNotificationsReadPayload(Payload):
    marked_count: int = strawberry.field(
        default=0, description="How many notifications were unread and are now read."
    )

"""DataLoaders of in-app notifications: one per relation, named for what it loads."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from hom.context import Context, session_loader
from hom.notifications import inbox
from hom.notifications.models import Notification


def notification_by_id(context: Context) -> DataLoader[int, Notification | None]:
    return session_loader(
        context, lambda session, ids: inbox.notifications_by_ids(session, ids=ids)
    )

"""Factories of in-app notifications: real rows, written through the service."""

from __future__ import annotations

from typing import Any

from hom.core.unit_of_work import SessionMaker, unit_of_work
from hom.notifications import inbox
from hom.notifications.models import Notification


async def create_notifications(
    session_maker: SessionMaker, user_id: int | None, count: int = 1, **fields: Any
) -> list[Notification]:
    """`count` notifications for the user in one transaction, oldest first."""
    assert user_id is not None
    async with unit_of_work(session_maker) as session:
        return [
            await inbox.notify(
                session,
                user_id=user_id,
                kind=fields.get("kind", "test.event"),
                title=fields.get("title", f"Title {index}"),
                body=fields.get("body", f"Body {index}"),
                link=fields.get("link"),
                data=fields.get("data"),
            )
            for index in range(count)
        ]

"""In-app notifications: one row per message shown to a user in the app."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from hom.core.columns import created_at_column, id_column, timestamp_column


class Notification(SQLModel, table=True):
    __tablename__ = "notification"
    # created_at comes back with the INSERT (RETURNING): it is published right after.
    __mapper_args__ = {"eager_defaults": True}
    __table_args__ = (
        Index("ix_notification_user_id_id", "user_id", text("id DESC")),
        Index("ix_notification_unread", "user_id", postgresql_where=text("read_at IS NULL")),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    user_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False
        )
    )
    kind: str = Field(sa_column=Column(String(64), nullable=False))
    title: str = Field(sa_column=Column(String(200), nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    link: str | None = Field(default=None, sa_column=Column(String(500), nullable=True))
    data: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=Column(JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    )
    read_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())

"""Notifications' tables: the mail outbox, and the in-app notifications."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from hom.core.columns import created_at_column, id_column, timestamp_column


class MailStatus(StrEnum):
    PENDING = "pending"  # waiting for `send_after`
    SENDING = "sending"  # claimed by a worker until `locked_until`
    SENT = "sent"
    FAILED = "failed"  # gave up: a permanent refusal, or out of attempts
    CANCELLED = "cancelled"  # by a later event, or nobody left to write to


STATUSES = ", ".join(f"'{status.value}'" for status in MailStatus)


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"
    __table_args__ = (
        CheckConstraint(f"status IN ({STATUSES})", name="status"),
        CheckConstraint("attempts >= 0", name="attempts"),
        Index(
            "uq_outbox_message_key", "key", unique=True, postgresql_where=text("key IS NOT NULL")
        ),
        Index("ix_outbox_message_due", "send_after", postgresql_where=text("status = 'pending'")),
        Index(
            "ix_outbox_message_leased", "locked_until", postgresql_where=text("status = 'sending'")
        ),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    template: str = Field(sa_column=Column(String(64), nullable=False))
    recipient: str = Field(sa_column=Column(String(254), nullable=False))
    recipient_name: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    context: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    key: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    status: str = Field(
        default=MailStatus.PENDING.value,
        sa_column=Column(String(16), nullable=False, server_default=text("'pending'")),
    )
    attempts: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default=text("0"))
    )
    send_after: datetime | None = Field(
        default=None, sa_column=timestamp_column(nullable=False, default_now=True)
    )
    locked_until: datetime | None = Field(default=None, sa_column=timestamp_column())
    # A fresh value per claim: only the holder of the current claim may record the outcome.
    claim: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid, nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())


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

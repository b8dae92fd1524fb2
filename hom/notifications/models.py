"""The outbox: mail written in the same transaction as the event that causes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from hom.core.columns import created_at_column, id_column, timestamp_column


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"
    __table_args__ = (
        Index(
            "ix_outbox_message_pending", "available_at", postgresql_where=text("sent_at IS NULL")
        ),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    kind: str = Field(sa_column=Column(String(64), nullable=False))
    recipient: str = Field(sa_column=Column(String(254), nullable=False))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    attempts: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default=text("0"))
    )
    available_at: datetime | None = Field(
        default=None, sa_column=timestamp_column(nullable=False, default_now=True)
    )
    sent_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())

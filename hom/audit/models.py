"""The audit log: append-only, one row per admin/operator change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from hom.core.columns import id_column, timestamp_column


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_entity", "entity", "entity_id"),
        Index("ix_audit_entry_actor_id", "actor_id"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    actor_id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger, ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True
        ),
    )
    action: str = Field(sa_column=Column(String(64), nullable=False))
    entity: str = Field(sa_column=Column(String(64), nullable=False))
    entity_id: str = Field(sa_column=Column(String(64), nullable=False))
    changes: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=Column(JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    )
    at: datetime | None = Field(
        default=None, sa_column=timestamp_column(nullable=False, default_now=True)
    )

"""The state of each periodic job: its next tick and who holds its lease."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, DateTime, Integer, String, Text, text
from sqlmodel import Field, SQLModel

from hom.core.columns import timestamp_column


class PeriodicJobState(SQLModel, table=True):
    """One row per job name, created by the first worker that claims it."""

    __tablename__ = "periodic_job"
    __table_args__ = (
        CheckConstraint(
            "run_count >= 0 AND failure_count >= 0 AND failure_count <= run_count", name="counts"
        ),
        CheckConstraint("(running_until IS NULL) = (running_by IS NULL)", name="lease_holder"),
    )

    name: str = Field(sa_column=Column(String(128), primary_key=True))
    next_run_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    running_until: datetime | None = Field(default=None, sa_column=timestamp_column())
    running_by: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    last_started_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    last_finished_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    run_count: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default=text("0"))
    )
    failure_count: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default=text("0"))
    )

"""Column helpers shared by every domain's tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Identity, func


def id_column() -> Any:
    """A bigint identity primary key."""
    return Column(BigInteger, Identity(always=False), primary_key=True)


def created_at_column() -> Any:
    return Column(DateTime(timezone=True), nullable=False, server_default=func.now())


def updated_at_column() -> Any:
    return Column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )


def timestamp_column(nullable: bool = True, default_now: bool = False) -> Any:
    default = func.now() if default_now else None
    return Column(DateTime(timezone=True), nullable=nullable, server_default=default)

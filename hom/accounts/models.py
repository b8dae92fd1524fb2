"""Tables of the accounts domain: users and their single-use tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    func,
    text,
)
from sqlmodel import Field, SQLModel

from hom.core.columns import created_at_column, id_column, timestamp_column, updated_at_column
from hom.core.roles import Role


class TokenPurpose(StrEnum):
    VERIFY_EMAIL = "VERIFY_EMAIL"
    RESET_PASSWORD = "RESET_PASSWORD"  # noqa: S105 - a purpose, not a secret


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class User(SQLModel, table=True):
    __tablename__ = "user_account"
    __table_args__ = (
        Index("uq_user_account_email_lower", func.lower(text("email")), unique=True),
        CheckConstraint(_in("role", Role), name="role"),
        CheckConstraint("length(email) BETWEEN 3 AND 254", name="email_length"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    email: str = Field(sa_column=Column(String(254), nullable=False))
    full_name: str = Field(sa_column=Column(String(200), nullable=False))
    password_hash: str = Field(sa_column=Column(String(255), nullable=False))
    role: str = Field(
        default=Role.CUSTOMER.value,
        sa_column=Column(String(16), nullable=False, server_default=Role.CUSTOMER.value),
    )
    is_active: bool = Field(
        default=True, sa_column=Column(Boolean, nullable=False, server_default=text("true"))
    )
    email_verified_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    timezone: str = Field(
        default="UTC", sa_column=Column(String(64), nullable=False, server_default="UTC")
    )
    avatar: str | None = Field(default=None, sa_column=Column(String(100), nullable=True))
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())
    updated_at: datetime | None = Field(default=None, sa_column=updated_at_column())

    @property
    def role_enum(self) -> Role:
        return Role(self.role)


class AccountToken(SQLModel, table=True):
    """A single-use, expiring token mailed to a user (only its SHA-256 is stored)."""

    __tablename__ = "account_token"
    __table_args__ = (CheckConstraint(_in("purpose", TokenPurpose), name="purpose"),)

    id: int | None = Field(default=None, sa_column=id_column())
    user_id: int = Field(
        sa_column=Column(
            BigInteger,
            ForeignKey("user_account.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    purpose: str = Field(sa_column=Column(String(20), nullable=False))
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    expires_at: datetime = Field(sa_column=timestamp_column(nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())

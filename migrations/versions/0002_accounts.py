"""Accounts: users, single-use account tokens, and the mail outbox.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOW = sa.text("now()")


def timestamptz(name: str, nullable: bool = True, now: bool = False) -> sa.Column:
    return sa.Column(
        name, sa.DateTime(timezone=True), nullable=nullable, server_default=NOW if now else None
    )


def identity() -> sa.Column:
    return sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False)


def upgrade() -> None:
    op.create_table(
        "user_account",
        identity(),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False, server_default="CUSTOMER"),
        sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.text("true")),
        timestamptz("email_verified_at"),
        sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
        sa.Column("avatar", sa.String(100), nullable=True),
        timestamptz("created_at", nullable=False, now=True),
        timestamptz("updated_at", nullable=False, now=True),
        sa.PrimaryKeyConstraint("id", name="pk_user_account"),
        sa.CheckConstraint(
            "role IN ('CUSTOMER', 'STAFF', 'OPERATOR', 'ADMIN')", name="ck_user_account_role"
        ),
        sa.CheckConstraint("length(email) BETWEEN 3 AND 254", name="ck_user_account_email_length"),
    )
    op.create_index(
        "uq_user_account_email_lower", "user_account", [sa.text("lower(email)")], unique=True
    )
    op.create_table(
        "account_token",
        identity(),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        timestamptz("expires_at", nullable=False),
        timestamptz("used_at"),
        timestamptz("created_at", nullable=False, now=True),
        sa.PrimaryKeyConstraint("id", name="pk_account_token"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name="fk_account_token_user_id_user_account",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("token_hash", name="uq_account_token_token_hash"),
        sa.CheckConstraint(
            "purpose IN ('VERIFY_EMAIL', 'RESET_PASSWORD')", name="ck_account_token_purpose"
        ),
    )
    op.create_index("ix_account_token_user_id", "account_token", ["user_id"])
    op.create_table(
        "outbox_message",
        identity(),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        timestamptz("available_at", nullable=False, now=True),
        timestamptz("sent_at"),
        sa.Column("last_error", sa.Text(), nullable=True),
        timestamptz("created_at", nullable=False, now=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_message"),
    )
    op.create_index(
        "ix_outbox_message_pending",
        "outbox_message",
        ["available_at"],
        postgresql_where=sa.text("sent_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("outbox_message")
    op.drop_table("account_token")
    op.drop_table("user_account")

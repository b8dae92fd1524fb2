"""The outbox grows up: templates, statuses, leases, idempotency keys.

Rows written by 0002 keep their meaning: `kind` 'mail.verify_email' becomes
template 'verify_email', `payload` becomes `context`, `available_at` becomes
`send_after`, and a row with `sent_at` is 'sent'.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "outbox_message"
STATUSES = "'pending', 'sending', 'sent', 'failed', 'cancelled'"


def upgrade() -> None:
    op.drop_index("ix_outbox_message_pending", table_name=TABLE)
    op.alter_column(TABLE, "kind", new_column_name="template")
    op.alter_column(TABLE, "payload", new_column_name="context")
    op.alter_column(TABLE, "available_at", new_column_name="send_after")
    op.execute(f"UPDATE {TABLE} SET template = regexp_replace(template, '^mail\\.', '')")  # noqa: S608
    op.add_column(TABLE, sa.Column("recipient_name", sa.String(200), nullable=True))
    op.add_column(TABLE, sa.Column("key", sa.String(200), nullable=True))
    op.add_column(
        TABLE,
        sa.Column("status", sa.String(16), nullable=False, server_default=sa.text("'pending'")),
    )
    op.add_column(TABLE, sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column(TABLE, sa.Column("claim", sa.Uuid(), nullable=True))
    op.execute(f"UPDATE {TABLE} SET status = 'sent' WHERE sent_at IS NOT NULL")  # noqa: S608
    op.create_check_constraint("ck_outbox_message_status", TABLE, f"status IN ({STATUSES})")
    op.create_check_constraint("ck_outbox_message_attempts", TABLE, "attempts >= 0")
    op.create_index(
        "uq_outbox_message_key",
        TABLE,
        ["key"],
        unique=True,
        postgresql_where=sa.text("key IS NOT NULL"),
    )
    op.create_index(
        "ix_outbox_message_due",
        TABLE,
        ["send_after"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_outbox_message_leased",
        TABLE,
        ["locked_until"],
        postgresql_where=sa.text("status = 'sending'"),
    )


def downgrade() -> None:
    for index in ("ix_outbox_message_leased", "ix_outbox_message_due", "uq_outbox_message_key"):
        op.drop_index(index, table_name=TABLE)
    op.drop_constraint("ck_outbox_message_attempts", TABLE, type_="check")
    op.drop_constraint("ck_outbox_message_status", TABLE, type_="check")
    # Mail that will never go out must not look unsent to the old schema.
    op.execute(f"UPDATE {TABLE} SET sent_at = now() WHERE status IN ('failed', 'cancelled')")  # noqa: S608
    for column in ("claim", "locked_until", "status", "key", "recipient_name"):
        op.drop_column(TABLE, column)
    op.execute(f"UPDATE {TABLE} SET template = 'mail.' || template")  # noqa: S608
    op.alter_column(TABLE, "send_after", new_column_name="available_at")
    op.alter_column(TABLE, "context", new_column_name="payload")
    op.alter_column(TABLE, "template", new_column_name="kind")
    op.create_index(
        "ix_outbox_message_pending",
        TABLE,
        ["available_at"],
        postgresql_where=sa.text("sent_at IS NULL"),
    )

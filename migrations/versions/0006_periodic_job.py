"""Periodic jobs: one row per job, its next tick and the lease of the worker running it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "periodic_job",
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("running_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("running_by", sa.String(64), nullable=True),
        sa.Column("last_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("run_count", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("failure_count", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.PrimaryKeyConstraint("name", name="pk_periodic_job"),
        sa.CheckConstraint(
            "run_count >= 0 AND failure_count >= 0 AND failure_count <= run_count",
            name="ck_periodic_job_counts",
        ),
        sa.CheckConstraint(
            "(running_until IS NULL) = (running_by IS NULL)", name="ck_periodic_job_lease_holder"
        ),
    )


def downgrade() -> None:
    op.drop_table("periodic_job")

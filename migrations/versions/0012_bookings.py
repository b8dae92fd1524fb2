"""Bookings: services, who gives them (staff and service), weekly working hours, time off and
appointments. Two exclusion constraints over core range types (no btree_gist, SPEC §1): a
staff member's ranges of one weekday never overlap, nor do their live appointments.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-15
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = "'PENDING', 'CONFIRMED', 'COMPLETED', 'NO_SHOW', 'CANCELLED'"
LIVE = "'PENDING', 'CONFIRMED'"
# Each stage's timestamp is set once the appointment has reached it.
STAGES = {
    "confirmed_at_set": ("confirmed_at", "'CONFIRMED', 'COMPLETED', 'NO_SHOW'"),
    "completed_at_set": ("completed_at", "'COMPLETED'"),
    "no_show_at_set": ("no_show_at", "'NO_SHOW'"),
}
# A staff member's id as a one-point range: what && compares without btree_gist.
STAFF = "int8range(staff_id, staff_id, '[]')"
# A weekday's local times as a range of timestamps on one fixed day.
DAY = "DATE '2001-01-01'"


def identity() -> sa.Column:
    return sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False)


def moment(name: str, nullable: bool = True) -> sa.Column:
    default = None if nullable else sa.text("now()")
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, server_default=default)


def instant(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def reference(column: str, table: str, owner: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.id"], name=f"fk_{owner}_{column}_{table}", ondelete=ondelete
    )


# CHECK constraints are named as the models name them (`status`): the naming convention
# of the models' metadata, which Alembic applies here too, makes `ck_appointment_status`.


def upgrade() -> None:
    create_service()
    create_staff_service()
    create_working_hours()
    create_time_off()
    create_appointment()


def create_service() -> None:
    op.create_table(
        "service",
        identity(),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=sa.text("''")),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("price", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False, server_default="EUR"),
        sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.text("true")),
        moment("created_at", nullable=False),
        moment("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_service"),
        sa.CheckConstraint("length(name) BETWEEN 1 AND 120", name="name_length"),
        sa.CheckConstraint("duration_minutes BETWEEN 5 AND 480", name="duration_minutes"),
        sa.CheckConstraint("price >= 0", name="price_not_negative"),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency"),
    )
    op.create_index("uq_service_name_lower", "service", [sa.text("lower(name)")], unique=True)
    op.create_index("ix_service_name_id", "service", ["name", "id"])


def create_staff_service() -> None:
    op.create_table(
        "staff_service",
        sa.Column("service_id", sa.BigInteger(), nullable=False),
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        moment("created_at", nullable=False),
        sa.PrimaryKeyConstraint("service_id", "staff_id", name="pk_staff_service"),
        reference("service_id", "service", "staff_service", "CASCADE"),
        reference("staff_id", "user_account", "staff_service", "CASCADE"),
    )
    op.create_index("ix_staff_service_staff_id", "staff_service", ["staff_id"])


def create_working_hours() -> None:
    op.create_table(
        "working_hours",
        identity(),
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_working_hours"),
        reference("staff_id", "user_account", "working_hours", "CASCADE"),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        sa.CheckConstraint("start_time < end_time", name="start_before_end"),
        sa.CheckConstraint(
            "extract(second FROM start_time) = 0 AND extract(second FROM end_time) = 0",
            name="whole_minutes",
        ),
    )
    op.create_index(
        "ix_working_hours_staff_id_weekday_start_time",
        "working_hours",
        ["staff_id", "weekday", "start_time"],
    )
    op.execute(
        "ALTER TABLE working_hours ADD CONSTRAINT ex_working_hours_overlap EXCLUDE USING gist ("
        f"{STAFF} WITH &&, int4range(weekday, weekday, '[]') WITH &&, "
        f"tsrange({DAY} + start_time, {DAY} + end_time, '[)') WITH &&)"
    )


def create_time_off() -> None:
    op.create_table(
        "time_off",
        identity(),
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        instant("starts_at"),
        instant("ends_at"),
        sa.Column("reason", sa.Text(), nullable=True),
        moment("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_time_off"),
        reference("staff_id", "user_account", "time_off", "CASCADE"),
        sa.CheckConstraint("starts_at < ends_at", name="starts_before_ends"),
        sa.CheckConstraint("length(reason) <= 500", name="reason_length"),
    )
    op.create_index(
        "ix_time_off_staff_id_starts_at_id", "time_off", ["staff_id", "starts_at", "id"]
    )


def stage_checks() -> list[sa.CheckConstraint]:
    return [
        sa.CheckConstraint(f"NOT (status IN ({statuses})) OR {stamp} IS NOT NULL", name=name)
        for name, (stamp, statuses) in STAGES.items()
    ]


def create_appointment() -> None:
    op.create_table(
        "appointment",
        identity(),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("service_id", sa.BigInteger(), nullable=False),
        instant("starts_at"),
        instant("ends_at"),
        sa.Column("status", sa.String(16), nullable=False, server_default="PENDING"),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("cancel_reason", sa.String(500), nullable=True),
        sa.Column("series_id", sa.Uuid(), nullable=True),
        moment("created_at", nullable=False),
        moment("updated_at", nullable=False),
        moment("confirmed_at"),
        moment("completed_at"),
        moment("no_show_at"),
        moment("cancelled_at"),
        sa.PrimaryKeyConstraint("id", name="pk_appointment"),
        reference("customer_id", "user_account", "appointment", "RESTRICT"),
        reference("staff_id", "user_account", "appointment", "RESTRICT"),
        reference("service_id", "service", "appointment", "RESTRICT"),
        sa.CheckConstraint(f"status IN ({STATUSES})", name="status"),
        sa.CheckConstraint("starts_at < ends_at", name="starts_before_ends"),
        sa.CheckConstraint("length(notes) <= 1000", name="notes_length"),
        *stage_checks(),
        sa.CheckConstraint(
            "(status = 'CANCELLED') = (cancelled_at IS NOT NULL)",
            name="cancelled_at_set",
        ),
        sa.CheckConstraint(
            "cancel_reason IS NULL OR status = 'CANCELLED'",
            name="cancel_reason_when_cancelled",
        ),
    )
    op.create_index(
        "ix_appointment_customer_id_starts_at_id",
        "appointment",
        ["customer_id", "starts_at", "id"],
    )
    op.create_index(
        "ix_appointment_staff_id_starts_at_id", "appointment", ["staff_id", "starts_at", "id"]
    )
    op.create_index("ix_appointment_service_id", "appointment", ["service_id"])
    op.create_index(
        "ix_appointment_series_id",
        "appointment",
        ["series_id"],
        postgresql_where=sa.text("series_id IS NOT NULL"),
    )
    # Two live appointments of one staff member never overlap (touching is fine: [) ends).
    op.execute(
        "ALTER TABLE appointment ADD CONSTRAINT ex_appointment_overlap EXCLUDE USING gist ("
        f"{STAFF} WITH &&, tstzrange(starts_at, ends_at, '[)') WITH &&) "
        f"WHERE (status IN ({LIVE}))"
    )


def downgrade() -> None:
    op.drop_table("appointment")
    op.drop_table("time_off")
    op.drop_table("working_hours")
    op.drop_table("staff_service")
    op.drop_table("service")

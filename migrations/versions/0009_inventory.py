"""Inventory: warehouses, stock levels, the append-only stock ledger, stock-takes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CODE = "^[A-Z0-9]+(-[A-Z0-9]+)*$"
KINDS = (
    "'RECEIPT', 'SHIPMENT', 'ADJUSTMENT', 'RESERVATION', 'RELEASE', 'TRANSFER_IN', 'TRANSFER_OUT'"
)
# The ledger is append-only: the database itself refuses to change or remove a movement.
APPEND_ONLY = [
    """
CREATE FUNCTION stock_movement_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'stock_movement is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$
""",
    "CREATE TRIGGER tr_stock_movement_append_only BEFORE UPDATE OR DELETE ON stock_movement "
    "FOR EACH ROW EXECUTE FUNCTION stock_movement_append_only()",
    "CREATE TRIGGER tr_stock_movement_no_truncate BEFORE TRUNCATE ON stock_movement "
    "FOR EACH STATEMENT EXECUTE FUNCTION stock_movement_append_only()",
]


def identity() -> sa.Column:
    return sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False)


def now(name: str, nullable: bool = False) -> sa.Column:
    default = None if nullable else sa.text("now()")
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, server_default=default)


def reference(
    column: str, table: str, owner: str, ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.id"], name=f"fk_{owner}_{column}_{table}", ondelete=ondelete
    )


def upgrade() -> None:
    create_warehouse()
    create_stock_level()
    create_stock_movement()
    create_inventory_check()
    create_inventory_count()


def create_warehouse() -> None:
    op.create_table(
        "warehouse",
        identity(),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.text("true")),
        sa.Column("low_stock_threshold", sa.Integer(), nullable=False, server_default=sa.text("5")),
        now("created_at"),
        now("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_warehouse"),
        sa.CheckConstraint(f"code ~ '{CODE}'", name="ck_warehouse_code"),
        sa.CheckConstraint("length(name) BETWEEN 1 AND 120", name="ck_warehouse_name_length"),
        sa.CheckConstraint("low_stock_threshold >= 0", name="ck_warehouse_low_stock_threshold"),
    )
    op.create_index("uq_warehouse_code", "warehouse", ["code"], unique=True)


def create_stock_level() -> None:
    op.create_table(
        "stock_level",
        identity(),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("warehouse_id", sa.BigInteger(), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("reserved", sa.Integer(), nullable=False, server_default="0"),
        now("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_stock_level"),
        reference("product_id", "product", "stock_level", "RESTRICT"),
        reference("warehouse_id", "warehouse", "stock_level", "RESTRICT"),
        sa.CheckConstraint("on_hand >= 0", name="ck_stock_level_on_hand_not_negative"),
        sa.CheckConstraint(
            "reserved >= 0 AND reserved <= on_hand", name="ck_stock_level_reserved_within_on_hand"
        ),
    )
    op.create_index(
        "uq_stock_level_product_id_warehouse_id",
        "stock_level",
        ["product_id", "warehouse_id"],
        unique=True,
    )
    op.create_index("ix_stock_level_warehouse_id", "stock_level", ["warehouse_id"])


def create_stock_movement() -> None:
    op.create_table(
        "stock_movement",
        identity(),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("warehouse_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        now("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_stock_movement"),
        reference("product_id", "product", "stock_movement", "RESTRICT"),
        reference("warehouse_id", "warehouse", "stock_movement", "RESTRICT"),
        reference("actor_id", "user_account", "stock_movement"),
        sa.CheckConstraint(f"kind IN ({KINDS})", name="ck_stock_movement_kind"),
        sa.CheckConstraint("quantity <> 0", name="ck_stock_movement_quantity_not_zero"),
        sa.CheckConstraint(
            "reason IS NULL OR length(reason) <= 500", name="ck_stock_movement_reason_length"
        ),
    )
    op.create_index("ix_stock_movement_product_id_id", "stock_movement", ["product_id", "id"])
    op.create_index("ix_stock_movement_warehouse_id_id", "stock_movement", ["warehouse_id", "id"])
    op.create_index("ix_stock_movement_created_at", "stock_movement", ["created_at"])
    op.create_index(
        "ix_stock_movement_order_id",
        "stock_movement",
        ["order_id"],
        postgresql_where=sa.text("order_id IS NOT NULL"),
    )
    for statement in APPEND_ONLY:
        op.execute(statement)


def create_inventory_check() -> None:
    op.create_table(
        "inventory_check",
        identity(),
        sa.Column("warehouse_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False, server_default="OPEN"),
        sa.Column("opened_by_id", sa.BigInteger(), nullable=True),
        now("opened_at"),
        sa.Column("closed_by_id", sa.BigInteger(), nullable=True),
        now("closed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_inventory_check"),
        reference("warehouse_id", "warehouse", "inventory_check", "RESTRICT"),
        reference("opened_by_id", "user_account", "inventory_check"),
        reference("closed_by_id", "user_account", "inventory_check"),
        sa.CheckConstraint("status IN ('OPEN', 'CLOSED')", name="ck_inventory_check_status"),
        sa.CheckConstraint(
            "(status = 'OPEN') = (closed_at IS NULL)",
            name="ck_inventory_check_closed_when_closed_at",
        ),
    )
    op.create_index(
        "uq_inventory_check_warehouse_id_open",
        "inventory_check",
        ["warehouse_id"],
        unique=True,
        postgresql_where=sa.text("status = 'OPEN'"),
    )
    op.create_index("ix_inventory_check_warehouse_id_id", "inventory_check", ["warehouse_id", "id"])


def create_inventory_count() -> None:
    op.create_table(
        "inventory_count",
        sa.Column("check_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("counted_quantity", sa.Integer(), nullable=False),
        sa.Column("expected_quantity", sa.Integer(), nullable=False),
        sa.Column("counted_by_id", sa.BigInteger(), nullable=True),
        now("counted_at"),
        sa.PrimaryKeyConstraint("check_id", "product_id", name="pk_inventory_count"),
        reference("check_id", "inventory_check", "inventory_count", "CASCADE"),
        reference("product_id", "product", "inventory_count", "RESTRICT"),
        reference("counted_by_id", "user_account", "inventory_count"),
        sa.CheckConstraint("counted_quantity >= 0", name="ck_inventory_count_counted_not_negative"),
        sa.CheckConstraint(
            "expected_quantity >= 0", name="ck_inventory_count_expected_not_negative"
        ),
    )


def downgrade() -> None:
    op.drop_table("inventory_count")
    op.drop_table("inventory_check")
    op.drop_table("stock_movement")
    op.execute("DROP FUNCTION stock_movement_append_only()")
    op.drop_table("stock_level")
    op.drop_table("warehouse")

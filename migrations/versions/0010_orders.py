"""Orders: the order (human number from a sequence, idempotency key per customer, one
timestamp per stage) and its lines (snapshots of sku, name and price).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = "'PENDING_PAYMENT', 'PAID', 'FULFILLED', 'SHIPPED', 'DELIVERED', 'CANCELLED'"
NUMBER = "^HOM-[0-9]{6,}$"
# Each stage's timestamp is set in that stage and every later one.
STAGES = {
    "paid_at_set": ("paid_at", "'PAID', 'FULFILLED', 'SHIPPED', 'DELIVERED'"),
    "fulfilled_at_set": ("fulfilled_at", "'FULFILLED', 'SHIPPED', 'DELIVERED'"),
    "shipped_at_set": ("shipped_at", "'SHIPPED', 'DELIVERED'"),
    "delivered_at_set": ("delivered_at", "'DELIVERED'"),
}


def identity() -> sa.Column:
    return sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False)


def moment(name: str, nullable: bool = True) -> sa.Column:
    default = None if nullable else sa.text("now()")
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, server_default=default)


def reference(column: str, table: str, owner: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.id"], name=f"fk_{owner}_{column}_{table}", ondelete=ondelete
    )


def upgrade() -> None:
    op.execute(sa.schema.CreateSequence(sa.Sequence("order_number_seq")))
    create_order()
    create_order_line()


def stage_checks() -> list[sa.CheckConstraint]:
    return [
        sa.CheckConstraint(
            f"NOT (status IN ({statuses})) OR {stamp} IS NOT NULL", name=f"ck_customer_order_{name}"
        )
        for name, (stamp, statuses) in STAGES.items()
    ]


def create_order() -> None:
    op.create_table(
        "customer_order",
        identity(),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="PENDING_PAYMENT"),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total", sa.Numeric(16, 2), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("cart_fingerprint", sa.String(64), nullable=False),
        moment("placed_at", nullable=False),
        moment("paid_at"),
        moment("fulfilled_at"),
        moment("shipped_at"),
        moment("delivered_at"),
        moment("cancelled_at"),
        sa.Column("cancel_reason", sa.String(500), nullable=True),
        moment("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customer_order"),
        reference("user_id", "user_account", "customer_order", "RESTRICT"),
        sa.CheckConstraint(f"status IN ({STATUSES})", name="ck_customer_order_status"),
        sa.CheckConstraint(f"number ~ '{NUMBER}'", name="ck_customer_order_number"),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="ck_customer_order_currency"),
        sa.CheckConstraint("total >= 0", name="ck_customer_order_total_not_negative"),
        sa.CheckConstraint(
            "length(idempotency_key) BETWEEN 1 AND 255",
            name="ck_customer_order_idempotency_key_length",
        ),
        sa.CheckConstraint(
            "length(cart_fingerprint) = 64", name="ck_customer_order_cart_fingerprint_length"
        ),
        *stage_checks(),
        sa.CheckConstraint(
            "(status = 'CANCELLED') = (cancelled_at IS NOT NULL)",
            name="ck_customer_order_cancelled_at_set",
        ),
        sa.CheckConstraint(
            "cancel_reason IS NULL OR status = 'CANCELLED'",
            name="ck_customer_order_cancel_reason_when_cancelled",
        ),
    )
    op.create_index("uq_customer_order_number", "customer_order", ["number"], unique=True)
    op.create_index(
        "uq_customer_order_user_id_idempotency_key",
        "customer_order",
        ["user_id", "idempotency_key"],
        unique=True,
    )
    op.create_index(
        "ix_customer_order_user_id_placed_at_id", "customer_order", ["user_id", "placed_at", "id"]
    )
    op.create_index(
        "ix_customer_order_status_placed_at_id", "customer_order", ["status", "placed_at", "id"]
    )
    op.create_index("ix_customer_order_placed_at_id", "customer_order", ["placed_at", "id"])


def create_order_line() -> None:
    op.create_table(
        "order_line",
        identity(),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Numeric(12, 2), nullable=False),
        sa.Column("line_total", sa.Numeric(16, 2), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_order_line"),
        reference("order_id", "customer_order", "order_line", "CASCADE"),
        reference("product_id", "product", "order_line", "RESTRICT"),
        sa.CheckConstraint("quantity > 0", name="ck_order_line_quantity_positive"),
        sa.CheckConstraint("unit_price >= 0", name="ck_order_line_unit_price_not_negative"),
        sa.CheckConstraint("line_total = unit_price * quantity", name="ck_order_line_line_total"),
    )
    op.create_index(
        "uq_order_line_order_id_product_id",
        "order_line",
        ["order_id", "product_id"],
        unique=True,
    )
    op.create_index("ix_order_line_product_id", "order_line", ["product_id"])


def downgrade() -> None:
    op.drop_table("order_line")
    op.drop_table("customer_order")
    op.execute(sa.schema.DropSequence(sa.Sequence("order_number_seq")))

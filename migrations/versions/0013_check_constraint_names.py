"""Check constraints named once: `ck_product_slug`, not `ck_product_ck_product_slug`.
Migrations 0001 to 0011 spelled each name in full and the naming convention (`hom.core.db`)
put its prefix before it again; the models and 0012 give only the part after it.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-16
"""

from collections.abc import Callable, Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RENAMED = {
    "account_token": [
        "purpose",
    ],
    "category": [
        "not_own_parent",
        "slug",
    ],
    "collection": [
        "name_length",
        "visibility",
    ],
    "customer_order": [
        "cancel_reason_when_cancelled",
        "cancelled_at_set",
        "cart_fingerprint_length",
        "currency",
        "delivered_at_set",
        "fulfilled_at_set",
        "idempotency_key_length",
        "number",
        "paid_at_set",
        "shipped_at_set",
        "status",
        "total_not_negative",
    ],
    "inventory_check": [
        "closed_when_closed_at",
        "status",
    ],
    "inventory_count": [
        "counted_not_negative",
        "expected_not_negative",
    ],
    "order_line": [
        "currency",
        "line_total",
        "quantity_positive",
        "unit_price_not_negative",
    ],
    "outbox_message": [
        "attempts",
        "status",
    ],
    "periodic_job": [
        "counts",
        "lease_holder",
    ],
    "product": [
        "currency",
        "price_not_negative",
        "sku_length",
        "slug",
    ],
    "stock_level": [
        "on_hand_not_negative",
        "reserved_within_on_hand",
    ],
    "stock_movement": [
        "kind",
        "quantity_not_zero",
        "reason_length",
    ],
    "user_account": [
        "email_length",
        "role",
    ],
    "warehouse": [
        "code",
        "low_stock_threshold",
        "name_length",
    ],
}
# Over PostgreSQL's 63 bytes, SQLAlchemy cut the doubled name and ended it with a hash.
CUT = {
    ("customer_order", "cancel_reason_when_cancelled"): (
        "ck_customer_order_ck_customer_order_cancel_reason_when__c4c3"
    ),
}

Name = Callable[[str, str], str]


def doubled(table: str, name: str) -> str:
    return CUT.get((table, name), f"ck_{table}_ck_{table}_{name}")


def once(table: str, name: str) -> str:
    return f"ck_{table}_{name}"


def upgrade() -> None:
    _rename(doubled, once)


def downgrade() -> None:
    _rename(once, doubled)


def _rename(old: Name, new: Name) -> None:
    for table, names in RENAMED.items():
        for name in names:
            op.execute(
                f'ALTER TABLE {table} RENAME CONSTRAINT "{old(table, name)}" '
                f'TO "{new(table, name)}"'
            )

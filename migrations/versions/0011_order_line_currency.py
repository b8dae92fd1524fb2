"""Order lines carry their order's currency, so a line's prices are money of their own row
(`unitPrice`/`lineTotal { amount currency }`): backfilled from each line's order, and kept
equal to it by the foreign key, which now points at the order's (id, currency).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORDER_KEY = "fk_order_line_order_id_customer_order"
ID_CURRENCY = "uq_customer_order_id_currency"


def upgrade() -> None:
    op.add_column("order_line", sa.Column("currency", sa.String(3), nullable=True))
    op.execute(
        "UPDATE order_line AS line SET currency = o.currency "
        "FROM customer_order AS o WHERE o.id = line.order_id"
    )
    op.alter_column("order_line", "currency", nullable=False)
    op.create_check_constraint("ck_order_line_currency", "order_line", "currency ~ '^[A-Z]{3}$'")
    # What the line's key points at: its order in that currency (the same name, first column).
    op.create_index(ID_CURRENCY, "customer_order", ["id", "currency"], unique=True)
    op.drop_constraint(ORDER_KEY, "order_line", type_="foreignkey")
    op.create_foreign_key(
        ORDER_KEY,
        "order_line",
        "customer_order",
        ["order_id", "currency"],
        ["id", "currency"],
        ondelete="CASCADE",
    )


def downgrade() -> None:
    op.drop_constraint(ORDER_KEY, "order_line", type_="foreignkey")
    op.create_foreign_key(
        ORDER_KEY, "order_line", "customer_order", ["order_id"], ["id"], ondelete="CASCADE"
    )
    op.drop_index(ID_CURRENCY, table_name="customer_order")
    op.drop_column("order_line", "currency")

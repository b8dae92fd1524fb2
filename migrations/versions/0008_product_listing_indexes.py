"""Product listing: a composite index per sort inside a category (category pages and
`products(filter: {categoryId}, sort: …)` read one category in sort order).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_product_category_id_created_at_id": ["category_id", "created_at", "id"],
    "ix_product_category_id_price_id": ["category_id", "price", "id"],
    "ix_product_category_id_name_id": ["category_id", "name", "id"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "product", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="product")

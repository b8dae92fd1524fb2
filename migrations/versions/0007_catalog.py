"""Catalog: categories, products (with a stored search document), favorites,
collections and their items, product views; trigram search where pg_trgm exists.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLUG = "^[a-z0-9]+(-[a-z0-9]+)*$"
SEARCH_DOCUMENT = (
    "setweight(to_tsvector('simple'::regconfig, coalesce(name, '') || ' ' || sku), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, coalesce(description, '')), 'B')"
)
# Optional (SPEC §1): the embedded PostgreSQL has no pg_trgm; search then goes without typos.
TRIGRAM_INDEX = "ix_product_name_trgm"


def identity() -> sa.Column:
    return sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False)


def timestamps() -> list[sa.Column]:
    return [
        sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()"))
        for name in ("created_at", "updated_at")
    ]


def reference(column: str, table: str, owner: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.id"], name=f"fk_{owner}_{column}_{table}", ondelete=ondelete
    )


def upgrade() -> None:
    create_category()
    create_product()
    create_favorite()
    create_collection()
    create_product_view()
    create_trigram_index()


def create_category() -> None:
    op.create_table(
        "category",
        identity(),
        sa.Column("parent_id", sa.BigInteger(), nullable=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("slug", sa.String(120), nullable=False),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_category"),
        reference("parent_id", "category", "category", "RESTRICT"),
        sa.CheckConstraint(f"slug ~ '{SLUG}'", name="ck_category_slug"),
        sa.CheckConstraint("parent_id <> id", name="ck_category_not_own_parent"),
    )
    op.create_index("uq_category_slug", "category", ["slug"], unique=True)
    op.create_index("ix_category_parent_id", "category", ["parent_id"])


def create_product() -> None:
    op.create_table(
        "product",
        identity(),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("slug", sa.String(160), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=sa.text("''")),
        sa.Column("price", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False, server_default="EUR"),
        sa.Column("category_id", sa.BigInteger(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.text("true")),
        sa.Column(
            "search_document",
            postgresql.TSVECTOR(),
            sa.Computed(SEARCH_DOCUMENT, persisted=True),
            nullable=True,
        ),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_product"),
        reference("category_id", "category", "product", "RESTRICT"),
        sa.CheckConstraint(f"slug ~ '{SLUG}'", name="ck_product_slug"),
        sa.CheckConstraint("price >= 0", name="ck_product_price_not_negative"),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="ck_product_currency"),
        sa.CheckConstraint("length(sku) BETWEEN 1 AND 64", name="ck_product_sku_length"),
    )
    op.create_index("uq_product_sku_lower", "product", [sa.text("lower(sku)")], unique=True)
    op.create_index("uq_product_slug", "product", ["slug"], unique=True)
    for columns in (["category_id", "id"], ["created_at", "id"], ["price", "id"], ["name", "id"]):
        op.create_index(f"ix_product_{'_'.join(columns)}", "product", columns)
    op.create_index(
        "ix_product_search_document", "product", ["search_document"], postgresql_using="gin"
    )


def create_favorite() -> None:
    op.create_table(
        "favorite",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        sa.PrimaryKeyConstraint("user_id", "product_id", name="pk_favorite"),
        reference("user_id", "user_account", "favorite", "CASCADE"),
        reference("product_id", "product", "favorite", "CASCADE"),
    )
    op.create_index("ix_favorite_product_id", "favorite", ["product_id"])
    op.create_index("ix_favorite_user_id_created_at", "favorite", ["user_id", "created_at"])


def create_collection() -> None:
    op.create_table(
        "collection",
        identity(),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("visibility", sa.String(8), nullable=False, server_default="PRIVATE"),
        *timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_collection"),
        reference("owner_id", "user_account", "collection", "CASCADE"),
        sa.CheckConstraint("visibility IN ('PUBLIC', 'PRIVATE')", name="ck_collection_visibility"),
        sa.CheckConstraint("length(name) BETWEEN 1 AND 120", name="ck_collection_name_length"),
    )
    op.create_index(
        "uq_collection_owner_id_name",
        "collection",
        ["owner_id", sa.text("lower(name)")],
        unique=True,
    )
    op.create_table(
        "collection_item",
        sa.Column("collection_id", sa.BigInteger(), nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "added_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")
        ),
        sa.PrimaryKeyConstraint("collection_id", "product_id", name="pk_collection_item"),
        reference("collection_id", "collection", "collection_item", "CASCADE"),
        reference("product_id", "product", "collection_item", "CASCADE"),
    )
    op.create_index("ix_collection_item_product_id", "collection_item", ["product_id"])


def create_product_view() -> None:
    op.create_table(
        "product_view",
        identity(),
        sa.Column("product_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("viewer", sa.String(80), nullable=False),
        sa.Column("viewed_hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "viewed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")
        ),
        sa.PrimaryKeyConstraint("id", name="pk_product_view"),
        reference("product_id", "product", "product_view", "CASCADE"),
        reference("user_id", "user_account", "product_view", "CASCADE"),
    )
    op.create_index(
        "uq_product_view_product_id_viewer_hour",
        "product_view",
        ["product_id", "viewer", "viewed_hour"],
        unique=True,
    )
    op.create_index(
        "ix_product_view_user_id_viewed_at",
        "product_view",
        ["user_id", "viewed_at"],
        postgresql_where=sa.text("user_id IS NOT NULL"),
    )


def create_trigram_index() -> None:
    """pg_trgm and a trigram index on product names, where the server offers the extension."""
    bind = op.get_bind()
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
    ).scalar()
    if not available:
        return
    try:
        with bind.begin_nested():
            op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError:  # no right to create extensions: search goes without typos
        return
    op.execute(f"CREATE INDEX {TRIGRAM_INDEX} ON product USING gin (lower(name) gin_trgm_ops)")


def downgrade() -> None:
    op.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")
    for table in ("product_view", "collection_item", "collection", "favorite", "product"):
        op.drop_table(table)
    op.drop_table("category")
    # Ours if nothing else uses it (CASCADE would take other objects with it: never).
    op.execute(
        "DO $$ BEGIN DROP EXTENSION IF EXISTS pg_trgm; "
        "EXCEPTION WHEN dependent_objects_still_exist THEN NULL; END $$"
    )

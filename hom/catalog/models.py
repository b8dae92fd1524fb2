"""Tables of the catalog: the category tree, products, favorites, collections, views."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    ForeignKey,
    Index,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlmodel import Field, SQLModel

from hom.core.columns import created_at_column, id_column, timestamp_column, updated_at_column

SLUG_PATTERN = "^[a-z0-9]+(-[a-z0-9]+)*$"
# Name and sku weigh more than the description; 'simple' keeps every language's words
# as they are (lower-cased), so Cyrillic and Latin search alike.
SEARCH_DOCUMENT = (
    "setweight(to_tsvector('simple'::regconfig, coalesce(name, '') || ' ' || sku), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, coalesce(description, '')), 'B')"
)


class Visibility(StrEnum):
    PUBLIC = "PUBLIC"
    PRIVATE = "PRIVATE"


def _references(table: str, ondelete: str) -> ForeignKey:
    return ForeignKey(f"{table}.id", ondelete=ondelete)


class Category(SQLModel, table=True):
    __tablename__ = "category"
    __table_args__ = (
        Index("uq_category_slug", "slug", unique=True),
        Index("ix_category_parent_id", "parent_id"),
        CheckConstraint(f"slug ~ '{SLUG_PATTERN}'", name="slug"),
        CheckConstraint("parent_id <> id", name="not_own_parent"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    parent_id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, _references("category", "RESTRICT"), nullable=True),
    )
    name: str = Field(sa_column=Column(String(120), nullable=False))
    slug: str = Field(sa_column=Column(String(120), nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())
    updated_at: datetime | None = Field(default=None, sa_column=updated_at_column())


class Product(SQLModel, table=True):
    __tablename__ = "product"
    __table_args__ = (
        Index("uq_product_sku_lower", func.lower(text("sku")), unique=True),
        Index("uq_product_slug", "slug", unique=True),
        Index("ix_product_category_id_id", "category_id", "id"),
        Index("ix_product_created_at_id", "created_at", "id"),
        Index("ix_product_price_id", "price", "id"),
        Index("ix_product_name_id", "name", "id"),
        # One category in each sort's order (category pages, the category filter).
        Index("ix_product_category_id_created_at_id", "category_id", "created_at", "id"),
        Index("ix_product_category_id_price_id", "category_id", "price", "id"),
        Index("ix_product_category_id_name_id", "category_id", "name", "id"),
        Index("ix_product_search_document", "search_document", postgresql_using="gin"),
        CheckConstraint(f"slug ~ '{SLUG_PATTERN}'", name="slug"),
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency"),
        CheckConstraint("length(sku) BETWEEN 1 AND 64", name="sku_length"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    sku: str = Field(sa_column=Column(String(64), nullable=False))
    slug: str = Field(sa_column=Column(String(160), nullable=False))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    description: str = Field(
        default="", sa_column=Column(Text, nullable=False, server_default=text("''"))
    )
    price: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))
    currency: str = Field(
        default="EUR", sa_column=Column(String(3), nullable=False, server_default="EUR")
    )
    category_id: int = Field(
        sa_column=Column(BigInteger, _references("category", "RESTRICT"), nullable=False)
    )
    is_active: bool = Field(
        default=True, sa_column=Column(Boolean, nullable=False, server_default=text("true"))
    )
    search_document: str | None = Field(
        default=None,
        sa_column=Column(TSVECTOR, Computed(SEARCH_DOCUMENT, persisted=True), nullable=True),
    )
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())
    updated_at: datetime | None = Field(default=None, sa_column=updated_at_column())


class Favorite(SQLModel, table=True):
    __tablename__ = "favorite"
    __table_args__ = (
        PrimaryKeyConstraint("user_id", "product_id", name="pk_favorite"),
        Index("ix_favorite_product_id", "product_id"),
        Index("ix_favorite_user_id_created_at", "user_id", "created_at"),
    )

    user_id: int = Field(
        sa_column=Column(BigInteger, _references("user_account", "CASCADE"), nullable=False)
    )
    product_id: int = Field(
        sa_column=Column(BigInteger, _references("product", "CASCADE"), nullable=False)
    )
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())


class Collection(SQLModel, table=True):
    __tablename__ = "collection"
    __table_args__ = (
        Index("uq_collection_owner_id_name", "owner_id", func.lower(text("name")), unique=True),
        CheckConstraint(
            f"visibility IN ({', '.join(repr(v.value) for v in Visibility)})", name="visibility"
        ),
        CheckConstraint("length(name) BETWEEN 1 AND 120", name="name_length"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    owner_id: int = Field(
        sa_column=Column(BigInteger, _references("user_account", "CASCADE"), nullable=False)
    )
    name: str = Field(sa_column=Column(String(120), nullable=False))
    visibility: str = Field(
        default=Visibility.PRIVATE.value,
        sa_column=Column(String(8), nullable=False, server_default=Visibility.PRIVATE.value),
    )
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())
    updated_at: datetime | None = Field(default=None, sa_column=updated_at_column())


class CollectionItem(SQLModel, table=True):
    __tablename__ = "collection_item"
    __table_args__ = (
        PrimaryKeyConstraint("collection_id", "product_id", name="pk_collection_item"),
        Index("ix_collection_item_product_id", "product_id"),
    )

    collection_id: int = Field(
        sa_column=Column(BigInteger, _references("collection", "CASCADE"), nullable=False)
    )
    product_id: int = Field(
        sa_column=Column(BigInteger, _references("product", "CASCADE"), nullable=False)
    )
    added_at: datetime | None = Field(default=None, sa_column=created_at_column())


class ProductView(SQLModel, table=True):
    """One row per viewer, product and hour: what `viewCount` counts."""

    __tablename__ = "product_view"
    __table_args__ = (
        Index(
            "uq_product_view_product_id_viewer_hour",
            "product_id",
            "viewer",
            "viewed_hour",
            unique=True,
        ),
        Index(
            "ix_product_view_user_id_viewed_at",
            "user_id",
            "viewed_at",
            postgresql_where=text("user_id IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    product_id: int = Field(
        sa_column=Column(BigInteger, _references("product", "CASCADE"), nullable=False)
    )
    user_id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, _references("user_account", "CASCADE"), nullable=True),
    )
    # "user:<id>" for a signed-in viewer, else a hash of the client (never the address).
    viewer: str = Field(sa_column=Column(String(80), nullable=False))
    viewed_hour: datetime = Field(sa_column=timestamp_column(nullable=False))
    viewed_at: datetime | None = Field(
        default=None, sa_column=timestamp_column(nullable=False, default_now=True)
    )

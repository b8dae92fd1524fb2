"""Strawberry types of the catalog: categories, products and their money."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy import false
from strawberry import relay

from hom.catalog import listing, reads, rules
from hom.catalog.loaders import (
    category_by_id,
    product_by_id,
    product_count_by_category,
    products_by_category,
)
from hom.catalog.models import Category, Product
from hom.core.graphql import compiled
from hom.core.graphql.payloads import Payload
from hom.core.graphql.relations import (
    computed,
    connection,
    embedded,
    nodes_by_id,
    to_many,
    to_one,
)
from hom.core.graphql.relay import CountedConnection, decode_id
from hom.core.graphql.visibility import rows_of
from hom.inventory import service as inventory

if TYPE_CHECKING:
    from hom.inventory.types import StockLevelType


@strawberry.type(description="An amount of money in one currency.")
class Money:
    amount: Decimal = strawberry.field(description='Exact, with two decimals ("9.90").')
    currency: str = strawberry.field(description="ISO 4217 code (EUR).")


@rows_of(Category, visible=rules.CATEGORIES)
@strawberry.type(name="Category", description="A node of the catalog's category tree.")
class CategoryType(relay.Node):
    category_id: relay.NodeID[int]
    name: str
    slug: str
    parent_id: strawberry.Private[int | None]
    parent: CategoryType | None = to_one(
        key="parent_id",
        target=lambda: CategoryType,
        description="The category above (null at the top of the tree).",
    )
    children: list[CategoryType] = to_many(
        key="category_id",
        foreign_key="parent_id",
        order=reads.by_name,
        target=lambda: CategoryType,
        estimate=10,
        description="The categories directly below, by name.",
    )
    products: CountedConnection[ProductType] = connection(
        key="category_id",
        loader=products_by_category,
        count=product_count_by_category,
        target=lambda: ProductType,
        sort_keys=reads.CATEGORY_PRODUCT_KEYS,
        description="The products in this category and in every category below it (at any "
        "depth), newest first; `totalCount`: what `productCount` counts.",
    )
    product_count: int = computed(
        key="category_id",
        sql=lambda row, reader: reads.product_count(
            row.c.id, include_archived=rules.sees_archived(reader)
        ),
        default=0,
        description="How many products are in this category and in every category below it "
        "(at any depth); archived ones count for operators and admins only.",
    )

    @classmethod
    def from_model(cls, category: Category) -> CategoryType:
        assert category.id is not None
        return cls(
            category_id=category.id,
            name=category.name,
            slug=category.slug,
            parent_id=category.parent_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[CategoryType | None]:
        return await nodes_by_id(info, cls, category_by_id, node_ids)


def stock_level_type() -> Any:
    """Inventory's StockLevel (imported late: inventory's types import this module)."""
    from hom.inventory.types import StockLevelType

    return StockLevelType


@rows_of(Product, visible=rules.PRODUCTS)
@strawberry.type(name="Product", description="Something the shop sells.")
class ProductType(relay.Node):
    product_id: relay.NodeID[int]
    sku: str
    slug: str
    name: str
    description: str
    row: strawberry.Private[Product]
    price: Money = embedded(Money, amount="price", currency="currency")
    is_active: bool = strawberry.field(
        description="False once archived (then only operators and admins see it)."
    )
    created_at: datetime
    updated_at: datetime
    category_id: strawberry.Private[int]
    category: CategoryType = to_one(key="category_id", target=lambda: CategoryType)
    available_quantity: int = computed(
        key="product_id",
        sql=lambda row, _: inventory.available_quantity(row.c.id),
        default=0,
        description="How many can be ordered now: on hand minus reserved, over the active "
        "warehouses.",
    )
    stock_levels: list[Annotated[StockLevelType, strawberry.lazy("hom.inventory.types")]] = to_many(
        key="product_id",
        foreign_key="product_id",
        order=inventory.by_warehouse_code,
        target=lambda: stock_level_type(),
        estimate=5,  # one per warehouse
        description="Its stock in each warehouse, by warehouse code: for operators and "
        "admins; an empty list for everyone else.",
    )
    favorite_count: int = computed(
        key="product_id",
        sql=lambda row, _: reads.favorite_count(row.c.id),
        default=0,
        description="How many users have it among their favorites.",
    )
    view_count: int = computed(
        key="product_id",
        sql=lambda row, _: reads.view_count(row.c.id),
        default=0,
        description="Counted views: one per viewer and hour.",
    )
    viewer_has_favorited: bool = computed(
        key="product_id",
        sql=lambda row, reader: (
            reads.has_favorited(compiled.viewer_id(), row.c.id)
            if reader.user_id is not None
            else false()
        ),
        default=False,
        description="Whether you have it among your favorites (false when signed out).",
    )

    @classmethod
    def from_model(cls, product: Product) -> ProductType:
        assert product.id is not None
        assert product.created_at is not None
        assert product.updated_at is not None
        return cls(
            product_id=product.id,
            sku=product.sku,
            slug=product.slug,
            name=product.name,
            description=product.description,
            row=product,
            is_active=product.is_active,
            created_at=product.created_at,
            updated_at=product.updated_at,
            category_id=product.category_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[ProductType | None]:
        return await nodes_by_id(info, cls, product_by_id, node_ids)


# --- the products listing (CatalogQuery.products) --------------------------------------

strawberry.enum(
    listing.ProductSort,
    name="ProductSort",
    description="RELEVANCE (the default when searching; else NEWEST), NEWEST, PRICE_ASC, "
    "PRICE_DESC, NAME; ties go to the newer id (the older for PRICE_ASC and NAME).",
)


@strawberry.input(name="ProductFilter", description="Products matching every condition given.")
class ProductFilterInput:
    search: str | None = strawberry.field(
        default=None,
        description="Words of the name, sku or description (prefixes; any input is literal); "
        "a one-letter typo in the name matches where the server has pg_trgm.",
    )
    category_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Only products in this category or in a category below it (any depth).",
    )
    min_price: Decimal | None = strawberry.field(default=None, description="Inclusive.")
    max_price: Decimal | None = strawberry.field(default=None, description="Inclusive.")
    in_stock: bool | None = strawberry.field(
        default=None, description="Available now (true) or not (false)."
    )

    def to_filter(self, *, include_inactive: bool) -> listing.ProductFilter:
        category = self.category_id
        return listing.ProductFilter(
            search=self.search,
            category_id=None
            if category is None
            else decode_id(category, "Category", argument="filter.categoryId"),
            min_price=self.min_price,
            max_price=self.max_price,
            in_stock=self.in_stock,
            include_inactive=include_inactive,
        )


@strawberry.input
class CreateCategoryInput:
    name: str
    slug: str
    parent_id: strawberry.ID | None = strawberry.field(
        default=None, description="The category to put it under; null or absent: the top."
    )


@strawberry.input
class UpdateCategoryInput:
    id: strawberry.ID
    name: str | None = None
    slug: str | None = None
    parent_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="Move it under this category; null moves it to the top; absent keeps it.",
    )


@strawberry.input
class CreateProductInput:
    sku: str
    slug: str
    name: str
    price: Decimal
    category_id: strawberry.ID
    description: str = ""
    currency: str = "EUR"
    is_active: bool = True


@strawberry.input(description="Only the fields given change.")
class UpdateProductInput:
    id: strawberry.ID
    sku: str | None = None
    slug: str | None = None
    name: str | None = None
    description: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    category_id: strawberry.ID | None = None
    is_active: bool | None = None


@strawberry.type
class CategoryPayload(Payload):
    category: CategoryType | None = None


@strawberry.type
class CreateCategoryPayload(CategoryPayload):
    pass


@strawberry.type
class UpdateCategoryPayload(CategoryPayload):
    pass


@strawberry.type
class DeleteCategoryPayload(Payload):
    deleted_category_id: strawberry.ID | None = strawberry.field(
        default=None, description="The id the deleted category had."
    )


@strawberry.type
class ProductPayload(Payload):
    product: ProductType | None = None


@strawberry.type
class CreateProductPayload(ProductPayload):
    pass


@strawberry.type
class UpdateProductPayload(ProductPayload):
    pass


@strawberry.type
class ArchiveProductPayload(ProductPayload):
    pass

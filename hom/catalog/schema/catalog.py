"""Catalog root fields: the category tree and products, read by anyone, edited by
operators and admins."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.relay import to_base64

from hom.catalog import listing, reads, service
from hom.catalog.loaders import category_by_slug
from hom.catalog.models import Category, Product
from hom.catalog.rules import sees_archived
from hom.catalog.types import (
    ArchiveProductPayload,
    CategoryType,
    CreateCategoryInput,
    CreateCategoryPayload,
    CreateProductInput,
    CreateProductPayload,
    DeleteCategoryPayload,
    ProductFilterInput,
    ProductType,
    UpdateCategoryInput,
    UpdateCategoryPayload,
    UpdateProductInput,
    UpdateProductPayload,
)
from hom.core.graphql import compiled
from hom.core.graphql.cost import estimate
from hom.core.graphql.errors import arguments_checked, bad_user_input
from hom.core.graphql.payloads import mutate
from hom.core.graphql.permissions import Public, has_role, require_viewer
from hom.core.graphql.relations import prefetch, present_one, present_page
from hom.core.graphql.relay import Connection, decode_id
from hom.core.graphql.visibility import present, present_all
from hom.core.pagination import PageQuery
from hom.core.roles import Role
from hom.core.services import DatabaseFeatures
from hom.core.viewer import Reader

EditsCatalog = has_role(Role.OPERATOR)


def category_id_of(global_id: str, argument: str) -> int:
    return decode_id(global_id, "Category", argument=argument)


def product_id_of(global_id: str, argument: str = "id") -> int:
    return decode_id(global_id, "Product", argument=argument)


def optional_category_id(global_id: Any, argument: str) -> Any:
    """A Category id, None, or (for an absent update field) UNCHANGED."""
    if global_id is strawberry.UNSET:
        return service.UNCHANGED
    return None if global_id is None else category_id_of(global_id, argument)


def category_shown(reader: Reader) -> Callable[[Category], CategoryType | None]:
    return lambda category: present(reader, CategoryType, category)


def product_shown(reader: Reader) -> Callable[[Product], ProductType | None]:
    return lambda product: present(reader, ProductType, product)


def products_query(
    reader: Reader,
    features: DatabaseFeatures,
    *,
    first: int | None = None,
    after: str | None = None,
    filter: ProductFilterInput | None = None,
    sort: listing.ProductSort | None = None,
    last: int | None = None,
    before: str | None = None,
) -> PageQuery | None:
    """The page `products` answers with: its resolver's and the compiled path's."""
    criteria = (filter or ProductFilterInput()).to_filter(include_inactive=sees_archived(reader))
    return listing.client_products_query(
        filter=criteria,
        sort=sort,
        first=first,
        after=after,
        last=last,
        before=before,
        trigram=bool(features.pg_trgm),
    )


def product_key(id: str | None, slug: str | None) -> dict[str, Any]:
    """`product`'s arguments as the lookup's: exactly one of them."""
    if (id is None) == (slug is None):
        raise bad_user_input("Give exactly one of `id` and `slug`")
    return {"product_id": product_id_of(id)} if id is not None else {"slug": slug}


def product_query(
    reader: Reader, features: Any, *, id: str | None = None, slug: str | None = None
) -> Any:
    """The row `product` answers with: its resolver's and the compiled path's."""
    return reads.product_lookup(**product_key(id, slug))


def category_query(reader: Reader, features: Any, *, slug: str) -> Any:
    return reads.category_lookup(slug=slug)


@strawberry.type
class CatalogQuery:
    @strawberry.field(
        permission_classes=[Public],
        description="The top of the category tree, by name.",
        metadata={
            **compiled.source(
                compiled.ListSource(lambda reader, features: service.root_categories_query())
            ),
            **estimate(20),
        },
    )
    async def categories(self, info: strawberry.Info) -> list[CategoryType]:
        async with info.context.db.session() as session:
            roots = await service.root_categories(session)
        found = present_all(await info.context.reader(), CategoryType, roots)
        await prefetch(info, found)
        return found

    @strawberry.field(
        permission_classes=[Public],
        description="A category by its slug.",
        metadata=compiled.source(compiled.RowSource(category_query)),
    )
    async def category(self, info: strawberry.Info, slug: str) -> CategoryType | None:
        found = await info.context.loaders.get(category_by_slug).load(slug)
        return await present_one(info, CategoryType, found)

    @strawberry.field(
        permission_classes=[Public],
        description="Products by filter and sort, with keyset cursors (a cursor belongs to "
        "its sort and search); archived ones only for operators and admins. No "
        "`totalCount`: the whole catalog is not counted per page (see `Category.productCount`).",
        metadata=compiled.source(compiled.ConnectionSource(products_query)),
    )
    async def products(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        filter: ProductFilterInput | None = None,
        sort: listing.ProductSort | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ProductType]:
        reader = await info.context.reader()
        features = info.context.features
        async with info.context.db.session() as session:
            with arguments_checked("filter"):
                page = await listing.run_client_products_query(
                    session,
                    features=features,
                    query=lambda: products_query(
                        reader,
                        features,
                        first=first,
                        after=after,
                        last=last,
                        before=before,
                        filter=filter,
                        sort=sort,
                    ),
                )
        connection: Connection[ProductType] = await present_page(info, ProductType, page)
        return connection

    @strawberry.field(
        permission_classes=[Public],
        description="A product by its id or by its slug (one of them).",
        metadata=compiled.source(compiled.RowSource(product_query)),
    )
    async def product(
        self, info: strawberry.Info, id: strawberry.ID | None = None, slug: str | None = None
    ) -> ProductType | None:
        key = product_key(id, slug)
        async with info.context.db.session() as session:
            found = await reads.product_by_key(session, **key)
        return await present_one(info, ProductType, found)


@strawberry.type
class CatalogMutation:
    @strawberry.mutation(
        permission_classes=[EditsCatalog], description="Add a category (operators, admins)."
    )
    async def create_category(
        self, info: strawberry.Info, input: CreateCategoryInput
    ) -> CreateCategoryPayload:
        viewer = await require_viewer(info)
        parent = input.parent_id
        new = service.NewCategory(
            name=input.name,
            slug=input.slug,
            parent_id=None if parent is None else category_id_of(parent, "input.parentId"),
        )
        return await mutate(
            info,
            CreateCategoryPayload,
            lambda s: service.create_category(s, new=new, actor=viewer),
            category_shown(viewer.reader),
        )

    @strawberry.mutation(
        permission_classes=[EditsCatalog],
        description="Rename a category, change its slug or move it in the tree.",
    )
    async def update_category(
        self, info: strawberry.Info, input: UpdateCategoryInput
    ) -> UpdateCategoryPayload:
        viewer = await require_viewer(info)
        changes = service.CategoryChanges(
            category_id=category_id_of(input.id, "input.id"),
            name=input.name,
            slug=input.slug,
            parent_id=optional_category_id(input.parent_id, "input.parentId"),
        )
        return await mutate(
            info,
            UpdateCategoryPayload,
            lambda s: service.update_category(s, changes=changes, actor=viewer),
            category_shown(viewer.reader),
        )

    @strawberry.mutation(
        permission_classes=[EditsCatalog],
        description="Delete a category that has no products (archived ones too) and no children.",
    )
    async def delete_category(
        self, info: strawberry.Info, id: strawberry.ID
    ) -> DeleteCategoryPayload:
        viewer = await require_viewer(info)
        category_id = category_id_of(id, "id")
        return await mutate(
            info,
            DeleteCategoryPayload,
            lambda s: service.delete_category(s, category_id=category_id, actor=viewer),
            lambda deleted: strawberry.ID(to_base64("Category", deleted)),
        )

    @strawberry.mutation(
        permission_classes=[EditsCatalog], description="Add a product (operators, admins)."
    )
    async def create_product(
        self, info: strawberry.Info, input: CreateProductInput
    ) -> CreateProductPayload:
        viewer = await require_viewer(info)
        new = service.NewProduct(
            sku=input.sku,
            slug=input.slug,
            name=input.name,
            description=input.description,
            price=input.price,
            currency=input.currency,
            category_id=category_id_of(input.category_id, "input.categoryId"),
            is_active=input.is_active,
        )
        return await mutate(
            info,
            CreateProductPayload,
            lambda s: service.create_product(s, new=new, actor=viewer),
            product_shown(viewer.reader),
        )

    @strawberry.mutation(
        permission_classes=[EditsCatalog], description="Change any of a product's fields."
    )
    async def update_product(
        self, info: strawberry.Info, input: UpdateProductInput
    ) -> UpdateProductPayload:
        viewer = await require_viewer(info)
        category = input.category_id
        changes = service.ProductChanges(
            product_id=product_id_of(input.id, "input.id"),
            sku=input.sku,
            slug=input.slug,
            name=input.name,
            description=input.description,
            price=input.price,
            currency=input.currency,
            category_id=None if category is None else category_id_of(category, "input.categoryId"),
            is_active=input.is_active,
        )
        return await mutate(
            info,
            UpdateProductPayload,
            lambda s: service.update_product(s, changes=changes, actor=viewer),
            product_shown(viewer.reader),
        )

    @strawberry.mutation(
        permission_classes=[EditsCatalog],
        description="Hide a product from shoppers (idempotent); operators and admins still see it.",
    )
    async def archive_product(
        self, info: strawberry.Info, id: strawberry.ID
    ) -> ArchiveProductPayload:
        viewer = await require_viewer(info)
        product_id = product_id_of(id)
        return await mutate(
            info,
            ArchiveProductPayload,
            lambda s: service.archive_product(s, product_id=product_id, actor=viewer),
            product_shown(viewer.reader),
        )


# Engagement: favorites, collections, views. The signed-in user's own lists and actions
# (IsAuthenticated), `collection(id)` and `recordProductView` for everyone.

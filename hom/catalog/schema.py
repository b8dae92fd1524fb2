"""CatalogQuery / CatalogMutation: thin resolvers over the catalog service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.relay import to_base64

from hom.catalog import collections, favorites, listing, service, views
from hom.catalog.loaders import category_by_id, product_by_id, sees_archived
from hom.catalog.models import Category, Collection, Product
from hom.catalog.types import (
    AddFavoritePayload,
    AddToCollectionInput,
    AddToCollectionPayload,
    ArchiveProductPayload,
    CategoryType,
    CollectionType,
    CreateCategoryInput,
    CreateCategoryPayload,
    CreateCollectionInput,
    CreateCollectionPayload,
    CreateProductInput,
    CreateProductPayload,
    DeleteCategoryPayload,
    DeleteCollectionPayload,
    ProductFilterInput,
    ProductType,
    RecordProductViewPayload,
    RemoveFavoritePayload,
    RemoveFromCollectionInput,
    RemoveFromCollectionPayload,
    UpdateCategoryInput,
    UpdateCategoryPayload,
    UpdateProductInput,
    UpdateProductPayload,
)
from hom.core.client_ip import client_ip, parse_networks
from hom.core.clock import utcnow
from hom.core.errors import DomainError
from hom.core.graphql.errors import arguments_checked, bad_user_input
from hom.core.graphql.payloads import UserError, mutate
from hom.core.graphql.permissions import IsAuthenticated, Public, has_role, require_viewer
from hom.core.graphql.relations import prefetch, present_one, present_page
from hom.core.graphql.relay import Connection, decode_id
from hom.core.graphql.visibility import present, present_all
from hom.core.pagination import page_request
from hom.core.roles import Role
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


@strawberry.type
class CatalogQuery:
    @strawberry.field(
        permission_classes=[Public], description="The top of the category tree, by name."
    )
    async def categories(self, info: strawberry.Info) -> list[CategoryType]:
        async with info.context.db.session() as session:
            roots = await service.root_categories(session)
        found = present_all(await info.context.reader(), CategoryType, roots)
        await prefetch(info, found)
        return found

    @strawberry.field(permission_classes=[Public], description="A category by its slug.")
    async def category(self, info: strawberry.Info, slug: str) -> CategoryType | None:
        async with info.context.db.session() as session:
            found = await service.get_category_by_slug(session, slug=slug)
        if found is not None and found.id is not None:
            # Its products point back at it: let them find it without another query.
            info.context.loaders.get(category_by_id).prime(found.id, found)
        return await present_one(info, CategoryType, found)

    @strawberry.field(
        permission_classes=[Public],
        description="Products by filter and sort, with keyset cursors (a cursor belongs to "
        "its sort and search); archived ones only for operators and admins.",
    )
    async def products(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        filter: ProductFilterInput | None = None,
        sort: listing.ProductSort | None = None,
    ) -> Connection[ProductType]:
        archived = sees_archived(await info.context.reader())
        criteria = (filter or ProductFilterInput()).to_filter(include_inactive=archived)
        features = info.context.features
        async with info.context.db.session() as session:
            if features.pg_trgm is None:  # not learnt at start-up (the database was away)
                features.pg_trgm = await listing.log_search_mode(connection=session)
            with arguments_checked("filter"):
                page = await listing.products_page(
                    session,
                    filter=criteria,
                    sort=sort,
                    first=first,
                    after=after,
                    trigram=features.pg_trgm,
                )
        connection: Connection[ProductType] = await present_page(info, ProductType, page)
        return connection

    @strawberry.field(
        permission_classes=[Public], description="A product by its id or by its slug (one of them)."
    )
    async def product(
        self, info: strawberry.Info, id: strawberry.ID | None = None, slug: str | None = None
    ) -> ProductType | None:
        if (id is None) == (slug is None):
            raise bad_user_input("Give exactly one of `id` and `slug`")
        async with info.context.db.session() as session:
            if id is not None:
                found = await service.get_product(session, product_id=product_id_of(id))
            else:
                assert slug is not None
                found = await service.get_product_by_slug(session, slug=slug)
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


def collection_id_of(global_id: str, argument: str = "id") -> int:
    return decode_id(global_id, "Collection", argument=argument)


def collection_shown(reader: Reader) -> Callable[[Collection], CollectionType | None]:
    return lambda collection: present(reader, CollectionType, collection)


def client_viewer_key(info: strawberry.Info, user_id: int | None) -> str:
    """Who is viewing: the user, else a hash of the client's address and user agent."""
    request = info.context.request
    proxies = parse_networks(tuple(info.context.settings.trusted_proxies))
    user_agent = request.headers.get("user-agent", "")
    return views.viewer_key(user_id, client_ip(request, proxies), user_agent)


@strawberry.type
class CatalogEngagementQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Your favorite products, the most recently starred first.",
    )
    async def my_favorites(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> Connection[ProductType]:
        viewer = await require_viewer(info)
        request = page_request(first, after, favorites.FAVORITE_KEYS)
        async with info.context.db.session() as session:
            page = await favorites.list_favorites(session, user_id=viewer.user_id, request=request)
        products: Connection[ProductType] = await present_page(info, ProductType, page)
        return products

    @strawberry.field(
        permission_classes=[IsAuthenticated], description="Your collections, newest first."
    )
    async def my_collections(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> Connection[CollectionType]:
        viewer = await require_viewer(info)
        request = page_request(first, after, collections.COLLECTION_KEYS)
        async with info.context.db.session() as session:
            page = await collections.list_collections(
                session, owner_id=viewer.user_id, request=request
            )
        found: Connection[CollectionType] = await present_page(info, CollectionType, page)
        return found

    @strawberry.field(
        permission_classes=[Public],
        description="A collection: a public one for anyone, a private one only for its owner.",
    )
    async def collection(self, info: strawberry.Info, id: strawberry.ID) -> CollectionType | None:
        reader = await info.context.reader()
        async with info.context.db.session() as session:
            found = await collections.readable_collection(
                session, reader_user_id=reader.user_id, collection_id=collection_id_of(id)
            )
        return await present_one(info, CollectionType, found)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Products you viewed, each once, the most recently viewed first.",
    )
    async def my_recently_viewed(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> Connection[ProductType]:
        viewer = await require_viewer(info)
        request = page_request(first, after, views.RECENTLY_VIEWED_KEYS)
        async with info.context.db.session() as session:
            page = await views.recently_viewed(session, user_id=viewer.user_id, request=request)
        products: Connection[ProductType] = await present_page(info, ProductType, page)
        return products


@strawberry.type
class CatalogEngagementMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Star a product (idempotent).",
    )
    async def add_favorite(
        self, info: strawberry.Info, product_id: strawberry.ID
    ) -> AddFavoritePayload:
        viewer = await require_viewer(info)
        product = product_id_of(product_id, "productId")
        return await mutate(
            info,
            AddFavoritePayload,
            lambda s: favorites.add_favorite(s, user_id=viewer.user_id, product_id=product),
            product_shown(viewer.reader),
        )

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Unstar a product (idempotent).",
    )
    async def remove_favorite(
        self, info: strawberry.Info, product_id: strawberry.ID
    ) -> RemoveFavoritePayload:
        viewer = await require_viewer(info)
        product = product_id_of(product_id, "productId")
        return await mutate(
            info,
            RemoveFavoritePayload,
            lambda s: favorites.remove_favorite(s, user_id=viewer.user_id, product_id=product),
            product_shown(viewer.reader),
        )

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Start a collection (private unless said otherwise).",
    )
    async def create_collection(
        self, info: strawberry.Info, input: CreateCollectionInput
    ) -> CreateCollectionPayload:
        viewer = await require_viewer(info)
        return await mutate(
            info,
            CreateCollectionPayload,
            lambda s: collections.create_collection(
                s, owner_id=viewer.user_id, name=input.name, visibility=input.visibility
            ),
            collection_shown(viewer.reader),
        )

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Put a product in one of your collections (idempotent).",
    )
    async def add_to_collection(
        self, info: strawberry.Info, input: AddToCollectionInput
    ) -> AddToCollectionPayload:
        viewer = await require_viewer(info)
        collection = collection_id_of(input.collection_id, "input.collectionId")
        product = product_id_of(input.product_id, "input.productId")
        return await mutate(
            info,
            AddToCollectionPayload,
            lambda s: collections.add_to_collection(
                s, owner_id=viewer.user_id, collection_id=collection, product_id=product
            ),
            collection_shown(viewer.reader),
        )

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Take a product out of one of your collections (idempotent).",
    )
    async def remove_from_collection(
        self, info: strawberry.Info, input: RemoveFromCollectionInput
    ) -> RemoveFromCollectionPayload:
        viewer = await require_viewer(info)
        collection = collection_id_of(input.collection_id, "input.collectionId")
        product = product_id_of(input.product_id, "input.productId")
        return await mutate(
            info,
            RemoveFromCollectionPayload,
            lambda s: collections.remove_from_collection(
                s, owner_id=viewer.user_id, collection_id=collection, product_id=product
            ),
            collection_shown(viewer.reader),
        )

    @strawberry.mutation(
        permission_classes=[IsAuthenticated], description="Delete one of your collections."
    )
    async def delete_collection(
        self, info: strawberry.Info, id: strawberry.ID
    ) -> DeleteCollectionPayload:
        viewer = await require_viewer(info)
        collection = collection_id_of(id)
        return await mutate(
            info,
            DeleteCollectionPayload,
            lambda s: collections.delete_collection(
                s, owner_id=viewer.user_id, collection_id=collection
            ),
            lambda deleted: strawberry.ID(to_base64("Collection", deleted.id)),
        )

    @strawberry.mutation(
        permission_classes=[Public],
        description="Count a view of a product: once per viewer and hour (anonymous: per client).",
    )
    async def record_product_view(
        self, info: strawberry.Info, product_id: strawberry.ID
    ) -> RecordProductViewPayload:
        viewer = await info.context.viewer()
        user_id = None if viewer is None else viewer.user_id
        product = product_id_of(product_id, "productId")
        key = client_viewer_key(info, user_id)
        try:
            async with info.context.db.transaction() as session:
                counted = await views.record_view(
                    session, product_id=product, viewer=key, user_id=user_id, at=utcnow()
                )
        except DomainError as error:
            return RecordProductViewPayload(errors=[UserError.of(error)])
        found = await info.context.loaders.get(product_by_id).load(product)
        shown = present(await info.context.reader(), ProductType, found)
        if shown is not None:
            await prefetch(info, [shown], "product")
        return RecordProductViewPayload(product=shown, counted=counted)

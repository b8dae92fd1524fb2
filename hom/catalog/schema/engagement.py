"""Catalog root fields of signed-in shoppers: favorites, collections, recently viewed;
and product views, counted for everyone."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from strawberry.relay import to_base64

from hom.catalog import collections, favorites, views
from hom.catalog.loaders import product_by_id
from hom.catalog.models import Collection
from hom.catalog.schema.catalog import product_id_of, product_shown
from hom.catalog.types import ProductType
from hom.catalog.types.engagement import (
    AddFavoritePayload,
    AddToCollectionInput,
    AddToCollectionPayload,
    CollectionType,
    CreateCollectionInput,
    CreateCollectionPayload,
    DeleteCollectionPayload,
    RecordProductViewPayload,
    RemoveFavoritePayload,
    RemoveFromCollectionInput,
    RemoveFromCollectionPayload,
)
from hom.core.client_ip import client_ip, parse_networks
from hom.core.clock import utcnow
from hom.core.errors import DomainError
from hom.core.graphql.payloads import UserError, mutate
from hom.core.graphql.permissions import IsAuthenticated, Public, require_viewer
from hom.core.graphql.reading import read_counted_page
from hom.core.graphql.relations import prefetch, present_one
from hom.core.graphql.relay import CountedConnection, decode_id
from hom.core.graphql.visibility import present
from hom.core.viewer import Reader


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
        description="Your favorite products, the most recently starred first; `totalCount`: "
        "how many (not archived) products you starred.",
    )
    async def my_favorites(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> CountedConnection[ProductType]:
        user_id = (await require_viewer(info)).user_id
        products: CountedConnection[ProductType] = await read_counted_page(
            info,
            ProductType,
            favorites.FAVORITE_KEYS,
            (first, after, last, before),
            lambda s, request: favorites.list_favorites(s, user_id=user_id, request=request),
            lambda s: favorites.count_favorites(s, user_id=user_id),
        )
        return products

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Your collections, newest first; `totalCount`: how many you have.",
    )
    async def my_collections(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> CountedConnection[CollectionType]:
        owner_id = (await require_viewer(info)).user_id
        found: CountedConnection[CollectionType] = await read_counted_page(
            info,
            CollectionType,
            collections.COLLECTION_KEYS,
            (first, after, last, before),
            lambda s, request: collections.list_collections(s, owner_id=owner_id, request=request),
            lambda s: collections.count_collections(s, owner_id=owner_id),
        )
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
        description="Products you viewed, each once, the most recently viewed first; "
        "`totalCount`: how many (not archived) products you viewed.",
    )
    async def my_recently_viewed(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> CountedConnection[ProductType]:
        user_id = (await require_viewer(info)).user_id
        products: CountedConnection[ProductType] = await read_counted_page(
            info,
            ProductType,
            views.RECENTLY_VIEWED_KEYS,
            (first, after, last, before),
            lambda s, request: views.recently_viewed(s, user_id=user_id, request=request),
            lambda s: views.count_recently_viewed(s, user_id=user_id),
        )
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

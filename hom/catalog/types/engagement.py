"""Strawberry types of the catalog's engagement: collections, and the payloads of favorites,
collections and views (CatalogEngagementQuery / CatalogEngagementMutation)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import relay

from hom.accounts.types import PersonType
from hom.catalog import collections
from hom.catalog.loaders import (
    collection_by_id,
    product_count_by_collection,
    products_by_collection,
)
from hom.catalog.models import Collection, Visibility
from hom.catalog.rules import COLLECTIONS
from hom.catalog.types import ProductPayload, ProductType
from hom.core.graphql.payloads import Payload
from hom.core.graphql.relations import connection, nodes_by_id, to_one, to_value
from hom.core.graphql.relay import CountedConnection
from hom.core.graphql.visibility import visible_to

strawberry.enum(Visibility, name="CollectionVisibility", description="Who may see a collection.")


@visible_to(COLLECTIONS)
@strawberry.type(name="Collection", description="A user's named list of products.")
class CollectionType(relay.Node):
    collection_id: relay.NodeID[int]
    name: str
    visibility: Visibility
    created_at: datetime
    owner_id: strawberry.Private[int]
    owner: PersonType = to_one(
        key="owner_id",
        target=lambda: PersonType,
        description="Whose collection it is.",
    )
    products: CountedConnection[ProductType] = connection(
        key="collection_id",
        loader=products_by_collection,
        count=product_count_by_collection,
        target=lambda: ProductType,
        sort_keys=collections.ITEM_KEYS,
        description="Its products, the most recently added first (archived ones are left "
        "out); `totalCount`: what `productCount` counts.",
    )
    product_count: int = to_value(
        key="collection_id",
        loader=product_count_by_collection,
        description="How many (not archived) products it holds.",
    )

    @classmethod
    def from_model(cls, collection: Collection) -> CollectionType:
        assert collection.id is not None
        assert collection.created_at is not None
        return cls(
            collection_id=collection.id,
            name=collection.name,
            visibility=Visibility(collection.visibility),
            created_at=collection.created_at,
            owner_id=collection.owner_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[CollectionType | None]:
        return await nodes_by_id(info, cls, collection_by_id, node_ids)


@strawberry.input
class CreateCollectionInput:
    name: str
    visibility: Visibility = Visibility.PRIVATE


@strawberry.input
class AddToCollectionInput:
    collection_id: strawberry.ID
    product_id: strawberry.ID


@strawberry.input
class RemoveFromCollectionInput:
    collection_id: strawberry.ID
    product_id: strawberry.ID


@strawberry.type
class AddFavoritePayload(ProductPayload):
    pass


@strawberry.type
class RemoveFavoritePayload(ProductPayload):
    pass


@strawberry.type
class CollectionPayload(Payload):
    collection: CollectionType | None = None


@strawberry.type
class CreateCollectionPayload(CollectionPayload):
    pass


@strawberry.type
class AddToCollectionPayload(CollectionPayload):
    pass


@strawberry.type
class RemoveFromCollectionPayload(CollectionPayload):
    pass


@strawberry.type
class DeleteCollectionPayload(Payload):
    deleted_collection_id: strawberry.ID | None = strawberry.field(
        default=None, description="The id the deleted collection had."
    )


@strawberry.type
class RecordProductViewPayload(Payload):
    product: ProductType | None = None
    counted: bool = strawberry.field(
        default=False,
        description="Whether this view counted (false when this viewer was counted this hour).",
    )

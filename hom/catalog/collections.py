"""Collections: a user's named lists of products, PUBLIC or PRIVATE.

Someone else's private collection does not exist for anyone but its owner: every
read goes through `readable()`, and a change to a collection one does not own is
NOT_FOUND (never FORBIDDEN, which would tell that it exists). Plain async
functions over a session; they never commit and never import strawberry.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.catalog.models import Collection, CollectionItem, Product, Visibility
from hom.catalog.shared import empty_page, product_page, require_active_product
from hom.core.db import violated_constraint
from hom.core.errors import DomainError, ErrorCode
from hom.core.pagination import (
    Page,
    PageRequest,
    SortKey,
    after_condition,
    count_rows,
    keyset_select,
    make_page,
    order_by_keys,
    read_keys,
)

MAX_NAME_LENGTH = 120
COLLECTION_KEYS = [SortKey(col(Collection.id), descending=True)]  # newest first
# The most recently added product first; the product id breaks ties within one now().
ITEM_KEYS = [
    SortKey(col(CollectionItem.added_at), descending=True),
    SortKey(col(CollectionItem.product_id), descending=True),
]
NAME_TAKEN = "uq_collection_owner_id_name"


def readable(reader_user_id: int | None) -> ColumnElement[bool]:
    """The collections `reader_user_id` (None: anonymous) may see: public ones and their own."""
    public = col(Collection.visibility) == Visibility.PUBLIC.value
    if reader_user_id is None:
        return public
    return or_(public, col(Collection.owner_id) == reader_user_id)


def check_name(name: str) -> str:
    trimmed = name.strip()
    if not 1 <= len(trimmed) <= MAX_NAME_LENGTH:
        raise DomainError(ErrorCode.INVALID, f"Name must be 1-{MAX_NAME_LENGTH} characters", "name")
    return trimmed


async def create_collection(
    session: AsyncSession, *, owner_id: int, name: str, visibility: Visibility
) -> Collection:
    """A new collection; a name the owner already uses (in any case) is ALREADY_EXISTS."""
    collection = Collection(
        owner_id=owner_id, name=check_name(name), visibility=Visibility(visibility).value
    )
    try:
        async with session.begin_nested():  # a refused INSERT leaves the transaction usable
            session.add(collection)
            await session.flush()
    except IntegrityError as error:
        if violated_constraint(error) == NAME_TAKEN:
            raise DomainError(
                ErrorCode.ALREADY_EXISTS, "You already have a collection with this name", "name"
            ) from None
        raise
    return collection


async def owned_collection(
    session: AsyncSession, *, owner_id: int, collection_id: int
) -> Collection:
    """The owner's collection, else NOT_FOUND on `collection_id` (whoever else owns it)."""
    statement = select(Collection).where(
        col(Collection.id) == collection_id, col(Collection.owner_id) == owner_id
    )
    collection = (await session.exec(statement)).first()
    if collection is None:
        raise DomainError(ErrorCode.NOT_FOUND, "No such collection", "collection_id")
    return collection


async def add_to_collection(
    session: AsyncSession, *, owner_id: int, collection_id: int, product_id: int
) -> Collection:
    """Put an active product in the owner's collection; adding it again changes nothing."""
    collection = await owned_collection(session, owner_id=owner_id, collection_id=collection_id)
    await require_active_product(session, product_id=product_id)
    statement = (
        insert(CollectionItem)
        .values(collection_id=collection_id, product_id=product_id)
        .on_conflict_do_nothing(index_elements=["collection_id", "product_id"])
    )
    await session.exec(statement)
    return collection


async def remove_from_collection(
    session: AsyncSession, *, owner_id: int, collection_id: int, product_id: int
) -> Collection:
    """Take a product out of the owner's collection; removing it again changes nothing."""
    collection = await owned_collection(session, owner_id=owner_id, collection_id=collection_id)
    await require_active_product(session, product_id=product_id)
    statement = delete(CollectionItem).where(
        col(CollectionItem.collection_id) == collection_id,
        col(CollectionItem.product_id) == product_id,
    )
    await session.exec(statement)
    return collection


async def delete_collection(
    session: AsyncSession, *, owner_id: int, collection_id: int
) -> Collection:
    """Delete the owner's collection and its items; the deleted row is returned."""
    statement = (
        delete(Collection)
        .where(col(Collection.id) == collection_id, col(Collection.owner_id) == owner_id)
        .returning(Collection)
    )
    deleted: Collection | None = (await session.exec(statement)).scalar_one_or_none()
    if deleted is None:
        raise DomainError(ErrorCode.NOT_FOUND, "No such collection", "collection_id")
    return deleted


async def readable_collection(
    session: AsyncSession, *, reader_user_id: int | None, collection_id: int
) -> Collection | None:
    """The collection if the reader may see it: a private one only for its owner, else None."""
    statement = select(Collection).where(
        col(Collection.id) == collection_id, readable(reader_user_id)
    )
    return (await session.exec(statement)).first()


async def collections_by_ids(
    session: AsyncSession, *, reader_user_id: int | None, ids: Sequence[int]
) -> list[Collection | None]:
    """Batch lookup in the order asked (the collections loader), visibility applied."""
    if not ids:
        return []
    statement = select(Collection).where(col(Collection.id).in_(ids), readable(reader_user_id))
    found = {collection.id: collection for collection in await session.exec(statement)}
    return [found.get(collection_id) for collection_id in ids]


async def list_collections(
    session: AsyncSession, *, owner_id: int, request: PageRequest
) -> Page[Collection]:
    """The owner's collections, newest first."""
    statement = collections_listing(owner_id)
    rows = (await session.exec(keyset_select(statement, COLLECTION_KEYS, request))).all()
    return make_page(rows, request, lambda collection: (collection.id,))


def collections_listing(owner_id: int) -> Any:
    return select(Collection).where(col(Collection.owner_id) == owner_id)


async def count_collections(session: AsyncSession, *, owner_id: int) -> int:
    """How many collections `list_collections` pages through."""
    return await count_rows(session, collections_listing(owner_id))


async def collection_products(
    session: AsyncSession, *, collection_id: int, request: PageRequest
) -> Page[Product]:
    """A page of the collection's active products, the most recently added first.

    The caller has checked that the reader may see the collection (`readable_collection`).
    """
    return (
        await collection_product_pages(session, collection_ids=[collection_id], request=request)
    ).get(collection_id, empty_page(request))


async def collection_product_pages(
    session: AsyncSession, *, collection_ids: Sequence[int], request: PageRequest
) -> dict[int, Page[Product]]:
    """A page of products for each collection in ONE statement (a window per collection).

    Collections without (active) products are absent from the answer.
    """
    statement = collection_items_listing(collection_ids)
    keys = read_keys(ITEM_KEYS, request)
    if request.after is not None:
        statement = statement.where(after_condition(keys, request.after))
    position = func.row_number().over(
        partition_by=col(CollectionItem.collection_id), order_by=order_by_keys(keys)
    )
    ranked = statement.add_columns(position.label("page_position")).subquery()
    paged = (
        select(aliased(Product, ranked), ranked.c.collection_id, ranked.c.added_at)
        .where(ranked.c.page_position <= request.first + 1)
        .order_by(ranked.c.collection_id, ranked.c.page_position)
    )
    grouped: dict[int, list[tuple[Product, datetime]]] = {}
    for product, collection_id, added_at in (await session.exec(paged)).all():
        grouped.setdefault(collection_id, []).append((product, added_at))
    return {
        collection_id: product_page(make_page(rows, request, _item_key))
        for collection_id, rows in grouped.items()
    }


def collection_items_listing(collection_ids: Sequence[int]) -> Any:
    """The active products of these collections, with their collection and when each was
    added (unordered): what both the pages and the counts read."""
    return (
        select(Product, col(CollectionItem.collection_id), col(CollectionItem.added_at))
        .join(CollectionItem, col(CollectionItem.product_id) == col(Product.id))
        .where(col(CollectionItem.collection_id).in_(collection_ids), col(Product.is_active))
    )


def _item_key(row: tuple[Product, datetime]) -> tuple[datetime, int | None]:
    product, added_at = row
    return added_at, product.id


async def collection_product_counts(
    session: AsyncSession, *, collection_ids: Sequence[int]
) -> list[int]:
    """How many active products each collection holds (0 for none), in the order asked."""
    if not collection_ids:
        return []
    listed = collection_items_listing(collection_ids).subquery("listed")
    statement = select(listed.c.collection_id, func.count()).group_by(listed.c.collection_id)
    counted = dict((await session.exec(statement)).all())
    return [counted.get(collection_id, 0) for collection_id in collection_ids]

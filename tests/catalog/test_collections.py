"""Collections: names unique per owner in any case, someone else's collection is NOT_FOUND,
a private one exists only for its owner, pages of products one statement for many."""

from __future__ import annotations

from typing import Any

import pytest

from hom.catalog import collections
from hom.catalog.models import Collection, CollectionItem, Visibility
from hom.core.errors import DomainError, ErrorCode
from hom.core.pagination import PageRequest, decode_cursor
from hom.core.unit_of_work import SessionMaker, unit_of_work
from tests.catalog.engagement import count_rows, create_product, id_of
from tests.factories import create_user

FIRST = PageRequest(first=20, after=None)


async def new_user_id(session_maker: SessionMaker) -> int:
    return id_of(await create_user(session_maker))


async def new_product_id(session_maker: SessionMaker, **values: Any) -> int:
    return id_of(await create_product(session_maker, **values))


async def new_collection(
    session_maker: SessionMaker,
    owner: int,
    name: str = "Wishlist",
    visibility: Visibility = Visibility.PRIVATE,
) -> Collection:
    async with unit_of_work(session_maker) as session:
        return await collections.create_collection(
            session, owner_id=owner, name=name, visibility=visibility
        )


async def put(session_maker: SessionMaker, owner: int, collection: int, product: int) -> None:
    async with unit_of_work(session_maker) as session:
        await collections.add_to_collection(
            session, owner_id=owner, collection_id=collection, product_id=product
        )


async def refused(session_maker: SessionMaker, operation: Any, **arguments: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        async with unit_of_work(session_maker) as session:
            await operation(session, **arguments)
    return caught.value


async def test_name_is_trimmed_and_unique_per_owner_in_any_case(
    session_maker: SessionMaker,
) -> None:
    owner, other = await new_user_id(session_maker), await new_user_id(session_maker)
    created = await new_collection(session_maker, owner, "  Gifts  ", Visibility.PUBLIC)
    assert (created.name, created.visibility) == ("Gifts", "PUBLIC")

    error = await refused(
        session_maker,
        collections.create_collection,
        owner_id=owner,
        name="GIFTS",
        visibility=Visibility.PRIVATE,
    )
    assert (error.code, error.field) == (ErrorCode.ALREADY_EXISTS, "name")
    await new_collection(session_maker, other, "gifts")  # another owner may use it
    assert await count_rows(session_maker, Collection) == 2


@pytest.mark.parametrize("name", ["", "   ", "x" * 121])
async def test_a_blank_or_long_name_is_invalid(session_maker: SessionMaker, name: str) -> None:
    owner = await new_user_id(session_maker)
    error = await refused(
        session_maker,
        collections.create_collection,
        owner_id=owner,
        name=name,
        visibility=Visibility.PUBLIC,
    )
    assert (error.code, error.field) == (ErrorCode.INVALID, "name")
    assert await count_rows(session_maker, Collection) == 0


async def test_adding_and_removing_are_idempotent(session_maker: SessionMaker) -> None:
    owner, product = await new_user_id(session_maker), await new_product_id(session_maker)
    collection = id_of(await new_collection(session_maker, owner))
    for _ in range(2):
        await put(session_maker, owner, collection, product)
    assert await count_rows(session_maker, CollectionItem) == 1
    for _ in range(2):
        async with unit_of_work(session_maker) as session:
            await collections.remove_from_collection(
                session, owner_id=owner, collection_id=collection, product_id=product
            )
    assert await count_rows(session_maker, CollectionItem) == 0


@pytest.mark.parametrize(
    "operation",
    [collections.add_to_collection, collections.remove_from_collection],
)
async def test_someone_elses_collection_is_not_found_never_forbidden(
    session_maker: SessionMaker, operation: Any
) -> None:
    owner, intruder = await new_user_id(session_maker), await new_user_id(session_maker)
    product = await new_product_id(session_maker)
    public = id_of(await new_collection(session_maker, owner, "Open", Visibility.PUBLIC))
    await put(session_maker, owner, public, product)

    for collection_id in (public, 10**12):
        error = await refused(
            session_maker,
            operation,
            owner_id=intruder,
            collection_id=collection_id,
            product_id=product,
        )
        assert (error.code, error.field) == (ErrorCode.NOT_FOUND, "collection_id")
    error = await refused(
        session_maker, collections.delete_collection, owner_id=intruder, collection_id=public
    )
    assert (error.code, error.field) == (ErrorCode.NOT_FOUND, "collection_id")
    assert await count_rows(session_maker, CollectionItem) == 1
    assert await count_rows(session_maker, Collection) == 1


async def test_unknown_or_archived_product_is_not_found(session_maker: SessionMaker) -> None:
    owner = await new_user_id(session_maker)
    archived = await new_product_id(session_maker, active=False)
    collection = id_of(await new_collection(session_maker, owner))
    for product_id in (archived, 10**12):
        error = await refused(
            session_maker,
            collections.add_to_collection,
            owner_id=owner,
            collection_id=collection,
            product_id=product_id,
        )
        assert (error.code, error.field) == (ErrorCode.NOT_FOUND, "product_id")
    assert await count_rows(session_maker, CollectionItem) == 0


async def test_delete_takes_the_items_with_it(session_maker: SessionMaker) -> None:
    owner, product = await new_user_id(session_maker), await new_product_id(session_maker)
    collection = id_of(await new_collection(session_maker, owner))
    await put(session_maker, owner, collection, product)
    async with unit_of_work(session_maker) as session:
        deleted = await collections.delete_collection(
            session, owner_id=owner, collection_id=collection
        )
    assert deleted.id == collection
    assert await count_rows(session_maker, Collection) == 0
    assert await count_rows(session_maker, CollectionItem) == 0


async def test_a_private_collection_exists_only_for_its_owner(
    session_maker: SessionMaker,
) -> None:
    owner, other = await new_user_id(session_maker), await new_user_id(session_maker)
    private = id_of(await new_collection(session_maker, owner, "Mine"))
    public = id_of(await new_collection(session_maker, owner, "Ours", Visibility.PUBLIC))

    async with session_maker() as session:
        for reader in (owner, other, None):
            found = await collections.readable_collection(
                session, reader_user_id=reader, collection_id=private
            )
            assert (found is not None) == (reader == owner)
            shared = await collections.readable_collection(
                session, reader_user_id=reader, collection_id=public
            )
            assert shared is not None
        batch = await collections.collections_by_ids(
            session, reader_user_id=other, ids=[private, public, 10**12]
        )
    assert [c.id if c else None for c in batch] == [None, public, None]


async def test_lists_and_product_pages(session_maker: SessionMaker) -> None:
    owner, other = await new_user_id(session_maker), await new_user_id(session_maker)
    first = id_of(await new_collection(session_maker, owner, "First"))
    second = id_of(await new_collection(session_maker, owner, "Second"))
    empty = id_of(await new_collection(session_maker, owner, "Empty"))
    await new_collection(session_maker, other, "Theirs")
    products = [await new_product_id(session_maker) for _ in range(4)]
    for product in products:  # one transaction each: added newest last
        await put(session_maker, owner, first, product)
    await put(session_maker, owner, second, products[0])

    async with session_maker() as session:
        mine = await collections.list_collections(session, owner_id=owner, request=FIRST)
        pages = await collections.collection_product_pages(
            session,
            collection_ids=[first, second, empty],
            request=PageRequest(first=3, after=None),
        )
        one = await collections.collection_products(
            session, collection_id=first, request=PageRequest(first=3, after=None)
        )
        after = decode_cursor(one.cursors[-1], collections.ITEM_KEYS)
        rest = await collections.collection_products(
            session, collection_id=first, request=PageRequest(first=3, after=after)
        )
        nothing = await collections.collection_products(session, collection_id=empty, request=FIRST)

    assert [id_of(c) for c in mine.rows] == [empty, second, first]  # newest first
    newest_first = list(reversed(products))
    assert [id_of(p) for p in pages[first].rows] == newest_first[:3]
    assert pages[first].has_next_page
    assert [id_of(p) for p in pages[second].rows] == [products[0]]
    assert empty not in pages
    assert [id_of(p) for p in one.rows] == newest_first[:3]
    assert one.cursors == pages[first].cursors
    assert [id_of(p) for p in rest.rows] == newest_first[3:]
    assert not rest.has_next_page
    assert rest.has_previous_page
    assert nothing.rows == []

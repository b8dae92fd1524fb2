"""Favorites: idempotent starring, NOT_FOUND for unknown or archived products, the newest
favorite first, and the batch counts a product list uses."""

from __future__ import annotations

from typing import Any

import pytest

from hom.catalog import favorites
from hom.catalog.models import Favorite, Product
from hom.core.errors import DomainError, ErrorCode
from hom.core.pagination import PageRequest, decode_cursor
from hom.core.unit_of_work import SessionMaker, unit_of_work
from tests.catalog.engagement import count_rows, create_product, id_of
from tests.factories import create_user


async def new_user_id(session_maker: SessionMaker) -> int:
    return id_of(await create_user(session_maker))


async def new_product_id(session_maker: SessionMaker, **values: Any) -> int:
    return id_of(await create_product(session_maker, **values))


async def star(session_maker: SessionMaker, user_id: int, product_id: int) -> None:
    async with unit_of_work(session_maker) as session:
        await favorites.add_favorite(session, user_id=user_id, product_id=product_id)


async def test_adding_twice_stars_once_and_removing_twice_is_fine(
    session_maker: SessionMaker,
) -> None:
    user, product = await new_user_id(session_maker), await new_product_id(session_maker)

    await star(session_maker, user, product)
    await star(session_maker, user, product)
    assert await count_rows(session_maker, Favorite) == 1

    for _ in range(2):
        async with unit_of_work(session_maker) as session:
            removed = await favorites.remove_favorite(session, user_id=user, product_id=product)
        assert removed.id == product
    assert await count_rows(session_maker, Favorite) == 0


@pytest.mark.parametrize("operation", [favorites.add_favorite, favorites.remove_favorite])
async def test_unknown_or_archived_product_is_not_found_and_changes_nothing(
    session_maker: SessionMaker, operation: Any
) -> None:
    user = await new_user_id(session_maker)
    archived = await new_product_id(session_maker, active=False)
    for product_id in (archived, 10**12):
        with pytest.raises(DomainError) as caught:
            async with unit_of_work(session_maker) as session:
                await operation(session, user_id=user, product_id=product_id)
        assert (caught.value.code, caught.value.field) == (ErrorCode.NOT_FOUND, "product_id")
    assert await count_rows(session_maker, Favorite) == 0


async def test_list_is_newest_favorite_first_and_pages_by_cursor(
    session_maker: SessionMaker,
) -> None:
    user, other = await new_user_id(session_maker), await new_user_id(session_maker)
    products = [await new_product_id(session_maker, name=f"P{i}") for i in range(5)]
    for product in products:  # one transaction each: distinct created_at
        await star(session_maker, user, product)
    await star(session_maker, other, products[0])
    async with unit_of_work(session_maker) as session:  # archived after starring: hidden
        archived = await session.get(Product, products[2])
        assert archived
        archived.is_active = False

    seen: list[int] = []
    request = PageRequest(first=2, after=None)
    while True:
        async with session_maker() as session:
            page = await favorites.list_favorites(session, user_id=user, request=request)
        seen += [id_of(product) for product in page.rows]
        if not page.has_next_page:
            break
        after = decode_cursor(page.cursors[-1], favorites.FAVORITE_KEYS)
        request = PageRequest(first=2, after=after)
    assert seen == [p for p in reversed(products) if p != products[2]]


async def test_batch_counts_and_favorited_by(session_maker: SessionMaker) -> None:
    users = [await new_user_id(session_maker) for _ in range(3)]
    liked, once, never = [await new_product_id(session_maker) for _ in range(3)]
    for user in users:
        await star(session_maker, user, liked)
    await star(session_maker, users[0], once)
    ids = [liked, once, never]

    async with session_maker() as session:
        counts = await favorites.favorite_counts(session, product_ids=ids)
        mine = await favorites.favorited_by(session, user_id=users[0], product_ids=ids)
        theirs = await favorites.favorited_by(session, user_id=users[1], product_ids=ids)
        nothing = await favorites.favorite_counts(session, product_ids=[])

    assert counts == {liked: 3, once: 1, never: 0}
    assert mine == {liked, once}
    assert theirs == {liked}
    assert nothing == {}

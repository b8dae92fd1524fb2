"""Product views: one per viewer, product and UTC hour; anonymous viewers by a client hash;
a user's recently viewed products, most recent first; counts in one batch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from hom.catalog import views
from hom.catalog.models import Product, ProductView
from hom.core.errors import DomainError, ErrorCode
from hom.core.pagination import PageRequest, decode_cursor
from hom.core.unit_of_work import SessionMaker, unit_of_work
from tests.catalog.engagement import count_rows, create_product, id_of
from tests.factories import create_user

NOON = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)


async def new_product_id(session_maker: SessionMaker, **values: Any) -> int:
    return id_of(await create_product(session_maker, **values))


async def view(
    session_maker: SessionMaker,
    product: int,
    at: datetime,
    *,
    user: int | None = None,
    viewer: str | None = None,
) -> bool:
    async with unit_of_work(session_maker) as session:
        return await views.record_view(
            session,
            product_id=product,
            viewer=viewer or views.viewer_key(user, "203.0.113.9", "curl/8"),
            user_id=user,
            at=at,
        )


def test_viewer_key_names_the_user_or_hashes_the_client() -> None:
    assert views.viewer_key(42, "203.0.113.9", "Firefox") == "user:42"
    key = views.viewer_key(None, "203.0.113.9", "Firefox")
    assert key.startswith("client:")
    assert "203.0.113.9" not in key
    assert len(key) <= 80
    assert key == views.viewer_key(None, "203.0.113.9", "Firefox")
    assert key != views.viewer_key(None, "203.0.113.9", "Chrome")
    assert key != views.viewer_key(None, "203.0.113.10", "Firefox")


def test_the_hour_is_the_utc_hour() -> None:
    moscow = timezone(timedelta(hours=3))
    at = datetime(2026, 3, 14, 15, 59, 59, 999, tzinfo=moscow)
    assert views.view_hour(at) == datetime(2026, 3, 14, 12, tzinfo=UTC)
    assert views.view_hour(datetime(2026, 3, 14, 12, 30)) == NOON  # naive: taken as UTC


async def test_one_view_per_viewer_per_product_per_hour(session_maker: SessionMaker) -> None:
    product, other = await new_product_id(session_maker), await new_product_id(session_maker)
    user = id_of(await create_user(session_maker))

    assert await view(session_maker, product, NOON)
    assert not await view(session_maker, product, NOON + timedelta(minutes=59))
    assert await view(session_maker, product, NOON + timedelta(hours=1))
    assert await view(session_maker, product, NOON, viewer="client:someone-else")
    assert await view(session_maker, other, NOON)
    assert await view(session_maker, product, NOON, user=user)
    assert not await view(session_maker, product, NOON + timedelta(minutes=30), user=user)

    assert await count_rows(session_maker, ProductView) == 5
    async with session_maker() as session:
        counts = await views.view_counts(session, product_ids=[product, other, 10**12])
    assert counts == {product: 4, other: 1, 10**12: 0}


async def test_unknown_or_archived_product_is_not_found(session_maker: SessionMaker) -> None:
    archived = await new_product_id(session_maker, active=False)
    for product in (archived, 10**12):
        with pytest.raises(DomainError) as caught:
            await view(session_maker, product, NOON)
        assert (caught.value.code, caught.value.field) == (ErrorCode.NOT_FOUND, "product_id")
    assert await count_rows(session_maker, ProductView) == 0


async def test_recently_viewed_is_distinct_and_most_recent_first(
    session_maker: SessionMaker,
) -> None:
    user = id_of(await create_user(session_maker))
    other = id_of(await create_user(session_maker))
    a, b, c = [await new_product_id(session_maker) for _ in range(3)]
    archived = await new_product_id(session_maker)

    await view(session_maker, a, NOON, user=user)
    await view(session_maker, b, NOON + timedelta(minutes=10), user=user)
    await view(session_maker, archived, NOON + timedelta(minutes=15), user=user)
    await view(session_maker, a, NOON + timedelta(minutes=20), user=user)  # same hour: moves a up
    await view(session_maker, c, NOON - timedelta(days=1), user=user)
    await view(session_maker, c, NOON + timedelta(hours=2), user=other)
    await view(session_maker, c, NOON + timedelta(hours=3))  # anonymous
    async with unit_of_work(session_maker) as session:
        row = await session.get(Product, archived)
        assert row
        row.is_active = False

    seen: list[int] = []
    request = PageRequest(first=2, after=None)
    async with session_maker() as session:
        while True:
            page = await views.recently_viewed(session, user_id=user, request=request)
            seen += [id_of(product) for product in page.rows]
            if not page.has_next_page:
                break
            after = decode_cursor(page.cursors[-1], views.RECENTLY_VIEWED_KEYS)
            request = PageRequest(first=2, after=after)
    assert seen == [a, b, c]

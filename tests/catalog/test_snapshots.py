"""Representative catalog answers, reviewed as snapshots (deterministic rows, no ids)."""

from __future__ import annotations

import httpx
from syrupy.assertion import SnapshotAssertion

from hom.core.db import SessionMaker
from tests.catalog.factories import add_favorites, add_views, create_category, create_products
from tests.factories import signed_in
from tests.support import GraphQLClient

TREE = """{ categories {
  name slug productCount
  children { name slug productCount products(first: 2) {
    edges { node { name price { amount currency } } }
    pageInfo { hasNextPage }
  } }
} }"""
CATEGORY_PAGE = """query ($slug: String!) {
  category(slug: $slug) {
    name parent { name }
    products(first: 3) {
      edges { node {
        sku slug name description price { amount currency } isActive createdAt updatedAt
        category { slug } availableQuantity favoriteCount viewCount viewerHasFavorited
      } }
      pageInfo { hasNextPage hasPreviousPage }
    }
  }
}"""
PRODUCT = """query ($slug: String!) { product(slug: $slug) {
  name description price { amount currency } category { name parent { name } }
  favoriteCount viewCount viewerHasFavorited
} }"""


async def shop(session_maker: SessionMaker) -> None:
    kitchen = await create_category(session_maker, "Kitchen")
    garden = await create_category(session_maker, "Garden")
    kettles = await create_category(session_maker, "Kettles", parent=kitchen)
    cups = await create_category(session_maker, "Cups", parent=kitchen)
    await create_category(session_maker, "Tools", parent=garden)
    await create_products(session_maker, kettles, 4)
    await create_products(session_maker, cups, 1, start=10)
    await create_products(session_maker, kettles, 1, start=20, is_active=False)


async def test_the_category_tree(
    gql: GraphQLClient, session_maker: SessionMaker, snapshot: SnapshotAssertion
) -> None:
    await shop(session_maker)
    assert await gql(TREE) == snapshot


async def test_a_category_page_for_a_signed_in_shopper(
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    snapshot: SnapshotAssertion,
) -> None:
    kitchen = await create_category(session_maker, "Kitchen")
    kettles = await create_category(session_maker, "Kettles", parent=kitchen)
    products = await create_products(session_maker, kettles, 4)
    await create_products(session_maker, kettles, 1, start=20, is_active=False)
    user, tokens = await signed_in(client, session_maker)
    await add_favorites(session_maker, user.id, products[2:])
    await add_views(session_maker, products[3], 7)

    body = await gql(CATEGORY_PAGE, {"slug": "kettles"}, token=tokens.access_token)
    assert body == snapshot


async def test_one_product_with_cyrillic_text(
    gql: GraphQLClient, session_maker: SessionMaker, snapshot: SnapshotAssertion
) -> None:
    kitchen = await create_category(session_maker, "Кухня", slug="kitchen")
    kettles = await create_category(session_maker, "Чайники", slug="kettles", parent=kitchen)
    await create_products(
        session_maker,
        kettles,
        1,
        name="Электрический чайник",
        description="Кипятит воду за 3 минуты.",
        slug="electric-kettle",
        price=1990,
        currency="RUB",
    )
    assert await gql(PRODUCT, {"slug": "electric-kettle"}) == snapshot

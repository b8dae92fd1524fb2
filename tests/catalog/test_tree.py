"""A category holds its descendants' products (hom/catalog/tree.py): `productCount`,
`products` and `products(filter: {categoryId})` read the whole subtree, at any depth, in
one statement each, with archived products for catalog editors only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlmodel import col, func, select
from starlette.applications import Starlette

from hom.catalog import demo
from hom.catalog.models import Category, Product
from hom.core.db import SessionMaker
from hom.core.roles import Role
from hom.core.unit_of_work import unit_of_work
from tests.catalog.factories import create_category, create_product, global_id
from tests.factories import signed_in
from tests.support import GraphQLClient, count_statements, error_codes

CATEGORY = """query ($slug: String!, $first: Int, $after: String) {
  category(slug: $slug) {
    productCount
    products(first: $first, after: $after) {
      edges { node { name } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""
PRODUCTS = """query ($filter: ProductFilter, $sort: ProductSort, $first: Int, $after: String) {
  products(filter: $filter, sort: $sort, first: $first, after: $after) {
    edges { node { name } }
    pageInfo { hasNextPage endCursor }
  }
}"""
COUNTS = "{ categories { slug productCount children { slug productCount children { slug "
COUNTS += "productCount children { slug productCount } } } } }"
# Newest first (created_at is EPOCH + the index in minutes): what every subtree lists.
NEWEST = ["Old kettle", "Glass kettle", "Mug", "Steel kettle", "Pan"]


@dataclass(frozen=True)
class Shop:
    home: Category
    kitchen: Category
    kettles: Category
    cups: Category
    garden: Category


@pytest.fixture
async def shop(session_maker: SessionMaker) -> Shop:
    """home → kitchen → kettles, home → cups, and garden beside home; the root holds no
    product of its own, the grandchild holds an archived one."""
    home = await create_category(session_maker, "Home")
    kitchen = await create_category(session_maker, "Kitchen", parent=home)
    kettles = await create_category(session_maker, "Kettles", parent=kitchen)
    cups = await create_category(session_maker, "Cups", parent=home)
    garden = await create_category(session_maker, "Garden")
    for category, index, name, price in [
        (kitchen, 1, "Pan", "30.00"),
        (garden, 2, "Rake", "1.00"),
        (kettles, 3, "Steel kettle", "20.00"),
        (cups, 4, "Mug", "10.00"),
        (kettles, 5, "Glass kettle", "40.00"),
    ]:
        await create_product(session_maker, category, index, name=name, price=price)
    await create_product(session_maker, kettles, 6, name="Old kettle", is_active=False)
    return Shop(home, kitchen, kettles, cups, garden)


async def category_page(gql: GraphQLClient, slug: str, token: str | None = None) -> Any:
    body = await gql(CATEGORY, {"slug": slug, "first": 10}, token=token)
    assert "errors" not in body, body
    found = body["data"]["category"]
    return found["productCount"], [edge["node"]["name"] for edge in found["products"]["edges"]]


async def listed(
    gql: GraphQLClient, category: Category, token: str | None = None, **more: Any
) -> Any:
    filter = {"categoryId": global_id("Category", category.id)}
    body = await gql(PRODUCTS, {"filter": filter, **more}, token=token)
    assert "errors" not in body, body
    return [edge["node"]["name"] for edge in body["data"]["products"]["edges"]]


def visible(names: list[str]) -> list[str]:
    return [name for name in names if name != "Old kettle"]


@pytest.mark.usefixtures("shop")
async def test_each_category_counts_and_lists_its_whole_subtree(gql: GraphQLClient) -> None:
    assert await category_page(gql, "home") == (4, visible(NEWEST))
    assert await category_page(gql, "kitchen") == (3, ["Glass kettle", "Steel kettle", "Pan"])
    assert await category_page(gql, "kettles") == (2, ["Glass kettle", "Steel kettle"])
    assert await category_page(gql, "cups") == (1, ["Mug"])
    assert await category_page(gql, "garden") == (1, ["Rake"])


@pytest.mark.usefixtures("shop", "features_learnt")
async def test_the_tree_counts_every_level_in_one_statement(
    app: Starlette, gql: GraphQLClient
) -> None:
    with count_statements(app.state.services.engine) as log:
        body = await gql(COUNTS)
    assert body == {
        "data": {
            "categories": [
                {"slug": "garden", "productCount": 1, "children": []},
                {
                    "slug": "home",
                    "productCount": 4,
                    "children": [
                        {"slug": "cups", "productCount": 1, "children": []},
                        {
                            "slug": "kitchen",
                            "productCount": 3,
                            "children": [{"slug": "kettles", "productCount": 2, "children": []}],
                        },
                    ],
                },
            ]
        }
    }
    assert log.count == 1  # the compiled path: the tree and every count in one statement


async def test_archived_products_count_and_show_for_catalog_editors_only(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker, shop: Shop
) -> None:
    for role in (None, Role.CUSTOMER, Role.STAFF, Role.OPERATOR, Role.ADMIN):
        token = None if role is None else (await signed_in(client, session_maker, role))[1]
        access = None if token is None else token.access_token
        editor = role in (Role.OPERATOR, Role.ADMIN)
        expected = NEWEST if editor else visible(NEWEST)
        assert await category_page(gql, "home", access) == (len(expected), expected), role
        kettles = ["Old kettle"] * editor + ["Glass kettle", "Steel kettle"]
        assert await category_page(gql, "kettles", access) == (len(kettles), kettles), role
        assert await listed(gql, shop.home, access) == expected, role


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("NEWEST", visible(NEWEST)),
        ("PRICE_ASC", ["Mug", "Steel kettle", "Pan", "Glass kettle"]),
        ("PRICE_DESC", ["Glass kettle", "Pan", "Steel kettle", "Mug"]),
        ("NAME", ["Glass kettle", "Mug", "Pan", "Steel kettle"]),
    ],
)
async def test_the_category_filter_lists_the_subtree_in_each_sort(
    gql: GraphQLClient, shop: Shop, sort: str, expected: list[str]
) -> None:
    assert await listed(gql, shop.home, sort=sort) == expected
    in_kitchen = [name for name in expected if name != "Mug"]
    assert await listed(gql, shop.kitchen, sort=sort) == in_kitchen


async def test_a_leaf_and_a_root_without_children_list_only_their_own(
    gql: GraphQLClient, shop: Shop
) -> None:
    assert await listed(gql, shop.kettles) == ["Glass kettle", "Steel kettle"]
    assert await listed(gql, shop.cups) == ["Mug"]
    assert await listed(gql, shop.garden) == ["Rake"]


async def test_paging_a_subtree_two_at_a_time_sees_each_product_once(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker, shop: Shop
) -> None:
    _, tokens = await signed_in(client, session_maker, Role.OPERATOR)
    filter = {"categoryId": global_id("Category", shop.home.id)}
    for sort, expected in (("NEWEST", NEWEST), ("PRICE_ASC", None)):
        by_filter = await all_pages(
            gql, PRODUCTS, "products", tokens.access_token, filter=filter, sort=sort
        )
        assert len(by_filter) == len(set(by_filter)) == 5
        if expected is not None:
            assert by_filter == expected
    by_category = await all_pages(gql, CATEGORY, "category", tokens.access_token, slug="home")
    assert by_category == NEWEST


async def all_pages(
    gql: GraphQLClient, query: str, root: str, token: str, **variables: Any
) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        body = await gql(query, {**variables, "first": 2, "after": after}, token=token)
        assert "errors" not in body, body
        connection = body["data"][root]
        connection = connection["products"] if root == "category" else connection
        seen += [edge["node"]["name"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return seen
        after = connection["pageInfo"]["endCursor"]


async def test_a_cursor_of_another_sort_or_a_foreign_id_is_refused(
    gql: GraphQLClient, shop: Shop
) -> None:
    filter = {"categoryId": global_id("Category", shop.home.id)}
    first = await gql(PRODUCTS, {"filter": filter, "sort": "NAME", "first": 1})
    cursor = first["data"]["products"]["pageInfo"]["endCursor"]
    other_sort = await gql(PRODUCTS, {"filter": filter, "sort": "PRICE_ASC", "after": cursor})
    assert error_codes(other_sort) == ["BAD_USER_INPUT"]
    foreign = {"categoryId": global_id("Product", 1)}
    assert error_codes(await gql(PRODUCTS, {"filter": foreign})) == ["BAD_USER_INPUT"]


NESTED = """{ categories { name products(first: 10) { edges { node { name } } }
  children { name products(first: 10) { edges { node { name } } } } } }"""


@pytest.mark.usefixtures("shop")
async def test_one_batch_pages_each_category_with_its_own_subtree(
    app: Starlette, gql: GraphQLClient
) -> None:
    """A product is on the page of every category above it that the document asks for."""
    with count_statements(app.state.services.engine) as log:
        body = await gql(NESTED)

    def names(category: dict[str, Any]) -> list[str]:
        return [edge["node"]["name"] for edge in category["products"]["edges"]]

    garden, home = body["data"]["categories"]
    assert (garden["name"], names(garden), garden["children"]) == ("Garden", ["Rake"], [])
    assert names(home) == visible(NEWEST)
    cups, kitchen = home["children"]
    assert (cups["name"], names(cups)) == ("Cups", ["Mug"])
    assert (kitchen["name"], names(kitchen)) == ("Kitchen", ["Glass kettle", "Steel kettle", "Pan"])
    # The roots, their pages, their children, the children's pages: one each.
    assert log.count == 4


async def add_levels(session_maker: SessionMaker, below: Category, depth: int) -> None:
    """`depth` more levels under `below`, one product on each."""
    parent = below
    for level in range(depth):
        parent = await create_category(session_maker, f"Level {level}", parent=parent)
        await create_product(session_maker, parent, 10 + level, name=f"Deep {level}")


@pytest.mark.usefixtures("features_learnt")
async def test_a_deeper_tree_costs_no_more_statements(
    app: Starlette, gql: GraphQLClient, session_maker: SessionMaker, shop: Shop
) -> None:
    """The subtree is one recursive statement, not one query per level: through the
    executor (`category.products` is not compiled) and through the compiled path."""
    counts = []
    for depth in (0, 4):
        await add_levels(session_maker, shop.kettles, depth)
        with count_statements(app.state.services.engine) as log:
            count, names = await category_page(gql, "home")
            listing = await listed(gql, shop.home, first=20)
        counts.append(log.count)
        assert count == 4 + depth
        assert names == listing == [f"Deep {n}" for n in reversed(range(depth))] + visible(NEWEST)
    # category(slug) with its count and page: the category, the count, the page (the
    # executor); products(filter): one statement (the compiled path).
    assert counts == [3 + 1, 3 + 1]


async def test_the_demo_catalog_counts_products_under_its_top_categories(
    gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    async with unit_of_work(session_maker) as session:
        await demo.seed_demo(session, products=120)
    async with unit_of_work(session_maker) as session:
        active = (await session.exec(select(func.count()).where(col(Product.is_active)))).one()
    body = await gql("{ categories { productCount children { productCount } } }")
    roots = body["data"]["categories"]
    assert roots
    assert all(root["productCount"] > 0 for root in roots)
    for root in roots:  # the demo's products are all in the second level
        assert root["productCount"] == sum(child["productCount"] for child in root["children"])
    assert sum(root["productCount"] for root in roots) == active

"""The catalog's reads cost statements by depth, never by list size (SPEC §5, STYLE rule 3)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from hom.core.db import SessionMaker
from tests.catalog.factories import add_favorites, create_category, create_products
from tests.factories import signed_in
from tests.support import GraphQLClient, count_statements

TREE = "{ categories { name children { name products(first: 5) { edges { node { name } } } } } }"
# The roots, one batch of their children, one window over the children's products.
TREE_STATEMENTS = 3

PRODUCTS = """query ($slug: String!, $first: Int!) {
  category(slug: $slug) {
    products(first: $first) { edges { node {
      name price { amount } category { name parent { name } } favoriteCount viewerHasFavorited
    } } }
  }
}"""
# The category, the window over its products, the parents of their categories (the category
# itself is already known), favorite counts, and (signed in) the viewer's favorites.
PRODUCTS_STATEMENTS = {"anonymous": 4, "signed in": 5}


async def add_tree(session_maker: SessionMaker, tag: str, roots: int, children: int) -> None:
    """`roots` more top categories, each with `children` children of six products."""
    for r in range(roots):
        root = await create_category(session_maker, f"Root {tag} {r}")
        for c in range(children):
            child = await create_category(session_maker, f"Child {tag} {r} {c}", parent=root)
            await create_products(session_maker, child, 6)


def shape(body: dict[str, Any]) -> tuple[int, int, int]:
    """Roots, children and products in a tree answer."""
    roots = body["data"]["categories"]
    children = [child for root in roots for child in root["children"]]
    products = [edge for child in children for edge in child["products"]["edges"]]
    return len(roots), len(children), len(products)


async def test_the_tree_query_does_not_grow_with_the_number_of_categories(
    app: Starlette, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    counts = {}
    for tag, roots, children in (("a", 1, 1), ("b", 3, 4), ("c", 6, 5)):
        await add_tree(session_maker, tag, roots, children)
        with count_statements(app.state.services.engine) as log:
            body = await gql(TREE)
        assert "errors" not in body, body
        counts[shape(body)] = log.count
    assert list(counts) == [(1, 1, 5), (4, 13, 65), (10, 43, 215)]
    assert set(counts.values()) == {TREE_STATEMENTS}, counts


@pytest.mark.parametrize("who", ["anonymous", "signed in"])
async def test_a_category_page_costs_the_same_for_1_20_and_100_products(
    app: Starlette,
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    who: str,
) -> None:
    kitchen = await create_category(session_maker, "Kitchen")
    kettles = await create_category(session_maker, "Kettles", parent=kitchen)
    products = await create_products(session_maker, kettles, 100)
    token = None
    if who == "signed in":
        user, tokens = await signed_in(client, session_maker)
        await add_favorites(session_maker, user.id, products[::3])
        token = tokens.access_token
    counts = {}
    for first in (1, 20, 100):
        with count_statements(app.state.services.engine) as log:
            body = await gql(PRODUCTS, {"slug": "kettles", "first": first}, token=token)
        assert "errors" not in body, body
        nodes = [edge["node"] for edge in body["data"]["category"]["products"]["edges"]]
        assert len(nodes) == first
        newest = nodes[0]
        assert newest["category"] == {"name": "Kettles", "parent": {"name": "Kitchen"}}
        assert newest["favoriteCount"] == (1 if token else 0)  # product 99: 99 % 3 == 0
        assert newest["viewerHasFavorited"] is bool(token)
        counts[first] = log.count
    assert set(counts.values()) == {PRODUCTS_STATEMENTS[who]}, counts

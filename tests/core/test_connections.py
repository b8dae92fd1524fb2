"""Connections as clients expect them (issue 18): `nodes` beside `edges`, `totalCount`
where it is offered, `last`/`before` meeting `first`/`after`, one direction per request,
on both read paths and at a statement count that does not grow with the page."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from hom.core.db import SessionMaker
from hom.core.roles import Role
from tests.catalog.factories import add_favorites, create_category, create_products, global_id
from tests.factories import create_user, signed_in
from tests.support import GraphQLClient, count_statements, error_codes

CATALOG = """query ($first: Int, $after: String, $last: Int, $before: String) {
  products(first: $first, after: $after, last: $last, before: $before, sort: NAME) {
    edges { cursor node { slug } }
    nodes { slug category { name } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""

CATEGORY = """query ($first: Int, $after: String, $last: Int, $before: String) {
  category(slug: "kettles") {
    productCount
    products(first: $first, after: $after, last: $last, before: $before) {
      totalCount
      edges { cursor node { slug } }
      nodes { slug }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}"""

FAVORITES = """query ($first: Int, $after: String, $last: Int, $before: String) {
  myFavorites(first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { slug } }
    nodes { slug category { name } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


def slugs(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["slug"] for edge in connection["edges"]]


async def walk(
    gql: GraphQLClient, query: str, at: Any, backward: bool, token: str | None = None
) -> list[list[str]]:
    """Every page of 3 (each page in the list's order), from the start or from the end."""
    pages: list[list[str]] = []
    cursor = None
    while True:
        variables = {"last": 3, "before": cursor} if backward else {"first": 3, "after": cursor}
        body = await gql(query, variables, token)
        assert "errors" not in body, body
        connection = at(body["data"])
        assert [node["slug"] for node in connection["nodes"]] == slugs(connection)
        info = connection["pageInfo"]
        assert info["startCursor"] == connection["edges"][0]["cursor"]
        assert info["endCursor"] == connection["edges"][-1]["cursor"]
        # Relay: the side the client came from holds the cursor's row; the other side is read.
        assert info["hasNextPage" if backward else "hasPreviousPage"] is (cursor is not None)
        pages.append(slugs(connection))
        if not info["hasPreviousPage" if backward else "hasNextPage"]:
            return pages[::-1] if backward else pages
        cursor = info["startCursor" if backward else "endCursor"]


async def test_backward_pages_of_the_catalog_meet_the_forward_ones_on_the_compiled_path(
    app: Starlette, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    kettles = await create_category(session_maker, "Kettles")
    await create_products(session_maker, kettles, 9)
    forward = await walk(gql, CATALOG, lambda data: data["products"], backward=False)
    before = app.state.compiled.answered
    backward = await walk(gql, CATALOG, lambda data: data["products"], backward=True)
    assert app.state.compiled.answered == before + 3  # every backward page compiled
    assert backward == forward
    assert [len(page) for page in forward] == [3, 3, 3]
    assert sorted(slug for page in forward for slug in page) == [
        f"kettles-product-{n}" for n in range(9)
    ]


async def test_backward_pages_of_a_nested_connection_meet_the_forward_ones(
    gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    kettles = await create_category(session_maker, "Kettles")
    await create_products(session_maker, kettles, 7)
    at = lambda data: data["category"]["products"]  # noqa: E731
    forward = await walk(gql, CATEGORY, at, backward=False)
    assert await walk(gql, CATEGORY, at, backward=True) == [
        forward[0][:1],
        forward[0][1:] + forward[1][:1],
        forward[1][1:] + forward[2],
    ]
    assert [slug for page in forward for slug in page] == [
        f"kettles-product-{n}" for n in range(6, -1, -1)
    ]


async def test_the_catalog_with_nodes_is_one_statement_whatever_the_page_size(
    app: Starlette, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    kettles = await create_category(session_maker, "Kettles")
    await create_products(session_maker, kettles, 12)
    await gql(CATALOG, {"first": 1})  # the process learns the search mode once
    counts = []
    for variables in ({"first": 2}, {"first": 12}, {"last": 12}):
        with count_statements(app.state.services.engine) as log:
            body = await gql(CATALOG, variables)
        assert len(body["data"]["products"]["nodes"]) == int(*variables.values())
        counts.append(log.count)
    assert counts == [1, 1, 1]


async def test_total_count_is_what_the_reader_may_see_and_costs_one_statement(
    app: Starlette, client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    kettles = await create_category(session_maker, "Kettles")
    await create_products(session_maker, kettles, 4)
    await create_products(session_maker, kettles, 3, start=10, is_active=False)
    _, operator = await signed_in(client, session_maker, Role.OPERATOR)
    anonymous = (await gql(CATEGORY, {"first": 2}))["data"]["category"]
    assert anonymous["products"]["totalCount"] == anonymous["productCount"] == 4
    seen = (await gql(CATEGORY, {"first": 2}, operator.access_token))["data"]["category"]
    assert seen["products"]["totalCount"] == seen["productCount"] == 7
    without = CATEGORY.replace("productCount", "").replace("totalCount", "")
    with count_statements(app.state.services.engine) as uncounted:
        await gql(without, {"first": 2})
    with count_statements(app.state.services.engine) as counted:
        await gql(CATEGORY.replace("productCount", ""), {"first": 2})
    assert counted.count == uncounted.count + 1


async def test_favorites_page_both_ways_and_count_only_active_products(
    app: Starlette, client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    kettles = await create_category(session_maker, "Kettles")
    active = await create_products(session_maker, kettles, 5)
    archived = await create_products(session_maker, kettles, 2, start=10, is_active=False)
    user, tokens = await signed_in(client, session_maker)
    for product in [*active, *archived]:  # one by one: each its own starring time
        await add_favorites(session_maker, user.id, [product])
    token = tokens.access_token
    at = lambda data: data["myFavorites"]  # noqa: E731
    forward = await walk(gql, FAVORITES, at, backward=False, token=token)
    assert [slug for page in forward for slug in page] == [p.slug for p in reversed(active)]
    assert await walk(gql, FAVORITES, at, backward=True, token=token) == [
        forward[0][:2],
        forward[0][2:] + forward[1],
    ]
    body = await gql(FAVORITES, {"last": 1}, token)
    assert body["data"]["myFavorites"]["totalCount"] == 5
    with count_statements(app.state.services.engine) as log:
        await gql(FAVORITES, {"first": 5}, token)
    # The page, the categories of its nodes (prefetched, as for edges), the count.
    assert log.count == 3


@pytest.mark.parametrize(
    ("variables", "argument"),
    [
        ({"first": 2, "last": 2}, "last"),
        ({"after": "x", "before": "y"}, "before"),
        ({"first": 2, "before": "y"}, "first"),
        ({"last": 2, "after": "x"}, "last"),
        ({"last": 101}, "last"),
        ({"last": -1}, "last"),
        ({"before": "not-a-cursor"}, "before"),
    ],
)
async def test_mixed_directions_and_bad_sizes_are_refused_before_any_statement(
    app: Starlette,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    variables: dict[str, Any],
    argument: str,
) -> None:
    kettles = await create_category(session_maker, "Kettles")
    await create_products(session_maker, kettles, 3)
    await gql(CATALOG, {"first": 1})  # the process learns the search mode once
    with count_statements(app.state.services.engine) as log:
        body = await gql(CATALOG, variables)
    assert body["data"] is None
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert f"`{argument}`" in body["errors"][0]["message"]
    assert log.count == 0
    nested = await gql(CATEGORY, variables)
    assert nested["data"]["category"] is None
    assert error_codes(nested) == ["BAD_USER_INPUT"]
    after = await gql(CATALOG, {"first": 100})
    assert len(after["data"]["products"]["nodes"]) == 3  # nothing changed


async def test_a_person_is_a_node_for_everyone(
    gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    person = await create_user(session_maker, full_name="Ada Lovelace")
    query = """query ($id: ID!) { node(id: $id) { __typename id ... on Person { fullName } } }"""
    person_id = global_id("Person", person.id)
    body = await gql(query, {"id": person_id})
    assert body == {
        "data": {"node": {"__typename": "Person", "id": person_id, "fullName": "Ada Lovelace"}}
    }
    missing = await gql(query, {"id": global_id("Person", 10**12)})
    assert missing == {"data": {"node": None}}

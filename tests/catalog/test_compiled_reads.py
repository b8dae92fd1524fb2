"""The compiled read path answers exactly as the executor does: data, errors and order,
for every role (differential: the same request to an app with the path and one without).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes, queries
from sqlalchemy import text
from starlette.applications import Starlette

from hom.app import learn_database_features
from hom.core.db import SessionMaker
from hom.core.graphql.caches import ENTRY_BYTES, Lru
from hom.core.roles import Role
from tests.catalog.factories import (
    add_favorites,
    add_views,
    create_category,
    create_product,
)
from tests.compiled_fixtures import ROLES, both
from tests.factories import signed_in
from tests.inventory.test_statement_counts import SIZES, stock_everything
from tests.support import count_statements, without_cost

CATALOG = """query Catalog { products(first: 50) { edges { node {
  id name price { amount } category { name parent { name } }
  stockLevels { warehouse { code } onHand }
} } } }"""

PLANNED = [
    "{ __typename }",
    "{ serverInfo { version environment __typename } t: __typename }",
    CATALOG,
    """{ products(first: 2, sort: PRICE_DESC) {
        __typename pageInfo { hasNextPage hasPreviousPage startCursor endCursor __typename }
        edges { __typename cursor node { __typename id sku slug name description isActive
          createdAt updatedAt price { amount currency __typename }
          category { id name slug parent { id name } } } } } }""",
    """query Aliased { a: products(first: 3, sort: NAME) { edges { n: node { x: name
        ...Money } } } b: products(first: 0) { pageInfo { hasNextPage endCursor } } }
      fragment Money on Product { price { amount } price { currency } }""",
    """query Directives($skip: Boolean!, $with: Boolean!) { products(first: 5) { edges { node {
        name @skip(if: $skip) sku @include(if: $with)
        ... on Product @include(if: $with) { slug }
        ... @skip(if: true) { description } } } } }""",
    """query Filtered($filter: ProductFilter, $first: Int) {
      products(first: $first, filter: $filter) { edges { cursor node { name
        stockLevels { available reserved
          warehouse { code name isActive lowStockThreshold } } } } } }""",
    """{ products(first: 10, filter: {search: "kettle"}) { edges { node { name } } } }""",
    """{ product(slug: "home-product-0") { id name category { name slug } stockLevels {
        onHand warehouse { code } } } old: product(slug: "kitchen-product-9") { name isActive }
      none: product(id: "UHJvZHVjdDo5OTk5") { name } }""",
    """{ category(slug: "kitchen") { id name parent { slug parent { name } } }
      nothing: category(slug: "nope") { name } }""",
    """{ categories { __typename name slug
        children { id name children { name } parent { name } } } }""",
    """{ products(filter: {minPrice: "10", maxPrice: "12.5"}, sort: PRICE_ASC) {
        edges { node { name price { amount } } } } }""",
]
VARIABLES = {
    "Directives": [{"skip": True, "with": False}, {"skip": False, "with": True}],
    "Filtered": [{}, {"first": 3, "filter": {"inStock": True}}, {"filter": {"inStock": False}}],
}
# The executor's errors, reached through the compiled path's fallback.
REFUSED = [
    "{ products(first: 500) { edges { node { name } } } }",
    '{ products(after: "nonsense") { edges { node { name } } } }',
    "{ products { edges { node { nope } } } }",
    '{ products(filter: {minPrice: "-1"}) { edges { node { name } } } }',
    '{ products(filter: {categoryId: "Q2F0OjE="}) { edges { node { name } } } }',
    '{ product(id: "UHJvZHVjdDox", slug: "home-product-0") { name } }',
    "{ product { name } }",
    "{ __schema { queryType { name } } __typename }",
    '{ __type(name: "Product") { name } }',
    '{ product(id: "Q2F0OjE=") { name } }',
    '{ category(slug: "kitchen") { children { name } products { edges { node { name } } } } }',
]


pytestmark = pytest.mark.usefixtures("features_learnt")


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize("role", ROLES)
async def test_planned_queries_answer_as_the_executor_does(
    app: Starlette,
    client: httpx.AsyncClient,
    executor: httpx.AsyncClient,
    tokens: dict[Any, str | None],
    role: Any,
) -> None:
    compiled = app.state.compiled
    for query in PLANNED:
        name = query.split("(", 1)[0].split()[-1] if query.startswith("query") else ""
        for variables in VARIABLES.get(name, [{}]):
            before = compiled.answered
            mine, theirs = await both(client, executor, query, variables, tokens[role])
            assert mine == theirs, query
            assert "errors" not in mine, mine
            assert compiled.answered == before + 1, f"not planned: {query}"


# Text the SQL spells as JSON itself (`to_json`): quotes, backslashes, control
# characters, non-BMP characters, what looks like JSON or SQL.
HOSTILE_TEXT = [
    'Quote " and \\ backslash',
    "Tab\tnew\nline\r\x01\x1f end",
    "Emoji 🍵 and 𝄞 and ünïcode",
    '{"name": null}, ]',
    "' || 'null' || '",
    "</script><script>x</script>",
]


async def test_hostile_text_is_spelt_as_the_executor_spells_it(
    app: Starlette,
    client: httpx.AsyncClient,
    executor: httpx.AsyncClient,
    session_maker: SessionMaker,
) -> None:
    parent = await create_category(session_maker, HOSTILE_TEXT[3], slug="hostile-parent")
    category = await create_category(
        session_maker, HOSTILE_TEXT[4], slug="hostile-child", parent=parent
    )
    for index, name in enumerate(HOSTILE_TEXT):
        await create_product(session_maker, category, index, name=name, description=name)
    query = """{ products(first: 10, sort: NAME) { edges { node {
        name description category { name parent { name parent { name } } } } } } }"""
    before = app.state.compiled.answered
    mine, theirs = await both(client, executor, query, {}, None)
    assert app.state.compiled.answered == before + 1
    assert mine == theirs
    names = [edge["node"]["name"] for edge in mine["data"]["products"]["edges"]]
    assert sorted(names) == sorted(HOSTILE_TEXT)
    assert mine["data"]["products"]["edges"][0]["node"]["category"]["parent"]["parent"] is None


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize("role", ROLES)
async def test_operators_read_warehouses_through_the_path(
    app: Starlette,
    client: httpx.AsyncClient,
    executor: httpx.AsyncClient,
    tokens: dict[Any, str | None],
    role: Any,
) -> None:
    """Permissions are decided at plan time: others get the executor's refusal."""
    before = app.state.compiled.answered
    query = "{ warehouses { code isActive createdAt } }"
    mine, theirs = await both(client, executor, query, {}, tokens[role])
    assert mine == theirs
    reads_stock = role in (Role.OPERATOR, Role.ADMIN)
    assert app.state.compiled.answered == before + reads_stock
    if reads_stock:
        assert [w["code"] for w in mine["data"]["warehouses"]] == ["NORTH", "OLD"]
    else:
        assert "errors" in mine


@pytest.mark.parametrize("role", ROLES)
async def test_me_is_one_planned_statement(
    app: Starlette,
    client: httpx.AsyncClient,
    executor: httpx.AsyncClient,
    tokens: dict[Any, str | None],
    role: Any,
) -> None:
    query = """{ me { __typename id email fullName role isActive emailVerified
      emailVerifiedAt timezone avatarUrl createdAt } }"""
    before = app.state.compiled.answered
    with count_statements(app.state.services.engine) as log:
        mine, theirs = await both(client, executor, query, {}, tokens[role])
    assert mine == theirs
    if role == "ANONYMOUS":  # refused by the executor: UNAUTHENTICATED
        assert app.state.compiled.answered == before
        assert mine["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    else:
        assert app.state.compiled.answered == before + 1
        assert mine["data"]["me"]["role"] == role
        assert log.count == 1


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize("role", ["ANONYMOUS", Role.OPERATOR])
async def test_what_the_path_refuses_the_executor_answers(
    app: Starlette,
    client: httpx.AsyncClient,
    executor: httpx.AsyncClient,
    tokens: dict[Any, str | None],
    role: Any,
) -> None:
    compiled = app.state.compiled
    for query in REFUSED:
        before = compiled.answered
        mine, theirs = await both(client, executor, query, {}, tokens[role])
        assert mine == theirs, query
        assert compiled.answered == before, f"planned: {query}"


@pytest.mark.usefixtures("catalog")
async def test_an_invalid_token_is_refused_on_both_paths(
    client: httpx.AsyncClient, executor: httpx.AsyncClient
) -> None:
    mine, theirs = await both(client, executor, CATALOG, {}, "not-a-token")
    assert mine == theirs
    assert mine["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # A selection with no database field does not ask who is calling.
    mine, theirs = await both(client, executor, "{ __typename }", {}, "not-a-token")
    assert mine == theirs
    assert without_cost(mine) == {"data": {"__typename": "Query"}}


@pytest.mark.usefixtures("catalog")
async def test_a_cursor_from_the_compiled_path_pages_on(
    client: httpx.AsyncClient, executor: httpx.AsyncClient, tokens: dict[Any, str | None]
) -> None:
    query = (
        "query ($after: String) { products(first: 2, after: $after) { edges { cursor "
        "node { name } } pageInfo { hasNextPage endCursor } } }"
    )
    after = None
    seen: list[str] = []
    for _ in range(4):
        mine, theirs = await both(client, executor, query, {"after": after}, None)
        assert mine == theirs
        page = mine["data"]["products"]
        seen += [edge["node"]["name"] for edge in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert seen == ["Kettle lid", "Spoon", "Cup", "Teapot", "Kettle"]


@pytest.mark.usefixtures("catalog")
async def test_favorites_and_stock_are_counted_per_reader(
    app: Starlette,
    client: httpx.AsyncClient,
    executor: httpx.AsyncClient,
    session_maker: SessionMaker,
) -> None:
    first, first_tokens = await signed_in(client, session_maker)
    second, second_tokens = await signed_in(client, session_maker)
    teacup = await create_product(session_maker, await create_category(session_maker, "X"), 20)
    await add_favorites(session_maker, first.id, [teacup])
    await add_favorites(session_maker, second.id, [teacup])
    await add_views(session_maker, teacup, 3)
    query = """{ products(first: 3) { edges { node { name favoriteCount viewerHasFavorited
      viewCount availableQuantity } } } }"""
    answers = []
    for token in (first_tokens.access_token, None):
        before = app.state.compiled.answered
        mine, theirs = await both(client, executor, query, {}, token)
        assert mine == theirs
        assert app.state.compiled.answered == before + 1
        answers.append(mine["data"]["products"]["edges"][0]["node"])
    assert answers[0] == {
        "name": "X product 20",
        "favoriteCount": 2,
        "viewerHasFavorited": True,
        "viewCount": 3,
        "availableQuantity": 0,
    }
    assert answers[1]["viewerHasFavorited"] is False
    # The plan is shared by readers of one role; each sees their own favorites.
    mine, _ = await both(client, executor, query, {}, second_tokens.access_token)
    assert mine["data"]["products"]["edges"][0]["node"]["viewerHasFavorited"] is True


BENCHMARK = """query ($first: Int!) { products(first: $first) { edges { node {
  id name price { amount } category { name parent { name } }
  stockLevels { warehouse { code } onHand }
} } } }"""


@pytest.mark.parametrize(("compiled", "statements"), [(True, 1), (False, 4)])
async def test_the_benchmark_query_costs_the_same_for_any_page_size(
    app: Starlette,
    executor_app: Starlette,
    client: httpx.AsyncClient,
    executor: httpx.AsyncClient,
    session_maker: SessionMaker,
    compiled: bool,
    statements: int,
) -> None:
    """One statement through the compiled path; through the executor: the page, the
    categories, the levels, their warehouses (a batch of parents would be a fifth; these
    categories have none)."""
    await stock_everything(session_maker, max(SIZES))
    _, tokens = await signed_in(client, session_maker, Role.OPERATOR)
    target, http = (app, client) if compiled else (executor_app, executor)
    await learn_database_features(target.state.services)
    headers = {"authorization": f"Bearer {tokens.access_token}"}
    counts = {}
    for first in SIZES:
        with count_statements(target.state.services.engine) as log:
            response = await http.post(
                "/graphql",
                json={"query": BENCHMARK, "variables": {"first": first}},
                headers=headers,
            )
        nodes = [edge["node"] for edge in response.json()["data"]["products"]["edges"]]
        assert len(nodes) == first
        assert all(node["stockLevels"][0]["warehouse"]["code"] for node in nodes)
        counts[first] = log.count
    assert set(counts.values()) == {statements}, counts


# --- generated selections (hypothesis-graphql) -------------------------------------------

GENERATED = 8  # per root field
ROOTS = ["products", "product", "categories", "category", "warehouses", "serverInfo"]
CUSTOM_SCALARS = {
    "Decimal": st.decimals(0, 100, places=2).map(lambda value: nodes.String(str(value))),
    "DateTime": st.just(nodes.String("2024-01-01T09:00:00+00:00")),
}


def generated_queries(schema: Any, count: int) -> list[str]:
    """`count` queries of each planned root field, the same ones on every run."""
    found: list[str] = []
    for root in ROOTS:

        @settings(
            max_examples=count,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(queries(schema, fields=[root], custom_scalars=CUSTOM_SCALARS))
        def collect(query: str) -> None:
            found.append(query)

        collect()
    return found


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize("role", ["ANONYMOUS", Role.OPERATOR])
async def test_generated_selections_answer_as_the_executor_does(
    app: Starlette,
    client: httpx.AsyncClient,
    executor: httpx.AsyncClient,
    tokens: dict[Any, str | None],
    role: Any,
) -> None:
    compiled = app.state.compiled
    generated = generated_queries(compiled.schema._schema, GENERATED)
    for query in generated:
        mine, theirs = await both(client, executor, query, {}, tokens[role])
        assert mine == theirs, query
    # Enough of them were the path's own (the rest: nested connections, bad arguments).
    assert compiled.answered >= len(generated) // 3, compiled.answered


async def test_pooled_connections_do_not_jit_compile(app: Starlette) -> None:
    """A compiled page is estimated expensive enough for JIT, which costs 15 ms a query."""
    async with app.state.services.engine.connect() as connection:
        assert await connection.scalar(text("SHOW jit")) == "off"


def test_the_caches_forget_the_least_recently_used() -> None:
    cache: Lru[str, int] = Lru(2, max_bytes=100, max_entry_bytes=60)
    cache.put("a", 1, 10)
    cache.put("b", 2, 10)
    assert cache.get("a") == 1
    cache.put("c", 3, 10)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    cache.put("d", 4, 61)
    assert cache.get("d") is None
    cache.put("e", 5, 60)  # 70 bytes with "c" and "a": "a" goes
    assert (cache.get("a"), cache.get("c"), cache.get("e"), cache.bytes) == (None, 3, 5, 70)


@pytest.mark.usefixtures("catalog")
async def test_large_documents_are_answered_but_not_kept(
    app: Starlette, client: httpx.AsyncClient, executor: httpx.AsyncClient
) -> None:
    compiled = app.state.compiled
    padded = "# " + "x" * ENTRY_BYTES + "\n{ products(first: 1) { edges { node { name } } } }"
    mine, theirs = await both(client, executor, padded, {}, None)
    assert mine == theirs
    assert compiled.answered == 1
    assert compiled.documents.get((padded, None)) is None

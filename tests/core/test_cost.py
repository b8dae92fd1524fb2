"""The cost of an operation, priced before anything runs, on both read paths (issue 17)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from hom.app import create_app, learn_database_features
from hom.core.config import Settings
from hom.core.graphql.cost import unpriced_lists
from hom.schema import build_schema
from tests.conftest import open_client
from tests.support import GraphQLClient, count_statements, error_codes

LIMIT = Settings().query_cost_limit
CATALOG = """{ products(first: 50) { edges { node { id name price { amount }
  category { name parent { name } } stockLevels { warehouse { code } onHand } } } } }"""
# products 50 x (1 + edges (1 + node (1 + price 1 + category 2 + stockLevels 5 x 2)))
CATALOG_COST = 800


def amplification(beside: str = "") -> str:
    """Issue 17's document: 30 aliases of `categories` with `children { parent { … } }`
    four times below (five levels of categories down and up, the deepest the depth limit
    allows), within every depth, alias and token limit (~5.4 KB)."""
    inner = "id name slug"
    for _ in range(4):
        inner = f"children {{ id name slug parent {{ {inner} }} }}"
    aliases = " ".join(f"c{n}: categories {{ {inner} }}" for n in range(30))
    return f"{{ {aliases} {beside} }}"


# Each `children { … parent { … } }` costs 10 x (1 + 1 x (1 + below)): 20, 220, 2 220,
# 22 220; then 30 aliases x 20 categories x (1 + 22 220).
AMPLIFIED_COST = 30 * 20 * (1 + 22_220)
AMPLIFIED = [
    (amplification(), AMPLIFIED_COST),
    (amplification('node(id: "UHJvZHVjdDox") { id }'), AMPLIFIED_COST + 1),
]


def cost_of(body: dict[str, Any]) -> int:
    cost: int = body["extensions"]["cost"]["requestedQueryCost"]
    assert body["extensions"]["cost"]["maximumAvailable"] == LIMIT
    return cost


@pytest.fixture
async def compiled_app(app: Starlette) -> Starlette:
    """As at start-up (the test client runs no lifespan): until then the executor answers."""
    await learn_database_features(app.state.services)
    return app


def test_every_list_of_objects_is_paged_or_declares_an_estimate() -> None:
    assert unpriced_lists(build_schema(Settings())._schema) == []


async def test_the_catalog_page_reports_its_cost_on_both_paths(
    compiled_app: Starlette, gql: GraphQLClient
) -> None:
    answered = compiled_app.state.compiled.answered
    body = await gql.answer(CATALOG)  # asked of the executor too, and compared
    assert compiled_app.state.compiled.answered == answered + 1
    assert body["extensions"] == {
        "cost": {"requestedQueryCost": CATALOG_COST, "maximumAvailable": LIMIT}
    }


@pytest.mark.parametrize(("document", "cost"), AMPLIFIED, ids=["plannable", "with-node"])
@pytest.mark.parametrize("compiled", [True, False], ids=["compiled-on", "compiled-off"])
async def test_the_amplification_document_is_refused_before_anything_runs(
    compiled_app: Starlette, client: httpx.AsyncClient, document: str, cost: int, compiled: bool
) -> None:
    assert 5_000 < len(document) < 6_000
    compiled_app.state.compiled.enabled = compiled
    with count_statements(compiled_app.state.services.engine) as log:
        response = await client.post("/graphql", json={"query": document})
    body = response.json()
    assert response.status_code == 200
    assert body["data"] is None
    assert error_codes(body) == ["QUERY_TOO_COMPLEX"]
    assert cost_of(body) == cost == 13_332_600 + document.count("node(")
    assert body["errors"][0]["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "cost": cost,
        "limit": LIMIT,
    }
    assert f"would cost {cost}" in body["errors"][0]["message"]
    assert log.count == 0


async def test_first_multiplies_its_subtree_variables_resolved(gql: GraphQLClient) -> None:
    query = "query ($n: Int) { products(first: $n) { edges { node { name category { name } } } } }"
    # products n x (1 + edges (1 + node (1 + category 1)))
    assert cost_of(await gql.answer(query, {"n": 10})) == 10 * 4
    assert cost_of(await gql.answer(query)) == 20 * 4  # DEFAULT_PAGE_SIZE


async def test_last_and_nodes_count_as_first_and_edges(gql: GraphQLClient) -> None:
    query = "query ($n: Int) { products(last: $n) { nodes { name category { name } } } }"
    # products n x (1 + nodes (1 + category 1)): a node without its edge
    assert cost_of(await gql.answer(query, {"n": 10})) == 10 * 3
    assert cost_of(await gql.answer(query)) == 20 * 3  # DEFAULT_PAGE_SIZE
    both = "{ products(last: 10) { edges { node { name } } nodes { name } } }"
    # products 10 x (1 + edges (1 + node 1) + nodes 1): the answer holds both
    assert cost_of(await gql.answer(both)) == 10 * 4


async def test_fragments_and_directives_count_as_the_executor_applies_them(
    gql: GraphQLClient,
) -> None:
    query = """query ($s: Boolean!) { products(first: 10) { ...Page } }
      fragment Page on ProductConnection { edges { node { ... on Product {
        category @skip(if: $s) { name parent { name } } } name } } }"""
    assert cost_of(await gql.answer(query, {"s": True})) == 10 * 3
    assert cost_of(await gql.answer(query, {"s": False})) == 10 * 5


async def test_unpaged_lists_multiply_by_their_estimate(gql: GraphQLClient) -> None:
    # categories 20 x (1 + children 10 x (1 + children 10 x 1))
    body = await gql.answer("{ categories { name children { name children { name } } } }")
    assert cost_of(body) == 20 * (1 + 10 * (1 + 10))


async def test_mutations_report_their_cost(gql: GraphQLClient) -> None:
    mutation = 'mutation { requestPasswordReset(email: "no@example.com") { ok errors { code } } }'
    assert cost_of(await gql.answer(mutation)) == 2  # the payload and its (estimated) error


@pytest.fixture
async def cheap_app(settings_factory: Any) -> AsyncIterator[Starlette]:
    application = create_app(settings_factory(query_cost_limit=100))
    await learn_database_features(application.state.services)
    yield application
    await application.state.services.close()


async def test_the_limit_is_a_setting(cheap_app: Starlette) -> None:
    async with await open_client(cheap_app) as http:
        gql = GraphQLClient(http, cheap_app.state.compiled)
        refused = await gql.answer(CATALOG)
        allowed = await gql.answer("{ products(first: 5) { edges { node { name } } } }")
    assert error_codes(refused) == ["QUERY_TOO_COMPLEX"]
    assert refused["extensions"]["cost"] == {"requestedQueryCost": 800, "maximumAvailable": 100}
    assert allowed["extensions"]["cost"] == {"requestedQueryCost": 15, "maximumAvailable": 100}

"""The compiled read path answers as the executor does where it once did not: aliased
`edges`/`node`, a null directive variable, request members of the wrong type."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from hom.core.roles import Role
from tests.compiled_fixtures import both
from tests.support import count_statements

pytestmark = pytest.mark.usefixtures("features_learnt")

CALLERS = ("ANONYMOUS", Role.OPERATOR)

ALIASED = [
    "{ products(first: 2) { edges { x: node { id } y: node { name } } } }",
    """{ products(first: 3, sort: NAME) { a: edges { node { x: name } }
        b: edges { node { x: sku } } } }""",
    """{ products(first: 3) { edges { x: node { v: category { id } }
        y: node { v: name } } } }""",
    """{ products(first: 2) { a: edges { c: cursor n: node { name } }
        b: edges { cursor m: node { id } } p: pageInfo { endCursor }
        q: pageInfo { hasNextPage } } }""",
    """{ products(first: 2) { a: edges { cursor } b: edges { node { __typename } } } }""",
]
OPERATOR_ALIASED = """{ products(first: 3) { edges { x: node { v: category { id } }
    y: node { v: stockLevels { id } } } } }"""


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize("role", CALLERS)
async def test_each_alias_of_edges_and_node_is_its_own_object(
    app: Starlette,
    client: httpx.AsyncClient,
    executor: httpx.AsyncClient,
    tokens: dict[Any, str | None],
    role: Any,
) -> None:
    compiled = app.state.compiled
    for query in ALIASED:
        before = compiled.answered
        with count_statements(app.state.services.engine) as log:
            mine, theirs = await both(client, executor, query, {}, tokens[role])
        assert mine == theirs, query
        assert "errors" not in mine, mine
        assert compiled.answered == before + 1, f"not planned: {query}"
        assert log.count == 1, query  # every alias in the page's one statement
    mine, _ = await both(client, executor, ALIASED[0], {}, tokens[role])
    edge = mine["data"]["products"]["edges"][0]
    assert set(edge["x"]) == {"id"}
    assert set(edge["y"]) == {"name"}


@pytest.mark.usefixtures("catalog")
async def test_an_operator_gets_stock_levels_and_a_category_side_by_side(
    app: Starlette,
    client: httpx.AsyncClient,
    executor: httpx.AsyncClient,
    tokens: dict[Any, str | None],
) -> None:
    before = app.state.compiled.answered
    with count_statements(app.state.services.engine) as log:
        mine, theirs = await both(client, executor, OPERATOR_ALIASED, {}, tokens[Role.OPERATOR])
    assert mine == theirs
    assert app.state.compiled.answered == before + 1
    assert log.count == 1
    for edge in mine["data"]["products"]["edges"]:
        assert isinstance(edge["y"]["v"], list)
        assert edge["x"]["v"] is None or set(edge["x"]["v"]) == {"id"}


DIRECTIVES = [
    (
        "query ($v: Boolean = true) { products(first: 2) { edges { node { name @include(if: $v) "
        "} } } }"
    ),
    "query ($v: Boolean = false) { products(first: 2) { edges { node { name @skip(if: $v) } } } }",
    "query ($v: Boolean = true) { __typename @include(if: $v) }",
    "query ($v: Boolean = true) { ... @include(if: $v) { serverInfo { version } } }",
]


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize("role", CALLERS)
@pytest.mark.parametrize("query", DIRECTIVES)
async def test_a_null_directive_variable_is_refused_as_the_executor_refuses_it(
    client: httpx.AsyncClient,
    executor: httpx.AsyncClient,
    tokens: dict[Any, str | None],
    role: Any,
    query: str,
) -> None:
    mine, theirs = await both(client, executor, query, {"v": None}, tokens[role])
    assert mine == theirs
    assert [e["extensions"]["code"] for e in mine["errors"]] == ["BAD_USER_INPUT"], mine
    mine, theirs = await both(client, executor, query, {}, tokens[role])
    assert mine == theirs
    assert "errors" not in mine


QUERY = "{ products(first: 1) { edges { node { name } } } }"
MISTYPED = (
    [{"variables": value} for value in ([], "", 0, False, True, "{}", [{}], 1.5)]
    + [{"operationName": value} for value in (0, [], {}, False, "")]
    + [{"extensions": value} for value in ([], "", 0, False, "{}")]
    + [{"variables": None, "operationName": None, "extensions": None}, {"extensions": {}}]
)


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize("role", CALLERS)
async def test_request_members_of_the_wrong_type_are_answered_as_the_executor_does(
    client: httpx.AsyncClient,
    executor: httpx.AsyncClient,
    tokens: dict[Any, str | None],
    role: Any,
) -> None:
    headers = {"authorization": f"Bearer {tokens[role]}"} if tokens[role] else {}
    for members in MISTYPED:
        body = {"query": QUERY, **members}
        mine = await client.post("/graphql", json=body, headers=headers)
        theirs = await executor.post("/graphql", json=body, headers=headers)
        assert (mine.status_code, mine.content) == (theirs.status_code, theirs.content), members

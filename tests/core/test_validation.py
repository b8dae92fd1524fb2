"""A document is parsed and validated once, whichever read path answers it: both paths
validate with the schema's one tuple of rules and share the result (hom.core.graphql.limits).
"""

from __future__ import annotations

import importlib
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
from graphql import DocumentNode, parse
from starlette.applications import Starlette

from hom.core.graphql import limits
from hom.core.graphql.caches import ENTRY_BYTES, document_weight
from tests.support import GraphQLClient, error_codes

pytestmark = pytest.mark.usefixtures("features_learnt")

PRODUCTS = "{ products(first: 1) { edges { node { name } } } }"  # the compiled path's
INTROSPECTION = "{ __schema { queryType { name } } }"  # the executor's only


def unique(query: str) -> str:
    """`query` as a text no other test sends (the caches are the process's)."""
    return f"# {uuid.uuid4()}\n{query}"


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many documents graphql-core parses and validates from now on, whoever asks."""
    counts: Counter[str] = Counter()
    parser_module = importlib.import_module("graphql.language.parser")
    validate_module = importlib.import_module("graphql.validation.validate")

    class CountedParser(parser_module.Parser):  # type: ignore[misc, name-defined]
        def parse_document(self) -> DocumentNode:
            counts["parse"] += 1
            return super().parse_document()  # type: ignore[no-any-return]

    class CountedContext(validate_module.ValidationContext):  # type: ignore[misc, name-defined]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            counts["validate"] += 1
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(parser_module, "Parser", CountedParser)
    monkeypatch.setattr(validate_module, "ValidationContext", CountedContext)
    return counts


async def ask(client: httpx.AsyncClient, query: str) -> dict[str, Any]:
    body: dict[str, Any] = (await client.post("/graphql", json={"query": query})).json()
    return body


async def test_both_paths_share_one_validation(
    app: Starlette, gql: GraphQLClient, work: Counter[str]
) -> None:
    query = unique(PRODUCTS)
    assert await gql(query) == {"data": {"products": {"edges": []}}}  # and the executor
    assert app.state.compiled.answered == 1
    assert work == {"parse": 1, "validate": 1}
    assert await gql(query) == {"data": {"products": {"edges": []}}}
    assert work == {"parse": 1, "validate": 1}


async def test_a_query_left_to_the_executor_is_validated_once(
    app: Starlette, client: httpx.AsyncClient, work: Counter[str]
) -> None:
    body = await ask(client, unique(INTROSPECTION))
    assert body["data"] == {"__schema": {"queryType": {"name": "Query"}}}
    assert app.state.compiled.answered == 0
    assert work == {"parse": 1, "validate": 1}


async def test_an_invalid_query_is_validated_once(
    app: Starlette, client: httpx.AsyncClient, work: Counter[str]
) -> None:
    body = await ask(client, unique("{ products(first: 1) { nope } }"))
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert work == {"parse": 1, "validate": 1}


def too_heavy_to_keep() -> str:
    """A query the compiled path declines, too heavy for the cache of parsed documents."""
    query = unique(INTROSPECTION) + "\n# " + "x" * ENTRY_BYTES  # comments are not tokens
    assert document_weight(query, parse(query)) > ENTRY_BYTES
    return query


async def test_a_document_too_heavy_to_keep_is_parsed_once_per_request(
    app: Starlette, client: httpx.AsyncClient, work: Counter[str]
) -> None:
    query = too_heavy_to_keep()
    work.clear()
    for _ in range(2):
        body = await ask(client, query)
        assert body["data"] == {"__schema": {"queryType": {"name": "Query"}}}
    assert limits.known(query, app.state.services.settings.max_tokens) is None  # not kept
    assert work == {"parse": 2, "validate": 2}


async def test_requests_in_an_enclosing_scope_share_their_documents(
    client: httpx.AsyncClient, work: Counter[str]
) -> None:
    query = too_heavy_to_keep()
    work.clear()
    with limits.request_documents():  # as the differential suite asks two apps
        for _ in range(2):
            body = await ask(client, query)
            assert body["data"] == {"__schema": {"queryType": {"name": "Query"}}}
    assert work == {"parse": 1, "validate": 1}

"""MAX_RESPONSE_BYTES: an answer over it is refused on both read paths, alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette

from hom.app import create_app, learn_database_features
from tests.catalog.factories import create_category, create_products
from tests.conftest import open_client
from tests.support import GraphQLClient, error_codes

MAX_BYTES = 2048
PAGE = "{ products(first: 40) { edges { node { id name description } } } }"
# Small values under long keys: the executor's running count (values only) stays under
# the limit, the encoded body does not.
KEYS = "{ products(first: 40) { edges { node { theIdentifierOfThisProductInTheApi: id } } } }"
PLANNED = [PAGE, KEYS]
# The same, beside a field the compiled path leaves to the executor.
EXECUTED = [query[:-1] + ' node(id: "UHJvZHVjdDox") { id } }' for query in PLANNED]
REFUSAL = {
    "message": f"The response would exceed {MAX_BYTES} bytes; ask for fewer objects or fields",
    "extensions": {"code": "QUERY_TOO_COMPLEX", "maxResponseBytes": MAX_BYTES},
}


@pytest.fixture
async def small_app(settings_factory: Any) -> AsyncIterator[Starlette]:
    application = create_app(settings_factory(max_response_bytes=MAX_BYTES))
    await learn_database_features(application.state.services)
    maker = application.state.services.session_maker
    await create_products(maker, await create_category(maker, "Kitchen"), 40)
    yield application
    await application.state.services.close()


@pytest.fixture
async def small_gql(small_app: Starlette) -> AsyncIterator[GraphQLClient]:
    async with await open_client(small_app) as http:
        yield GraphQLClient(http, small_app.state.compiled)


@pytest.mark.parametrize(
    "query", PLANNED + EXECUTED, ids=["page", "keys", "page-executor", "keys-executor"]
)
async def test_an_answer_over_the_limit_is_refused(
    small_app: Starlette, small_gql: GraphQLClient, query: str
) -> None:
    answered = small_app.state.compiled.answered
    body = await small_gql.answer(query)  # both paths, compared, when the compiled one answers
    assert small_app.state.compiled.answered == answered + (query in PLANNED)
    assert body["data"] is None
    assert body["errors"] == [REFUSAL]
    assert error_codes(body) == ["QUERY_TOO_COMPLEX"]
    assert body["extensions"]["cost"]["requestedQueryCost"] > 0


@pytest.mark.parametrize("query", [PAGE, EXECUTED[0]], ids=["compiled", "executor"])
async def test_an_answer_within_the_limit_is_given(small_gql: GraphQLClient, query: str) -> None:
    body = await small_gql(query.replace("first: 40", "first: 5"))
    assert len(body["data"]["products"]["edges"]) == 5

"""The GraphQL pipeline through HTTP: limits, error codes and masking, paging, ids."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from strawberry.relay import to_base64
from structlog.contextvars import merge_contextvars
from structlog.testing import capture_logs

from hom.core.config import Settings
from tests.core.plumbing_schema import COUNTERS, CREATE_STATEMENTS, plumbing_client
from tests.support import GraphQLClient, admin_execute

SettingsFactory = Callable[..., Settings]


@pytest.fixture
async def items_table(db_url: str) -> None:
    """130 items in the test's own database (dropped with it)."""
    rows = ", ".join(f"({n}, {n % 7}, 'item {n}')" for n in range(1, 131))
    await admin_execute(db_url, *CREATE_STATEMENTS, f"INSERT INTO testing.item VALUES {rows}")


@pytest.fixture(params=["dev", "staging", "prod"])
async def env_gql(
    request: pytest.FixtureRequest, settings_factory: SettingsFactory
) -> AsyncIterator[tuple[str, GraphQLClient]]:
    app, http = await plumbing_client(settings_factory(app_env=request.param))
    async with http:
        yield request.param, GraphQLClient(http)
    await app.state.services.close()


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


async def test_depth_limit_rejects_before_execution(pgql: GraphQLClient) -> None:
    before = COUNTERS.touched
    deep = "{ touch nest { " + "child { " * 12 + "level" + " }" * 14
    body = await pgql(deep)
    assert codes(body) == ["QUERY_TOO_COMPLEX"]
    assert "data" not in body or body["data"] is None
    assert COUNTERS.touched == before


async def test_alias_limit_rejects_before_execution(pgql: GraphQLClient) -> None:
    before = COUNTERS.touched
    body = await pgql("{ " + " ".join(f"a{n}: touch" for n in range(31)) + " }")
    assert codes(body) == ["QUERY_TOO_COMPLEX"]
    assert COUNTERS.touched == before


async def test_token_limit_rejects_before_execution(pgql: GraphQLClient) -> None:
    before = COUNTERS.touched
    body = await pgql("{ touch " + "__typename " * 2100 + "}")
    assert codes(body) == ["QUERY_TOO_COMPLEX"]
    assert "more than 2000 tokens" in body["errors"][0]["message"]
    assert COUNTERS.touched == before


async def test_queries_within_limits_run(pgql: GraphQLClient) -> None:
    body = await pgql("{ a: touch b: touch nest { child { child { level } } } }")
    assert body["data"]["nest"] == {"child": {"child": {"level": 2}}}


async def test_introspection_and_suggestions_only_outside_prod(
    env_gql: tuple[str, GraphQLClient],
) -> None:
    env, gql = env_gql
    introspection = await gql("{ __schema { queryType { name } } }")
    typo = await gql("{ serverInf { version } }")
    suggests = "Did you mean" in typo["errors"][0]["message"]
    if env == "prod":
        assert set(codes(introspection)) == {"GRAPHQL_VALIDATION_FAILED"}
        assert introspection.get("data") is None
        assert not suggests
    else:
        assert introspection["data"] == {"__schema": {"queryType": {"name": "PlumbingQuery"}}}
        assert suggests
    assert codes(typo) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_unexpected_errors_carry_request_id_and_are_masked_outside_dev(
    env_gql: tuple[str, GraphQLClient],
) -> None:
    env, gql = env_gql
    for query in ("{ boom }", "{ badSql }"):
        with capture_logs(processors=[merge_contextvars]) as logs:
            response = await gql.http.post("/graphql", json={"query": query})
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
        assert error["extensions"]["request_id"] == response.headers["x-request-id"]
        if env != "dev":
            assert error["message"] == "Internal server error"
            assert "hunter2" not in response.text
        # the detail is in the log, under the request id
        [logged] = [entry for entry in logs if entry["event"] == "unexpected error"]
        assert logged["request_id"] == response.headers["x-request-id"]
        assert logged["exc_info"] is not None


async def test_internal_errors_never_carry_sql_even_in_dev(pgql: GraphQLClient) -> None:
    boom, bad_sql = await pgql("{ boom }"), await pgql("{ badSql }")
    assert "secret internals" in boom["errors"][0]["message"]
    # the driver's first line, without the statement or its parameters
    assert bad_sql["errors"][0]["message"] == "division by zero"
    assert "SELECT" not in str(bad_sql)
    assert "hunter2" not in str(bad_sql)


async def test_parse_errors_are_coded(pgql: GraphQLClient) -> None:
    assert codes(await pgql("{ serverInfo { ")) == ["GRAPHQL_PARSE_FAILED"]


async def test_bad_variables_are_bad_user_input(pgql: GraphQLClient) -> None:
    body = await pgql("query ($n: Int) { items(first: $n) { edges { cursor } } }", {"n": "x"})
    assert codes(body) == ["BAD_USER_INPUT"]


@pytest.mark.usefixtures("items_table")
@pytest.mark.parametrize("first", [101, -1])
async def test_first_out_of_range_is_bad_user_input(pgql: GraphQLClient, first: int) -> None:
    body = await pgql("query ($f: Int) { items(first: $f) { edges { cursor } } }", {"f": first})
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["argument"] == "first"


ITEMS_PAGE = """query ($first: Int, $after: String) {
  items(first: $first, after: $after) {
    edges { cursor node { id rank name } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


@pytest.mark.usefixtures("items_table")
async def test_keyset_pages_walk_the_whole_list_once(pgql: GraphQLClient) -> None:
    seen: list[tuple[int, str]] = []
    after = None
    for _ in range(10):
        body = await pgql(ITEMS_PAGE, {"first": 50, "after": after})
        items = body["data"]["items"]
        seen += [(edge["node"]["rank"], edge["node"]["name"]) for edge in items["edges"]]
        if not items["pageInfo"]["hasNextPage"]:
            break
        after = items["pageInfo"]["endCursor"]
    assert len(seen) == 130
    assert len(set(seen)) == 130
    assert [rank for rank, _ in seen] == sorted((rank for rank, _ in seen), reverse=True)


@pytest.mark.usefixtures("items_table")
async def test_default_page_size_is_20(pgql: GraphQLClient) -> None:
    body = await pgql(ITEMS_PAGE)
    assert len(body["data"]["items"]["edges"]) == 20
    assert body["data"]["items"]["pageInfo"]["hasNextPage"] is True


@pytest.mark.usefixtures("items_table")
@pytest.mark.parametrize("cursor", ["garbage!", to_base64("x", 1), "WzEsIngiXQ", "W10"])
async def test_foreign_cursor_is_bad_user_input(pgql: GraphQLClient, cursor: str) -> None:
    body = await pgql(ITEMS_PAGE, {"first": 5, "after": cursor})
    assert codes(body) == ["BAD_USER_INPUT"]


@pytest.mark.usefixtures("items_table")
async def test_node_resolves_global_ids(pgql: GraphQLClient) -> None:
    first = (await pgql(ITEMS_PAGE, {"first": 1}))["data"]["items"]["edges"][0]["node"]
    query = "query ($id: ID!) { node(id: $id) { id ... on Item { name } } }"
    assert (await pgql(query, {"id": first["id"]}))["data"]["node"] == {
        "id": first["id"],
        "name": first["name"],
    }
    assert (await pgql(query, {"id": to_base64("Item", 999_999)}))["data"]["node"] is None
    for foreign in (to_base64("Nope", 1), "not-an-id", to_base64("Item", "abc")):
        assert await pgql(query, {"id": foreign}) == {"data": {"node": None}}


async def test_datetimes_need_an_offset_and_come_back_in_utc(pgql: GraphQLClient) -> None:
    query = "query ($at: DateTime!) { echoTime(at: $at) }"
    body = await pgql(query, {"at": "2026-05-01T09:00:00+02:00"})
    assert body["data"] == {"echoTime": "2026-05-01T07:00:00+00:00"}
    out_of_range = ("9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+01:00")
    for bad in ("2026-05-01T09:00:00", "yesterday", 12, *out_of_range):
        assert codes(await pgql(query, {"at": bad})) == ["BAD_USER_INPUT"], bad
    inline = await pgql('{ echoTime(at: "2026-05-01T09:00:00") }')
    assert codes(inline) == ["BAD_USER_INPUT"]

"""Arguments are checked before SQL: NUL characters in any text and exotic or huge
decimals are BAD_USER_INPUT (REST: 422), on both read paths, and change nothing."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlmodel import func, select

from hom.catalog.models import Category
from hom.core.db import SessionMaker
from hom.core.roles import Role
from hom.core.unit_of_work import unit_of_work
from tests.catalog.factories import create_category, create_product, global_id
from tests.catalog.test_products import CREATE, UPDATE, new_product, products_in_db, token_of
from tests.compiled_fixtures import both
from tests.support import GraphQLClient, error_codes

pytestmark = pytest.mark.usefixtures("features_learnt")

CALLERS = ("ANONYMOUS", Role.OPERATOR)

# Decimal arguments, as GraphQL literals: none is a number PostgreSQL should see.
HOSTILE_DECIMALS = [
    '"1e1000000"',
    '"-1e1000000"',
    '"1e-1000000"',
    '"0E+1000000"',
    '"Infinity"',
    '"-Infinity"',
    '"inf"',
    '"NaN"',
    '"sNaN"',
    '"-nan"',
    f'"{"9" * 30}"',
    f'"0.{"0" * 30}1"',
    f'"{"1" * 5000}"',
    "1e400",
    "-1e400",
    "1e1000000",
    '"1e400"',
    '"12,5"',
    '""',
]


def variable_of(literal: str) -> Any:
    """The literal as a JSON variable (JSON has no infinity: those stay strings)."""
    value = json.loads(literal)
    return value if isinstance(value, str) or abs(value) < 1e300 else literal


def assert_bad_input(body: dict[str, Any], case: Any) -> None:
    assert body.get("errors"), (case, body)
    assert set(error_codes(body)) == {"BAD_USER_INPUT"}, (case, body)


PRICE_QUERIES = [
    "{{ products(filter: {{minPrice: {value}}}) {{ edges {{ node {{ name }} }} }} }}",
    "{{ products(filter: {{maxPrice: {value}}}) {{ edges {{ node {{ name }} }} }} }}",
    "{{ products(sort: PRICE_ASC, filter: {{minPrice: {value}, maxPrice: {value}}}) "
    "{{ edges {{ node {{ name }} }} }} }}",
]
PRICE_VARIABLES = [
    "query ($v: Decimal) { products(filter: {minPrice: $v}) { edges { node { name } } } }",
    "query ($f: ProductFilter) { products(filter: $f) { edges { node { name } } } }",
]


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize("role", CALLERS)
async def test_exotic_decimals_in_filters_are_bad_input_on_both_paths(
    client: httpx.AsyncClient,
    executor: httpx.AsyncClient,
    tokens: dict[Any, str | None],
    role: Any,
) -> None:
    for literal in HOSTILE_DECIMALS:
        for template in PRICE_QUERIES:
            query = template.format(value=literal)
            mine, theirs = await both(client, executor, query, {}, tokens[role])
            assert mine == theirs, query
            assert_bad_input(mine, query)
        value = variable_of(literal)
        for query, variables in zip(
            PRICE_VARIABLES, [{"v": value}, {"f": {"maxPrice": value}}], strict=True
        ):
            mine, theirs = await both(client, executor, query, variables, tokens[role])
            assert mine == theirs, (query, variables)
            assert_bad_input(mine, variables)


async def test_exotic_prices_are_bad_input_and_write_nothing(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    kitchen = await create_category(session_maker, "Kitchen")
    product = await create_product(session_maker, kitchen, 1)
    token = await token_of(client, session_maker, Role.OPERATOR)
    before = await products_in_db(session_maker)
    product_id = global_id("Product", product.id)
    for literal in HOSTILE_DECIMALS:
        value = variable_of(literal)
        body = await gql(CREATE, {"input": new_product(kitchen, price=value)}, token=token)
        assert_bad_input(body, literal)
        body = await gql(UPDATE, {"input": {"id": product_id, "price": value}}, token=token)
        assert_bad_input(body, literal)
        inline = f'mutation {{ updateProduct(input: {{id: "{product_id}", price: {literal}}}) '
        body = await gql(inline + "{ errors { code } } }", token=token)
        assert_bad_input(body, literal)
    assert await products_in_db(session_maker) == before


NUL_TEXT = ["a\u0000b", "\u0000", "kettle\u0000", "\u0000" * 300]


def graphql_string(text: str) -> str:
    return json.dumps(text)  # JSON's string escapes are GraphQL's (`\u0000`)


NUL_QUERIES = [
    "{{ products(filter: {{search: {text}}}) {{ edges {{ node {{ name }} }} }} }}",
    "{{ product(slug: {text}) {{ name }} }}",
    "{{ product(id: {text}) {{ name }} }}",
    "{{ category(slug: {text}) {{ name }} }}",
    "{{ node(id: {text}) {{ id }} }}",
    "query ($s: String = {text}) {{ product(slug: $s) {{ name }} }}",
]
NUL_VARIABLES = [
    ("query ($f: ProductFilter) { products(filter: $f) { edges { node { name } } } }", "f"),
    ("query ($s: String!) { product(slug: $s) { name } }", "s"),
    ("query ($s: ID!) { product(id: $s) { name } }", "s"),
    ("query ($s: String!) { category(slug: $s) { name } }", "s"),
]


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize("role", CALLERS)
async def test_nul_characters_in_query_arguments_are_bad_input_on_both_paths(
    client: httpx.AsyncClient,
    executor: httpx.AsyncClient,
    tokens: dict[Any, str | None],
    role: Any,
) -> None:
    for text in NUL_TEXT:
        for template in NUL_QUERIES:
            query = template.format(text=graphql_string(text))
            mine, theirs = await both(client, executor, query, {}, tokens[role])
            assert mine == theirs, query
            assert_bad_input(mine, query)
        for query, name in NUL_VARIABLES:
            value: Any = {"search": text} if name == "f" else text
            mine, theirs = await both(client, executor, query, {name: value}, tokens[role])
            assert mine == theirs, (query, text)
            assert_bad_input(mine, (query, text))


async def categories_in_db(session_maker: SessionMaker) -> int:
    async with unit_of_work(session_maker) as session:
        return int((await session.exec(select(func.count()).select_from(Category))).one())


CREATE_CATEGORY = """mutation ($input: CreateCategoryInput!) {
  createCategory(input: $input) { errors { code } } }"""


async def test_nul_characters_in_mutation_inputs_are_bad_input_and_write_nothing(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    kitchen = await create_category(session_maker, "Kitchen")
    token = await token_of(client, session_maker, Role.ADMIN)
    products, categories = (
        await products_in_db(session_maker),
        await categories_in_db(session_maker),
    )
    for text in NUL_TEXT:
        for field in ("name", "sku", "slug", "description", "currency"):
            body = await gql(CREATE, {"input": new_product(kitchen, **{field: text})}, token=token)
            assert_bad_input(body, field)
        body = await gql(CREATE_CATEGORY, {"input": {"name": text, "slug": "x"}}, token=token)
        assert_bad_input(body, text)
        inline = f'mutation {{ createCategory(input: {{name: {graphql_string(text)}, slug: "x"}})'
        body = await gql(inline + " { errors { code } } }", token=token)
        assert_bad_input(body, text)
        assert body["errors"][0]["extensions"]["argument"] == "input.name"
    assert await products_in_db(session_maker) == products
    assert await categories_in_db(session_maker) == categories


@pytest.mark.parametrize(
    ("username", "password"),
    [("a\u0000@example.com", "secret-password"), ("a@example.com", "pass\u0000word")],
)
async def test_nul_characters_in_the_login_form_are_a_422(
    client: httpx.AsyncClient, username: str, password: str
) -> None:
    response = await client.post("/auth/login", data={"username": username, "password": password})
    assert response.status_code == 422
    assert "NUL" in response.json()["detail"]

"""The catalog's view of stock: `availableQuantity`, `stockLevels` and the `inStock` filter
of `products` (SPEC §7: active warehouses only; stock itself for operators and admins)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from hom.core.db import SessionMaker
from hom.core.roles import Role
from tests.catalog.factories import create_category, create_product
from tests.factories import signed_in
from tests.inventory.factories import create_warehouse, stock
from tests.support import GraphQLClient

PRODUCTS = """query ($filter: ProductFilter) {
  products(first: 20, filter: $filter, sort: NAME) { edges { node {
    name availableQuantity stockLevels { warehouse { code } onHand reserved available }
  } } }
}"""


async def products(gql: GraphQLClient, token: str | None, **variables: Any) -> list[Any]:
    body = await gql(PRODUCTS, variables, token=token)
    assert "errors" not in body, body
    return [edge["node"] for edge in body["data"]["products"]["edges"]]


@pytest.fixture
async def stocked(session_maker: SessionMaker) -> None:
    """Kettle: 7 + 3 available in two active warehouses, 50 in an inactive one; Teapot: all
    of its stock reserved; Cup: only in the inactive warehouse; Spoon: no stock at all."""
    kitchen = await create_category(session_maker, "Kitchen")
    kettle, teapot, cup, _ = [
        await create_product(session_maker, kitchen, n, name=name)
        for n, name in enumerate(("Kettle", "Teapot", "Cup", "Spoon"))
    ]
    north = await create_warehouse(session_maker, "NORTH")
    south = await create_warehouse(session_maker, "SOUTH")
    old = await create_warehouse(session_maker, "OLD", active=False)
    await stock(session_maker, kettle, south, 5, reserved=2)
    await stock(session_maker, kettle, north, 7)
    await stock(session_maker, kettle, old, 50)
    await stock(session_maker, teapot, north, 4, reserved=4)
    await stock(session_maker, cup, old, 9)


@pytest.mark.usefixtures("stocked")
async def test_available_quantity_counts_active_warehouses_only(gql: GraphQLClient) -> None:
    found = {node["name"]: node["availableQuantity"] for node in await products(gql, None)}
    assert found == {"Cup": 0, "Kettle": 10, "Spoon": 0, "Teapot": 0}


@pytest.mark.usefixtures("stocked")
async def test_in_stock_filter(gql: GraphQLClient) -> None:
    in_stock = await products(gql, None, filter={"inStock": True})
    assert [node["name"] for node in in_stock] == ["Kettle"]
    out_of_stock = await products(gql, None, filter={"inStock": False})
    assert [node["name"] for node in out_of_stock] == ["Cup", "Spoon", "Teapot"]


@pytest.mark.usefixtures("stocked")
async def test_operators_see_each_products_levels_by_warehouse_code(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    _, tokens = await signed_in(client, session_maker, Role.OPERATOR)
    kettle = next(n for n in await products(gql, tokens.access_token) if n["name"] == "Kettle")
    assert kettle["stockLevels"] == [
        {"warehouse": {"code": "NORTH"}, "onHand": 7, "reserved": 0, "available": 7},
        {"warehouse": {"code": "OLD"}, "onHand": 50, "reserved": 0, "available": 50},
        {"warehouse": {"code": "SOUTH"}, "onHand": 5, "reserved": 2, "available": 3},
    ]


@pytest.mark.usefixtures("stocked")
@pytest.mark.parametrize("role", [None, Role.CUSTOMER, Role.STAFF])
async def test_everyone_else_gets_no_stock_levels(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker, role: Role | None
) -> None:
    token = None if role is None else (await signed_in(client, session_maker, role))[1].access_token
    nodes = await products(gql, token)
    assert [node["stockLevels"] for node in nodes] == [[]] * 4
    assert sum(node["availableQuantity"] for node in nodes) == 10

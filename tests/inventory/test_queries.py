"""InventoryQuery over HTTP: warehouses, stock levels, the ledger, stock-takes; filters,
ordering, cursors, bad arguments, and who sees what (SPEC §6, §7 inventory)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from hom.accounts.models import User
from hom.catalog.models import Product
from hom.core.db import SessionMaker
from hom.core.roles import Role
from hom.inventory.models import MovementKind, Warehouse
from tests.catalog.factories import create_category, create_product, global_id
from tests.factories import signed_in
from tests.inventory.factories import create_check, create_warehouse, move, stock
from tests.support import GraphQLClient, error_codes

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@dataclass
class Shop:
    """Two products, an active and an inactive warehouse, and an operator signed in."""

    kettle: Product
    teapot: Product
    main: Warehouse
    closed: Warehouse
    operator: User
    token: str


@pytest.fixture
async def shop(client: httpx.AsyncClient, session_maker: SessionMaker) -> Shop:
    kitchen = await create_category(session_maker, "Kitchen")
    kettle = await create_product(session_maker, kitchen, 1, name="Kettle")
    teapot = await create_product(session_maker, kitchen, 2, name="Teapot")
    main = await create_warehouse(session_maker, "MAIN", low_stock_threshold=5)
    closed = await create_warehouse(session_maker, "B-OLD", active=False)
    operator, tokens = await signed_in(client, session_maker, Role.OPERATOR)
    return Shop(kettle, teapot, main, closed, operator, tokens.access_token)


async def answer(gql: GraphQLClient, query: str, token: str, **variables: Any) -> Any:
    body = await gql(query, variables, token=token)
    assert "errors" not in body, body
    return body["data"]


def gid(row: Any) -> str:
    return global_id(type(row).__name__, row.id)


# --- warehouses ---------------------------------------------------------------------------


async def test_warehouses_are_listed_by_code_inactive_ones_too(
    gql: GraphQLClient, shop: Shop
) -> None:
    data = await answer(gql, "{ warehouses { code isActive lowStockThreshold } }", shop.token)
    assert data["warehouses"] == [
        {"code": "B-OLD", "isActive": False, "lowStockThreshold": 5},
        {"code": "MAIN", "isActive": True, "lowStockThreshold": 5},
    ]


async def test_warehouse_by_id_and_node_for_operators_only(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker, shop: Shop
) -> None:
    by_id = "query ($id: ID!) { warehouse(id: $id) { id code name } }"
    node = "query ($id: ID!) { node(id: $id) { ... on Warehouse { code } } }"
    found = await answer(gql, by_id, shop.token, id=gid(shop.main))
    assert found["warehouse"] == {"id": gid(shop.main), "code": "MAIN", "name": "Warehouse MAIN"}
    assert (await answer(gql, node, shop.token, id=gid(shop.main)))["node"] == {"code": "MAIN"}
    _, customer = await signed_in(client, session_maker)
    assert await gql(node, {"id": gid(shop.main)}, token=customer.access_token) == {
        "data": {"node": None}
    }
    nobody = await answer(gql, by_id, shop.token, id=global_id("Warehouse", 2**40))
    assert nobody["warehouse"] is None
    wrong = await gql(by_id, {"id": gid(shop.kettle)}, token=shop.token)
    assert error_codes(wrong) == ["BAD_USER_INPUT"]


# --- stock levels -------------------------------------------------------------------------

LEVELS = """query ($first: Int, $after: String, $filter: StockLevelFilter) {
  stockLevels(first: $first, after: $after, filter: $filter) {
    edges { cursor node { product { name } warehouse { code } onHand reserved available } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def levels(gql: GraphQLClient, token: str, **variables: Any) -> list[tuple[str, str, int]]:
    data = await answer(gql, LEVELS, token, **variables)
    nodes = [edge["node"] for edge in data["stockLevels"]["edges"]]
    return [(n["product"]["name"], n["warehouse"]["code"], n["available"]) for n in nodes]


async def test_stock_levels_filter_by_product_warehouse_and_low_stock(
    gql: GraphQLClient, session_maker: SessionMaker, shop: Shop
) -> None:
    await stock(session_maker, shop.kettle, shop.main, 10, reserved=5)  # 5 available: low
    await stock(session_maker, shop.teapot, shop.main, 6)  # 6: not low
    await stock(session_maker, shop.kettle, shop.closed, 2)
    assert await levels(gql, shop.token) == [
        ("Kettle", "MAIN", 5),
        ("Teapot", "MAIN", 6),
        ("Kettle", "B-OLD", 2),
    ]
    by_product = await levels(gql, shop.token, filter={"productId": gid(shop.kettle)})
    assert by_product == [("Kettle", "MAIN", 5), ("Kettle", "B-OLD", 2)]
    by_warehouse = await levels(gql, shop.token, filter={"warehouseId": gid(shop.closed)})
    assert by_warehouse == [("Kettle", "B-OLD", 2)]
    low = await levels(gql, shop.token, filter={"lowStock": True})
    assert low == [("Kettle", "MAIN", 5), ("Kettle", "B-OLD", 2)]
    assert await levels(gql, shop.token, filter={"lowStock": False}) == [("Teapot", "MAIN", 6)]


async def test_stock_levels_page_with_cursors(
    gql: GraphQLClient, session_maker: SessionMaker, shop: Shop
) -> None:
    for product in (shop.kettle, shop.teapot):
        for warehouse in (shop.main, shop.closed):
            await stock(session_maker, product, warehouse, 7)
    first = await answer(gql, LEVELS, shop.token, first=3)
    assert len(first["stockLevels"]["edges"]) == 3
    assert first["stockLevels"]["pageInfo"]["hasNextPage"] is True
    after = first["stockLevels"]["pageInfo"]["endCursor"]
    rest = await answer(gql, LEVELS, shop.token, first=3, after=after)
    assert len(rest["stockLevels"]["edges"]) == 1
    assert rest["stockLevels"]["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize(
    ("variables", "argument"),
    [
        ({"filter": {"productId": "bm90IGFuIGlk"}}, "filter.productId"),
        ({"filter": {"warehouseId": "UHJvZHVjdDox"}}, "filter.warehouseId"),  # a Product id
        ({"first": 101}, "first"),
        ({"after": "not a cursor"}, "after"),
    ],
)
async def test_bad_arguments_are_bad_user_input(
    gql: GraphQLClient, shop: Shop, variables: dict[str, Any], argument: str
) -> None:
    body = await gql(LEVELS, variables, token=shop.token)
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"].get("argument") == argument


# --- the ledger -----------------------------------------------------------------------------

MOVEMENTS = """query ($first: Int, $after: String, $filter: StockMovementFilter) {
  stockMovements(first: $first, after: $after, filter: $filter) {
    edges { node { kind quantity reason createdAt product { name } warehouse { code }
                   actor { fullName } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def ledger(gql: GraphQLClient, token: str, **variables: Any) -> list[tuple[str, int]]:
    data = await answer(gql, MOVEMENTS, token, **variables)
    return [(e["node"]["kind"], e["node"]["quantity"]) for e in data["stockMovements"]["edges"]]


async def test_movements_newest_first_with_their_product_warehouse_and_actor(
    gql: GraphQLClient, session_maker: SessionMaker, shop: Shop
) -> None:
    level = await stock(session_maker, shop.kettle, shop.main, 10)  # a RECEIPT by the system
    await move(
        session_maker, level, MovementKind.ADJUSTMENT, -2, actor_id=shop.operator.id, reason="Dent"
    )
    data = await answer(gql, MOVEMENTS, shop.token)
    newest, oldest = (edge["node"] for edge in data["stockMovements"]["edges"])
    assert newest["kind"] == "ADJUSTMENT"
    assert newest["quantity"] == -2
    assert newest["reason"] == "Dent"
    assert newest["actor"] == {"fullName": shop.operator.full_name}
    assert newest["product"] == {"name": "Kettle"}
    assert newest["warehouse"] == {"code": "MAIN"}
    assert (oldest["kind"], oldest["quantity"], oldest["actor"]) == ("RECEIPT", 10, None)


async def test_movements_filter_by_kind_product_and_warehouse(
    gql: GraphQLClient, session_maker: SessionMaker, shop: Shop
) -> None:
    await stock(session_maker, shop.kettle, shop.main, 10, reserved=3)
    await stock(session_maker, shop.teapot, shop.closed, 4)
    assert await ledger(gql, shop.token, filter={"kind": "RESERVATION"}) == [("RESERVATION", 3)]
    assert await ledger(gql, shop.token, filter={"productId": gid(shop.teapot)}) == [("RECEIPT", 4)]
    assert await ledger(gql, shop.token, filter={"warehouseId": gid(shop.main)}) == [
        ("RESERVATION", 3),
        ("RECEIPT", 10),
    ]


async def test_movements_from_is_inclusive_and_to_exclusive(
    gql: GraphQLClient, session_maker: SessionMaker, shop: Shop
) -> None:
    level = await stock(session_maker, shop.kettle, shop.main, 0)
    for hour, quantity in enumerate((1, 2, 3)):
        await move(session_maker, level, MovementKind.RECEIPT, quantity, at=START + hour * HOUR)
    window = {"from": (START + HOUR).isoformat(), "to": (START + 2 * HOUR).isoformat()}
    assert await ledger(gql, shop.token, filter=window) == [("RECEIPT", 2)]
    since = {"from": "2026-03-01T14:00:00+01:00"}  # 13:00 UTC: the second one
    assert await ledger(gql, shop.token, filter=since) == [("RECEIPT", 3), ("RECEIPT", 2)]
    naive = await gql(MOVEMENTS, {"filter": {"from": "2026-03-01T12:00:00"}}, token=shop.token)
    assert error_codes(naive) == ["BAD_USER_INPUT"]


async def test_movements_page_newest_first_across_pages(
    gql: GraphQLClient, session_maker: SessionMaker, shop: Shop
) -> None:
    level = await stock(session_maker, shop.kettle, shop.main, 0)
    for quantity in range(1, 6):
        await move(session_maker, level, MovementKind.RECEIPT, quantity)
    first = await answer(gql, MOVEMENTS, shop.token, first=2)
    after = first["stockMovements"]["pageInfo"]["endCursor"]
    assert await ledger(gql, shop.token, first=2) == [("RECEIPT", 5), ("RECEIPT", 4)]
    assert await ledger(gql, shop.token, first=5, after=after) == [
        ("RECEIPT", 3),
        ("RECEIPT", 2),
        ("RECEIPT", 1),
    ]


# --- stock-takes ----------------------------------------------------------------------------

CHECKS = """query ($filter: InventoryCheckFilter) {
  inventoryChecks(filter: $filter) { edges { node {
    status warehouse { code } openedBy { fullName } closedBy { fullName } closedAt
    counts { product { name } countedQuantity expectedQuantity difference countedBy { fullName } }
  } } }
}"""


async def test_checks_newest_first_with_counts_and_filters(
    gql: GraphQLClient, session_maker: SessionMaker, shop: Shop
) -> None:
    lines = [(shop.teapot, 3, 4), (shop.kettle, 7, 5)]
    await create_check(session_maker, shop.closed, closed_at=START, opened_by_id=shop.operator.id)
    await create_check(session_maker, shop.main, counts=lines, opened_by_id=shop.operator.id)
    data = await answer(gql, CHECKS, shop.token)
    newest, oldest = (edge["node"] for edge in data["inventoryChecks"]["edges"])
    person = {"fullName": shop.operator.full_name}
    assert (newest["status"], newest["warehouse"], newest["closedBy"]) == (
        "OPEN",
        {"code": "MAIN"},
        None,
    )
    assert newest["openedBy"] == person
    assert [(c["product"]["name"], c["difference"]) for c in newest["counts"]] == [
        ("Kettle", 2),
        ("Teapot", -1),
    ]
    assert newest["counts"][0]["countedBy"] == person
    assert (oldest["status"], oldest["closedBy"], oldest["counts"]) == ("CLOSED", person, [])
    for filter, code in (
        ({"status": "CLOSED"}, "B-OLD"),
        ({"warehouseId": gid(shop.main)}, "MAIN"),
    ):
        found = await answer(gql, CHECKS, shop.token, filter=filter)
        assert [e["node"]["warehouse"]["code"] for e in found["inventoryChecks"]["edges"]] == [code]


NODE = """query ($id: ID!) { node(id: $id) {
  __typename
  ... on StockLevel { onHand product { name } }
  ... on StockMovement { quantity warehouse { code } }
  ... on InventoryCheck { status counts { countedQuantity } }
} }"""


async def test_every_inventory_node_for_operators_and_null_for_customers(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker, shop: Shop
) -> None:
    level = await stock(session_maker, shop.kettle, shop.main, 4)
    movement = await move(session_maker, level, MovementKind.ADJUSTMENT, 1)
    check = await create_check(session_maker, shop.main, counts=[(shop.kettle, 5, 5)])
    ids = {
        "StockLevel": global_id("StockLevel", level.id),
        "StockMovement": global_id("StockMovement", movement.id),
        "InventoryCheck": global_id("InventoryCheck", check.id),
    }
    _, customer = await signed_in(client, session_maker)
    for type_name, node_id in ids.items():
        shown = (await answer(gql, NODE, shop.token, id=node_id))["node"]
        assert shown["__typename"] == type_name
        hidden = await gql(NODE, {"id": node_id}, token=customer.access_token)
        assert hidden == {"data": {"node": None}}
    shown = (await answer(gql, NODE, shop.token, id=ids["StockLevel"]))["node"]
    assert shown == {"__typename": "StockLevel", "onHand": 5, "product": {"name": "Kettle"}}

"""Stock-takes over HTTP: counts, the adjustments closing writes, and what is refused."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hom.core.db import SessionMaker
from hom.core.unit_of_work import unit_of_work
from hom.inventory import service
from hom.inventory.service import Line
from tests.catalog.factories import global_id
from tests.inventory.stock import (
    a_warehouse,
    an_operator,
    ledger_state,
    movements,
    receive,
    some_products,
    stock_levels,
)
from tests.support import GraphQLClient, error_codes

CHECK = "inventoryCheck { status warehouse { code } closedAt } errors { field code message }"
START = f"mutation ($id: ID!) {{ startInventoryCheck(warehouseId: $id) {{ {CHECK} }} }}"
START_ID = (
    "mutation ($id: ID!) { startInventoryCheck(warehouseId: $id) "
    "{ inventoryCheck { id } errors { code } } }"
)
COUNT = f"""mutation ($input: RecordInventoryCountInput!) {{
  recordInventoryCount(input: $input) {{ {CHECK} }}
}}"""
CLOSE = f"mutation ($id: ID!) {{ closeInventoryCheck(id: $id) {{ {CHECK} }} }}"


@pytest.fixture
async def shelf(session_maker: SessionMaker) -> dict[str, int]:
    """MAIN holds 10 of `a` and 5 of `b`; `c` was never there."""
    actor = await an_operator(session_maker)
    main = await a_warehouse(session_maker, "MAIN", actor)
    a, b, c = await some_products(session_maker, 3)
    await receive(session_maker, a, main, 10)
    await receive(session_maker, b, main, 5)
    return {"main": main, "a": a, "b": b, "c": c}


async def start(gql: GraphQLClient, operator_token: str, warehouse_id: int) -> str:
    body = await gql(START_ID, {"id": global_id("Warehouse", warehouse_id)}, operator_token)
    assert body["data"]["startInventoryCheck"]["errors"] == [], body
    check_id: str = body["data"]["startInventoryCheck"]["inventoryCheck"]["id"]
    return check_id


async def count(
    gql: GraphQLClient, operator_token: str, check_id: str, product_id: int, counted: Any
) -> dict[str, Any]:
    variables = {
        "input": {
            "checkId": check_id,
            "productId": global_id("Product", product_id),
            "countedQuantity": counted,
        }
    }
    return await gql(COUNT, variables, operator_token)


async def test_closing_a_stock_take_adjusts_every_difference(
    gql: GraphQLClient, operator_token: str, session_maker: SessionMaker, shelf: dict[str, int]
) -> None:
    check_id = await start(gql, operator_token, shelf["main"])
    for product, counted in (("a", 8), ("b", 5), ("c", 2), ("a", 7)):  # `a` counted twice
        body = await count(gql, operator_token, check_id, shelf[product], counted)
        assert body["data"]["recordInventoryCount"]["errors"] == [], body

    body = await gql(CLOSE, {"id": check_id}, operator_token)

    closed = body["data"]["closeInventoryCheck"]
    assert closed["errors"] == []
    assert closed["inventoryCheck"]["status"] == "CLOSED"
    assert closed["inventoryCheck"]["closedAt"] is not None
    main, reason = shelf["main"], "Inventory check"
    adjustments = [m for m in await movements(session_maker) if m[0] == "ADJUSTMENT"]
    assert [(kind, quantity, warehouse) for kind, quantity, warehouse, _ in adjustments] == [
        ("ADJUSTMENT", -3, main),
        ("ADJUSTMENT", 2, main),
    ]
    assert all(note and note.startswith(reason) for *_, note in adjustments)
    levels = await stock_levels(session_maker)
    assert [levels[(shelf[p], main)] for p in "abc"] == [(7, 0), (5, 0), (2, 0)]


async def test_what_moves_between_counting_and_closing_is_kept(
    gql: GraphQLClient, operator_token: str, session_maker: SessionMaker, shelf: dict[str, int]
) -> None:
    check_id = await start(gql, operator_token, shelf["main"])
    await count(gql, operator_token, check_id, shelf["a"], 8)  # two missing out of 10
    await receive(session_maker, shelf["a"], shelf["main"], 5)  # a delivery meanwhile

    await gql(CLOSE, {"id": check_id}, operator_token)

    assert (await stock_levels(session_maker))[(shelf["a"], shelf["main"])] == (13, 0)


async def test_one_open_check_per_warehouse(
    gql: GraphQLClient, operator_token: str, session_maker: SessionMaker, shelf: dict[str, int]
) -> None:
    check_id = await start(gql, operator_token, shelf["main"])
    variables = {"id": global_id("Warehouse", shelf["main"])}

    second = await gql(START, variables, operator_token)

    assert second["data"]["startInventoryCheck"]["inventoryCheck"] is None
    (error,) = second["data"]["startInventoryCheck"]["errors"]
    assert (error["field"], error["code"]) == ("warehouseId", "INVENTORY_CHECK_OPEN")
    await gql(CLOSE, {"id": check_id}, operator_token)
    again = await gql(START, variables, operator_token)
    assert again["data"]["startInventoryCheck"]["inventoryCheck"]["status"] == "OPEN"


async def test_a_closed_check_cannot_be_closed_or_counted_again(
    gql: GraphQLClient, operator_token: str, session_maker: SessionMaker, shelf: dict[str, int]
) -> None:
    check_id = await start(gql, operator_token, shelf["main"])
    await count(gql, operator_token, check_id, shelf["a"], 9)
    await gql(CLOSE, {"id": check_id}, operator_token)
    before = await ledger_state(session_maker)

    twice = await gql(CLOSE, {"id": check_id}, operator_token)
    late = await count(gql, operator_token, check_id, shelf["a"], 1)

    for payload, field in (
        (twice["data"]["closeInventoryCheck"], "id"),
        (late["data"]["recordInventoryCount"], "checkId"),
    ):
        assert payload["inventoryCheck"] is None
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [
            (field, "INVALID_TRANSITION")
        ]
    assert await ledger_state(session_maker) == before


async def test_two_concurrent_closes_adjust_once(
    gql: GraphQLClient, operator_token: str, session_maker: SessionMaker, shelf: dict[str, int]
) -> None:
    check_id = await start(gql, operator_token, shelf["main"])
    await count(gql, operator_token, check_id, shelf["a"], 4)

    bodies = await asyncio.gather(*(gql(CLOSE, {"id": check_id}, operator_token) for _ in range(4)))

    codes = sorted(
        [e["code"] for e in body["data"]["closeInventoryCheck"]["errors"]] for body in bodies
    )
    assert codes == [[], ["INVALID_TRANSITION"], ["INVALID_TRANSITION"], ["INVALID_TRANSITION"]]
    assert (await stock_levels(session_maker))[(shelf["a"], shelf["main"])] == (4, 0)


async def test_counting_below_what_is_reserved_cannot_close(
    gql: GraphQLClient, operator_token: str, session_maker: SessionMaker, shelf: dict[str, int]
) -> None:
    async with unit_of_work(session_maker) as session:
        await service.reserve(session, lines=[Line(shelf["a"], 6)], order_id=1)
    check_id = await start(gql, operator_token, shelf["main"])
    await count(gql, operator_token, check_id, shelf["a"], 5)
    before = await ledger_state(session_maker)

    body = await gql(CLOSE, {"id": check_id}, operator_token)

    payload = body["data"]["closeInventoryCheck"]
    assert [e["code"] for e in payload["errors"]] == ["INSUFFICIENT_STOCK"]
    assert str(shelf["a"]) in payload["errors"][0]["message"]
    assert await ledger_state(session_maker) == before
    reopened = await gql(START, {"id": global_id("Warehouse", shelf["main"])}, operator_token)
    assert reopened["data"]["startInventoryCheck"]["errors"][0]["code"] == "INVENTORY_CHECK_OPEN"


@pytest.mark.parametrize("counted", [-1, 1_000_001, 2147483648])
async def test_counts_out_of_range_are_bad_user_input(
    gql: GraphQLClient,
    operator_token: str,
    session_maker: SessionMaker,
    shelf: dict[str, int],
    counted: int,
) -> None:
    check_id = await start(gql, operator_token, shelf["main"])
    before = await ledger_state(session_maker)
    body = await count(gql, operator_token, check_id, shelf["a"], counted)
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert await ledger_state(session_maker) == before


async def test_unknown_checks_are_not_found(
    gql: GraphQLClient, operator_token: str, shelf: dict[str, int]
) -> None:
    missing = global_id("InventoryCheck", 999_999)
    closed = await gql(CLOSE, {"id": missing}, operator_token)
    counted = await count(gql, operator_token, missing, shelf["a"], 1)
    for payload in (closed["data"]["closeInventoryCheck"], counted["data"]["recordInventoryCount"]):
        assert [e["code"] for e in payload["errors"]] == ["NOT_FOUND"]

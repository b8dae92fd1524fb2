"""Warehouses, receipts, adjustments and transfers over HTTP: what they change, what they
refuse, and that a refusal changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, select

from hom.audit.models import AuditEntry
from hom.core.db import SessionMaker
from hom.core.unit_of_work import unit_of_work
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

LEVEL = "stockLevel { onHand reserved available warehouse { code } product { name } }"
RECEIVE = f"""mutation ($input: ReceiveStockInput!) {{
  receiveStock(input: $input) {{ {LEVEL} errors {{ field code message }} }}
}}"""
ADJUST = f"""mutation ($input: AdjustStockInput!) {{
  adjustStock(input: $input) {{ {LEVEL} errors {{ field code message }} }}
}}"""
TRANSFER = f"""mutation ($input: TransferStockInput!) {{
  transferStock(input: $input) {{ {LEVEL} errors {{ field code message }} }}
}}"""
CREATE = """mutation ($input: CreateWarehouseInput!) {
  createWarehouse(input: $input) {
    warehouse { name code isActive lowStockThreshold } errors { field code }
  }
}"""
UPDATE = """mutation ($input: UpdateWarehouseInput!) {
  updateWarehouse(input: $input) {
    warehouse { name code isActive lowStockThreshold } errors { field code }
  }
}"""


@pytest.fixture
async def stocked(session_maker: SessionMaker) -> dict[str, int]:
    """Product `a` with 10 in MAIN, product `b` with none; an empty EAST warehouse."""
    actor = await an_operator(session_maker)
    main = await a_warehouse(session_maker, "MAIN", actor)
    east = await a_warehouse(session_maker, "EAST", actor)
    a, b = await some_products(session_maker, 2)
    await receive(session_maker, a, main, 10)
    return {"main": main, "east": east, "a": a, "b": b}


def stock_input(rows: dict[str, int], product: str, warehouse: str, **extra: Any) -> Any:
    return {
        "input": {
            "productId": global_id("Product", rows[product]),
            "warehouseId": global_id("Warehouse", rows[warehouse]),
            **extra,
        }
    }


def transfer_input(rows: dict[str, int], quantity: Any) -> Any:
    return {
        "input": {
            "productId": global_id("Product", rows["a"]),
            "fromWarehouseId": global_id("Warehouse", rows["main"]),
            "toWarehouseId": global_id("Warehouse", rows["east"]),
            "quantity": quantity,
        }
    }


async def test_operators_create_and_update_warehouses(
    gql: GraphQLClient, operator_token: str
) -> None:
    created = await gql(CREATE, {"input": {"name": "North", "code": "NORTH"}}, operator_token)
    warehouse = created["data"]["createWarehouse"]
    assert warehouse == {
        "warehouse": {"name": "North", "code": "NORTH", "isActive": True, "lowStockThreshold": 5},
        "errors": [],
    }
    listed = await gql("{ warehouses { id code } }", token=operator_token)
    (only,) = listed["data"]["warehouses"]

    changes = {"id": only["id"], "isActive": False, "lowStockThreshold": 2, "name": "North 2"}
    updated = await gql(UPDATE, {"input": changes}, operator_token)

    assert updated["data"]["updateWarehouse"] == {
        "warehouse": {
            "name": "North 2",
            "code": "NORTH",
            "isActive": False,
            "lowStockThreshold": 2,
        },
        "errors": [],
    }


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"name": "Again", "code": "MAIN"}, {"field": "code", "code": "ALREADY_EXISTS"}),
        ({"name": "Lower", "code": "main"}, {"field": "code", "code": "INVALID"}),
        ({"name": "  ", "code": "X"}, {"field": "name", "code": "INVALID"}),
        (
            {"name": "T", "code": "T", "lowStockThreshold": -1},
            {"field": "lowStockThreshold", "code": "INVALID"},
        ),
    ],
)
async def test_bad_warehouses_are_refused(
    gql: GraphQLClient,
    operator_token: str,
    session_maker: SessionMaker,
    stocked: dict[str, int],
    fields: dict[str, Any],
    error: dict[str, str],
) -> None:
    before = await ledger_state(session_maker)
    body = await gql(CREATE, {"input": fields}, operator_token)
    assert body["data"]["createWarehouse"] == {"warehouse": None, "errors": [error]}
    assert await ledger_state(session_maker) == before


async def test_receiving_stock_raises_on_hand_and_writes_a_receipt(
    gql: GraphQLClient,
    operator_token: str,
    session_maker: SessionMaker,
    stocked: dict[str, int],
) -> None:
    variables = stock_input(stocked, "b", "east", quantity=4, reason="Delivery 17")
    body = await gql(RECEIVE, variables, operator_token)

    assert body["data"]["receiveStock"]["stockLevel"] == {
        "onHand": 4,
        "reserved": 0,
        "available": 4,
        "warehouse": {"code": "EAST"},
        "product": {"name": "Stocked product 1"},
    }
    assert (await movements(session_maker))[-1] == ("RECEIPT", 4, stocked["east"], "Delivery 17")
    again = await gql(RECEIVE, stock_input(stocked, "b", "east", quantity=1), operator_token)
    assert again["data"]["receiveStock"]["stockLevel"]["onHand"] == 5


async def test_adjusting_stock_moves_on_hand_by_the_signed_quantity(
    gql: GraphQLClient,
    operator_token: str,
    session_maker: SessionMaker,
    stocked: dict[str, int],
) -> None:
    down = stock_input(stocked, "a", "main", quantity=-3, reason="Broken in transit")
    body = await gql(ADJUST, down, operator_token)

    assert body["data"]["adjustStock"]["stockLevel"]["onHand"] == 7
    assert (await movements(session_maker))[-1] == (
        "ADJUSTMENT",
        -3,
        stocked["main"],
        "Broken in transit",
    )
    up = stock_input(stocked, "a", "main", quantity=2, reason="Found behind a shelf")
    assert (await gql(ADJUST, up, operator_token))["data"]["adjustStock"]["stockLevel"][
        "onHand"
    ] == 9


@pytest.mark.parametrize(
    ("variables", "error"),
    [
        (
            lambda rows: stock_input(rows, "a", "main", quantity=-1, reason="  "),
            ("reason", "INVALID"),
        ),
        (
            lambda rows: stock_input(rows, "a", "main", quantity=-11, reason="Lost"),
            ("quantity", "INSUFFICIENT_STOCK"),
        ),
        (
            lambda rows: stock_input(rows, "b", "main", quantity=-1, reason="Lost"),
            ("quantity", "INSUFFICIENT_STOCK"),
        ),
    ],
)
async def test_adjustments_the_rules_refuse_change_nothing(
    gql: GraphQLClient,
    operator_token: str,
    session_maker: SessionMaker,
    stocked: dict[str, int],
    variables: Any,
    error: tuple[str, str],
) -> None:
    before = await ledger_state(session_maker)
    body = await gql(ADJUST, variables(stocked), operator_token)
    payload = body["data"]["adjustStock"]
    assert payload["stockLevel"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [error]
    assert await ledger_state(session_maker) == before


@pytest.mark.parametrize("quantity", [-5, 0, 2147483648, 1_000_001])
@pytest.mark.parametrize("operation", ["receiveStock", "adjustStock", "transferStock"])
async def test_quantities_out_of_range_are_bad_user_input_and_change_nothing(
    gql: GraphQLClient,
    operator_token: str,
    session_maker: SessionMaker,
    stocked: dict[str, int],
    operation: str,
    quantity: int,
) -> None:
    if operation == "adjustStock" and quantity == -5:
        quantity = -1_000_001  # a negative adjustment is a fine one
    document, variables = {
        "receiveStock": (RECEIVE, stock_input(stocked, "a", "main", quantity=quantity)),
        "adjustStock": (ADJUST, stock_input(stocked, "a", "main", quantity=quantity, reason="x")),
        "transferStock": (TRANSFER, transfer_input(stocked, quantity)),
    }[operation]
    before = await ledger_state(session_maker)

    body = await gql(document, variables, operator_token)

    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert body["data"] is None
    assert await ledger_state(session_maker) == before


async def test_a_literal_quantity_beyond_int_is_refused_too(
    gql: GraphQLClient,
    operator_token: str,
    session_maker: SessionMaker,
    stocked: dict[str, int],
) -> None:
    before = await ledger_state(session_maker)
    product, warehouse = global_id("Product", stocked["a"]), global_id("Warehouse", stocked["main"])
    document = (
        f'mutation {{ receiveStock(input: {{productId: "{product}", warehouseId: "{warehouse}", '
        "quantity: 2147483648}) { errors { code } } }"
    )
    body = await gql(document, token=operator_token)
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert await ledger_state(session_maker) == before


async def test_a_transfer_moves_stock_between_warehouses_and_returns_the_source(
    gql: GraphQLClient,
    operator_token: str,
    session_maker: SessionMaker,
    stocked: dict[str, int],
) -> None:
    body = await gql(TRANSFER, transfer_input(stocked, 4), operator_token)

    level = body["data"]["transferStock"]["stockLevel"]
    assert (level["warehouse"]["code"], level["onHand"]) == ("MAIN", 6)
    a, main, east = stocked["a"], stocked["main"], stocked["east"]
    assert (await stock_levels(session_maker))[(a, east)] == (4, 0)
    assert (await movements(session_maker))[-2:] == [
        ("TRANSFER_OUT", -4, main, None),
        ("TRANSFER_IN", 4, east, None),
    ]


async def test_a_transfer_larger_than_on_hand_is_refused_atomically(
    gql: GraphQLClient,
    operator_token: str,
    session_maker: SessionMaker,
    stocked: dict[str, int],
) -> None:
    before = await ledger_state(session_maker)

    body = await gql(TRANSFER, transfer_input(stocked, 11), operator_token)

    assert body["data"]["transferStock"] == {
        "stockLevel": None,
        "errors": [
            {
                "field": "quantity",
                "code": "INSUFFICIENT_STOCK",
                "message": "Not enough stock available in the source warehouse",
            }
        ],
    }
    assert await ledger_state(session_maker) == before


async def test_a_transfer_to_the_same_warehouse_is_refused(
    gql: GraphQLClient, operator_token: str, stocked: dict[str, int]
) -> None:
    variables = transfer_input(stocked, 1)
    variables["input"]["toWarehouseId"] = variables["input"]["fromWarehouseId"]
    body = await gql(TRANSFER, variables, operator_token)
    errors = body["data"]["transferStock"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("toWarehouseId", "INVALID")]


async def test_unknown_products_and_warehouses_are_not_found(
    gql: GraphQLClient, operator_token: str, stocked: dict[str, int]
) -> None:
    missing = {**stocked, "a": 999_999}
    body = await gql(RECEIVE, stock_input(missing, "a", "main", quantity=1), operator_token)
    assert body["data"]["receiveStock"]["errors"][0]["code"] == "NOT_FOUND"
    missing = {**stocked, "main": 999_999}
    body = await gql(RECEIVE, stock_input(missing, "a", "main", quantity=1), operator_token)
    assert [(e["field"], e["code"]) for e in body["data"]["receiveStock"]["errors"]] == [
        ("warehouseId", "NOT_FOUND")
    ]


async def test_an_id_of_another_type_is_bad_user_input(
    gql: GraphQLClient, operator_token: str, stocked: dict[str, int]
) -> None:
    variables = stock_input(stocked, "a", "main", quantity=1)
    variables["input"]["warehouseId"] = global_id("Product", stocked["a"])
    body = await gql(RECEIVE, variables, operator_token)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["argument"] == "input.warehouseId"


async def test_every_stock_mutation_is_audited(
    gql: GraphQLClient,
    operator_token: str,
    session_maker: SessionMaker,
    stocked: dict[str, int],
) -> None:
    await gql(RECEIVE, stock_input(stocked, "a", "main", quantity=1), operator_token)
    await gql(ADJUST, stock_input(stocked, "a", "main", quantity=-1, reason="x"), operator_token)
    await gql(TRANSFER, transfer_input(stocked, 1), operator_token)

    async with unit_of_work(session_maker) as session:
        rows = await session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))
        entries = [(entry.action, entry.entity, entry.changes) for entry in rows]
    a, main, east = stocked["a"], stocked["main"], stocked["east"]
    assert entries[-3:] == [
        (
            "stock.receive",
            "StockLevel",
            {"product_id": a, "warehouse_id": main, "quantity": 1, "reason": None},
        ),
        (
            "stock.adjust",
            "StockLevel",
            {"product_id": a, "warehouse_id": main, "quantity": -1, "reason": "x"},
        ),
        (
            "stock.transfer",
            "StockLevel",
            {"product_id": a, "warehouse_id": main, "to_warehouse_id": east, "quantity": 1},
        ),
    ]

"""SPEC §6 for every inventory root field: warehouses, stock, movements and inventory checks
are for operators and admins; others get UNAUTHENTICATED or FORBIDDEN and change nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from strawberry.types.base import get_object_definition
from strawberry.utils.str_converters import to_camel_case

from hom.core.db import SessionMaker
from hom.core.roles import Role
from hom.inventory.schema import InventoryMutation, InventoryQuery
from tests.accounts.test_role_matrix import CALLERS, DENY, OK, UNAUTH, Expect
from tests.catalog.factories import create_category, create_product, global_id
from tests.factories import create_user, login_tokens
from tests.inventory.factories import create_check, create_warehouse, stock
from tests.inventory.stock import ledger_state
from tests.support import GraphQLClient, error_codes

# field              anonymous  CUSTOMER  STAFF  OPERATOR  ADMIN
MATRIX: dict[str, tuple[Expect, Expect, Expect, Expect, Expect]] = {
    "warehouses":       (UNAUTH, DENY,     DENY,  OK,       OK),
    "warehouse":        (UNAUTH, DENY,     DENY,  OK,       OK),
    "stockLevels":      (UNAUTH, DENY,     DENY,  OK,       OK),
    "stockMovements":   (UNAUTH, DENY,     DENY,  OK,       OK),
    "inventoryChecks":  (UNAUTH, DENY,     DENY,  OK,       OK),
    "createWarehouse":      (UNAUTH, DENY, DENY,  OK,       OK),
    "updateWarehouse":      (UNAUTH, DENY, DENY,  OK,       OK),
    "receiveStock":         (UNAUTH, DENY, DENY,  OK,       OK),
    "adjustStock":          (UNAUTH, DENY, DENY,  OK,       OK),
    "transferStock":        (UNAUTH, DENY, DENY,  OK,       OK),
    "startInventoryCheck":  (UNAUTH, DENY, DENY,  OK,       OK),
    "recordInventoryCount": (UNAUTH, DENY, DENY,  OK,       OK),
    "closeInventoryCheck":  (UNAUTH, DENY, DENY,  OK,       OK),
}  # fmt: skip

EDGES = "{ edges { node { id } } }"
QUERIES: dict[str, str] = {
    "warehouses": "{ warehouses { id } }",
    "warehouse": "query ($main: ID!) { warehouse(id: $main) { id code } }",
    "stockLevels": f"query ($main: ID!) {{ stockLevels(filter: {{warehouseId: $main}}) {EDGES} }}",
    "stockMovements": (
        f"query ($main: ID!) {{ stockMovements(filter: {{warehouseId: $main}}) {EDGES} }}"
    ),
    "inventoryChecks": "{ inventoryChecks " + EDGES + " }",
}
LEVEL = "{ stockLevel { onHand } errors { code } }"
CHECK = "{ inventoryCheck { status } errors { code } }"
MUTATIONS: dict[str, tuple[str, str, dict[str, Any]]] = {
    # name: (its arguments, the payload's selection, the variables beyond the ids)
    "createWarehouse": (
        'input: {name: "North", code: "NORTH"}',
        "{ warehouse { code } errors { code } }",
        {},
    ),
    "updateWarehouse": (
        'input: {id: $main, name: "Renamed"}',
        "{ warehouse { name } errors { code } }",
        {},
    ),
    "receiveStock": (
        "input: {productId: $product, warehouseId: $main, quantity: 2}",
        LEVEL,
        {},
    ),
    "adjustStock": (
        'input: {productId: $product, warehouseId: $main, quantity: -1, reason: "Broken"}',
        LEVEL,
        {},
    ),
    "transferStock": (
        "input: {productId: $product, fromWarehouseId: $main, toWarehouseId: $east, quantity: 1}",
        LEVEL,
        {},
    ),
    "startInventoryCheck": ("warehouseId: $main", CHECK, {}),
    "recordInventoryCount": (
        "input: {checkId: $check, productId: $product, countedQuantity: 2}",
        CHECK,
        {},
    ),
    "closeInventoryCheck": ("id: $check", CHECK, {}),
}


def mutation(name: str) -> str:
    arguments, selection, _ = MUTATIONS[name]
    used = [v for v in ("main", "east", "product", "check") if f"${v}" in arguments]
    declared = ", ".join(f"${v}: ID!" for v in used)
    head = f"mutation ({declared})" if declared else "mutation"
    return f"{head} {{ {name}({arguments}) {selection} }}"


OPERATIONS: dict[str, str] = {**QUERIES, **{name: mutation(name) for name in MUTATIONS}}


def matrix_cases() -> list[Any]:
    return [
        pytest.param(name, caller, expected, id=f"{name}-{caller or 'anonymous'}")
        for name, row in MATRIX.items()
        for caller, expected in zip(CALLERS, row, strict=True)
    ]


def test_matrix_covers_every_inventory_root_field() -> None:
    fields = {
        to_camel_case(f.python_name)
        for root in (InventoryQuery, InventoryMutation)
        for f in get_object_definition(root, strict=True).fields
    }
    assert fields == set(MATRIX) == set(OPERATIONS)


def non_empty(answer: Any) -> bool:
    """A list with something in it, an object, or a connection with an edge."""
    return bool(answer["edges"]) if isinstance(answer, dict) and "edges" in answer else bool(answer)


@pytest.mark.parametrize(("name", "caller", "expected"), matrix_cases())
async def test_role_matrix(
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    name: str,
    caller: Role | None,
    expected: Expect,
) -> None:
    product = await create_product(session_maker, await create_category(session_maker, "K"))
    warehouse = await create_warehouse(session_maker, "MAIN")
    east = await create_warehouse(session_maker, "EAST")
    await stock(session_maker, product, warehouse, 3)
    check = await create_check(session_maker, east)
    ids = {
        "main": global_id("Warehouse", warehouse.id),
        "east": global_id("Warehouse", east.id),
        "product": global_id("Product", product.id),
        "check": global_id("InventoryCheck", check.id),
    }
    token: str | None = None
    if caller is not None:
        user = await create_user(session_maker, role=caller)
        token = (await login_tokens(client, user.email)).access_token

    document = OPERATIONS[name]
    variables = {key: value for key, value in ids.items() if f"${key}" in document}
    before = await ledger_state(session_maker)

    body = await gql(document, variables, token=token)

    codes = error_codes(body)
    if expected is Expect.OK:
        assert codes == [], body
        assert non_empty(body["data"][name]), body
        if name in MUTATIONS:
            assert body["data"][name]["errors"] == [], body
    else:
        assert codes == [expected.value], body
        assert body["errors"][0]["path"] == [name]
        assert body["data"] is None or body["data"][name] is None, body
        assert await ledger_state(session_maker) == before, "a refused caller changed nothing"

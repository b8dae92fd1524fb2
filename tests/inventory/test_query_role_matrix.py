"""SPEC §6 for every inventory query root field: stock, movements and inventory checks are
for operators and admins; others get UNAUTHENTICATED or FORBIDDEN."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from strawberry.types.base import get_object_definition
from strawberry.utils.str_converters import to_camel_case

from hom.core.db import SessionMaker
from hom.core.roles import Role
from hom.inventory.schema import InventoryQuery
from tests.accounts.test_role_matrix import CALLERS, DENY, OK, UNAUTH, Expect
from tests.catalog.factories import create_category, create_product, global_id
from tests.factories import create_user, login_tokens
from tests.inventory.factories import create_check, create_warehouse, stock
from tests.support import GraphQLClient, error_codes

# field              anonymous  CUSTOMER  STAFF  OPERATOR  ADMIN
MATRIX: dict[str, tuple[Expect, Expect, Expect, Expect, Expect]] = {
    "warehouses":       (UNAUTH, DENY,     DENY,  OK,       OK),
    "warehouse":        (UNAUTH, DENY,     DENY,  OK,       OK),
    "stockLevels":      (UNAUTH, DENY,     DENY,  OK,       OK),
    "stockMovements":   (UNAUTH, DENY,     DENY,  OK,       OK),
    "inventoryChecks":  (UNAUTH, DENY,     DENY,  OK,       OK),
}  # fmt: skip

EDGES = "{ edges { node { id } } }"
OPERATIONS: dict[str, str] = {
    "warehouses": "{ warehouses { id } }",
    "warehouse": "query ($id: ID!) { warehouse(id: $id) { id code } }",
    "stockLevels": f"query ($id: ID!) {{ stockLevels(filter: {{warehouseId: $id}}) {EDGES} }}",
    "stockMovements": (
        f"query ($id: ID!) {{ stockMovements(filter: {{warehouseId: $id}}) {EDGES} }}"
    ),
    "inventoryChecks": (
        f"query ($id: ID!) {{ inventoryChecks(filter: {{warehouseId: $id}}) {EDGES} }}"
    ),
}


def matrix_cases() -> list[Any]:
    return [
        pytest.param(name, caller, expected, id=f"{name}-{caller or 'anonymous'}")
        for name, row in MATRIX.items()
        for caller, expected in zip(CALLERS, row, strict=True)
    ]


def test_matrix_covers_every_inventory_query_field() -> None:
    definition = get_object_definition(InventoryQuery, strict=True)
    fields = {to_camel_case(f.python_name) for f in definition.fields}
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
    await stock(session_maker, product, warehouse, 3)
    await create_check(session_maker, warehouse)
    token: str | None = None
    if caller is not None:
        user = await create_user(session_maker, role=caller)
        token = (await login_tokens(client, user.email)).access_token

    body = await gql(OPERATIONS[name], {"id": global_id("Warehouse", warehouse.id)}, token=token)

    codes = error_codes(body)
    if expected is Expect.OK:
        assert codes == [], body
        assert non_empty(body["data"][name]), body
    else:
        assert codes == [expected.value], body
        assert body["errors"][0]["path"] == [name]
        assert body["data"] is None or body["data"][name] is None, body

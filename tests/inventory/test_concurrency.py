"""Concurrent stock changes over HTTP against the real database: the levels' guards hold."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func
from sqlmodel import col, select

from hom.core.db import SessionMaker
from hom.core.roles import Role
from hom.core.unit_of_work import unit_of_work
from hom.inventory.models import StockMovement
from tests.catalog.factories import global_id
from tests.factories import signed_in
from tests.inventory.stock import a_warehouse, an_operator, receive, some_products, stock_levels
from tests.support import GraphQLClient

ADJUST = """mutation ($input: AdjustStockInput!) {
  adjustStock(input: $input) { stockLevel { onHand } errors { code } }
}"""


async def test_fifty_concurrent_decrements_of_twenty_succeed_exactly_twenty_times(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    actor = await an_operator(session_maker)
    main = await a_warehouse(session_maker, "MAIN", actor)
    (product,) = await some_products(session_maker, 1)
    await receive(session_maker, product, main, 20)
    _, tokens = await signed_in(client, session_maker, Role.OPERATOR)
    variables = {
        "input": {
            "productId": global_id("Product", product),
            "warehouseId": global_id("Warehouse", main),
            "quantity": -1,
            "reason": "Shrinkage",
        }
    }

    bodies = await asyncio.gather(*(gql(ADJUST, variables, tokens.access_token) for _ in range(50)))

    outcomes = [tuple(e["code"] for e in body["data"]["adjustStock"]["errors"]) for body in bodies]
    assert outcomes.count(()) == 20
    assert outcomes.count(("INSUFFICIENT_STOCK",)) == 30
    assert await stock_levels(session_maker) == {(product, main): (0, 0)}
    async with unit_of_work(session_maker) as session:
        ledger_sum = await session.scalar(
            select(func.sum(col(StockMovement.quantity))).where(
                col(StockMovement.product_id) == product
            )
        )
        decrements = await session.scalar(
            select(func.count()).where(col(StockMovement.kind) == "ADJUSTMENT")
        )
    assert (ledger_sum, decrements) == (0, 20)

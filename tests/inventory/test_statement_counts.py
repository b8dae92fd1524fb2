"""Inventory reads cost statements by depth, never by list size (SPEC §5, STYLE rule 3)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from starlette.applications import Starlette

from hom.app import learn_database_features
from hom.core.db import SessionMaker
from hom.core.roles import Role
from hom.inventory.models import MovementKind
from tests.catalog.factories import create_category, create_products
from tests.factories import create_user, signed_in
from tests.inventory.factories import create_check, create_warehouse, move, stock
from tests.support import GraphQLClient, count_statements

MOVEMENTS = """query ($first: Int!) {
  stockMovements(first: $first) { edges { node {
    quantity product { name } warehouse { code } actor { fullName }
  } } }
}"""
# The page, then one batch each of its products, warehouses and actors.
MOVEMENTS_STATEMENTS = 4

PRODUCTS = """query ($first: Int!) {
  products(first: $first) { edges { node {
    name availableQuantity stockLevels { warehouse { code } available }
  } } }
}"""
# The compiled path: one statement. The executor: the page, the available quantities,
# the levels, the levels' warehouses.
PRODUCTS_STATEMENTS = {"compiled": 1, "executor": 4}

SIZES = (1, 10, 40)
START = datetime(2026, 3, 1, tzinfo=UTC)


async def stock_everything(session_maker: SessionMaker, count: int) -> None:
    """`count` products, each stocked in one of three warehouses and adjusted by one of two
    users: `2 * count` movements touching every product, warehouse and actor."""
    kitchen = await create_category(session_maker, "Kitchen")
    products = await create_products(session_maker, kitchen, count)
    warehouses = [await create_warehouse(session_maker, f"W{n}") for n in range(3)]
    actors = [await create_user(session_maker, full_name=f"Actor {n}") for n in range(2)]
    for n, product in enumerate(products):
        level = await stock(session_maker, product, warehouses[n % 3], 10 + n)
        actor = actors[n % 2]
        await move(session_maker, level, MovementKind.ADJUSTMENT, -1, actor_id=actor.id)


async def test_the_ledger_costs_the_same_for_any_page_size(
    app: Starlette, client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    await stock_everything(session_maker, max(SIZES))
    _, tokens = await signed_in(client, session_maker, Role.OPERATOR)
    counts = {}
    for first in SIZES:
        with count_statements(app.state.services.engine) as log:
            body = await gql(MOVEMENTS, {"first": first}, token=tokens.access_token)
        assert "errors" not in body, body
        nodes = [edge["node"] for edge in body["data"]["stockMovements"]["edges"]]
        assert len(nodes) == first
        assert nodes[0]["actor"]["fullName"].startswith("Actor")
        assert all(node["product"] and node["warehouse"] for node in nodes)
        counts[first] = log.count
    assert set(counts.values()) == {MOVEMENTS_STATEMENTS}, counts


@pytest.mark.parametrize("path", ["compiled", "executor"])
async def test_products_with_their_stock_cost_the_same_for_any_page_size(
    app: Starlette,
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    path: str,
) -> None:
    app.state.compiled.enabled = path == "compiled"
    await stock_everything(session_maker, max(SIZES))
    _, tokens = await signed_in(client, session_maker, Role.OPERATOR)
    await learn_database_features(app.state.services)  # what start-up does (pg_trgm)
    counts = {}
    for first in SIZES:
        with count_statements(app.state.services.engine) as log:
            body = await gql(PRODUCTS, {"first": first}, token=tokens.access_token)
        assert "errors" not in body, body
        nodes = [edge["node"] for edge in body["data"]["products"]["edges"]]
        assert len(nodes) == first
        for node in nodes:
            (level,) = node["stockLevels"]
            assert level["warehouse"]["code"].startswith("W")
            assert node["availableQuantity"] == level["available"]
        counts[first] = log.count
    assert set(counts.values()) == {PRODUCTS_STATEMENTS[path]}, counts


CHECKS = """query ($first: Int!) {
  inventoryChecks(first: $first) { edges { node {
    status warehouse { code } openedBy { fullName } closedBy { fullName }
    counts { difference product { name } countedBy { fullName } }
  } } }
}"""
# The page, its warehouses, its people (opened and closed by: one batch), the counts,
# the counts' products (the counters are the people already loaded).
CHECKS_STATEMENTS = 5


async def count_everything(session_maker: SessionMaker, count: int) -> None:
    """`count` closed stock-takes over three warehouses, each with two counts."""
    kitchen = await create_category(session_maker, "Kitchen")
    products = await create_products(session_maker, kitchen, 4)
    warehouses = [await create_warehouse(session_maker, f"W{n}") for n in range(3)]
    actors = [await create_user(session_maker, full_name=f"Actor {n}") for n in range(2)]
    for n in range(count):
        lines = [(products[n % 4], 3, 2), (products[(n + 1) % 4], 1, 2)]
        await create_check(
            session_maker,
            warehouses[n % 3],
            counts=lines,
            opened_by_id=actors[n % 2].id,
            closed_at=START,
        )


async def test_stock_takes_cost_the_same_for_any_page_size(
    app: Starlette, client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    await count_everything(session_maker, max(SIZES))
    _, tokens = await signed_in(client, session_maker, Role.OPERATOR)
    counts = {}
    for first in SIZES:
        with count_statements(app.state.services.engine) as log:
            body = await gql(CHECKS, {"first": first}, token=tokens.access_token)
        assert "errors" not in body, body
        nodes = [edge["node"] for edge in body["data"]["inventoryChecks"]["edges"]]
        assert len(nodes) == first
        assert all(len(node["counts"]) == 2 and node["closedBy"] for node in nodes)
        counts[first] = log.count
    assert set(counts.values()) == {CHECKS_STATEMENTS}, counts

"""Inventory rules that HTTP cannot show: reservations for orders, all or nothing, under
concurrency; the warehouse-choice rule."""

from __future__ import annotations

import asyncio
import random

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from hom.core.db import SessionMaker
from hom.core.errors import DomainError, ErrorCode
from hom.core.unit_of_work import unit_of_work
from hom.inventory import service, warehouses
from hom.inventory.allocation import Source, choose_warehouses
from hom.inventory.models import StockMovement, Warehouse
from hom.inventory.service import Line
from tests.inventory.stock import a_warehouse, an_operator, receive, some_products, stock_levels


def test_a_line_draws_from_the_warehouse_with_the_most_available_first() -> None:
    sources = [Source(1, 4), Source(2, 9), Source(3, 9), Source(4, 0)]
    assert choose_warehouses(sources, 5) == [(2, 5)]
    assert choose_warehouses(sources, 12) == [(2, 9), (3, 3)]
    assert choose_warehouses(sources, 22) == [(2, 9), (3, 9), (1, 4)]
    assert choose_warehouses(sources, 23) is None
    assert choose_warehouses([], 1) is None


async def test_reserve_ship_and_release_move_the_levels_and_write_the_ledger(
    session_maker: SessionMaker,
) -> None:
    actor = await an_operator(session_maker)
    main, east = [await a_warehouse(session_maker, code, actor) for code in ("MAIN", "EAST")]
    a, b = await some_products(session_maker, 2)
    await receive(session_maker, a, main, 3)
    await receive(session_maker, a, east, 5)
    await receive(session_maker, b, main, 2)

    async with unit_of_work(session_maker) as session:
        await service.reserve(session, lines=[Line(a, 6), Line(b, 1), Line(b, 1)], order_id=7)
    assert await stock_levels(session_maker) == {
        (a, main): (3, 1),
        (a, east): (5, 5),
        (b, main): (2, 2),
    }

    async with unit_of_work(session_maker) as session:
        await service.ship(session, order_id=7)
        assert await service.release(session, order_id=7) == []  # nothing held any more
    assert await stock_levels(session_maker) == {
        (a, main): (2, 0),
        (a, east): (0, 0),
        (b, main): (0, 0),
    }

    async with unit_of_work(session_maker) as session:
        await service.reserve(session, lines=[Line(a, 2)], order_id=8)
        await service.release(session, order_id=8)
        kinds = (
            await session.exec(
                select(col(StockMovement.kind))
                .where(col(StockMovement.order_id) == 8)
                .order_by(col(StockMovement.id))
            )
        ).all()
    assert kinds == ["RESERVATION", "RELEASE"]
    assert (await stock_levels(session_maker))[(a, main)] == (2, 0)


async def test_a_reservation_that_cannot_be_covered_changes_nothing(
    session_maker: SessionMaker,
) -> None:
    actor = await an_operator(session_maker)
    main = await a_warehouse(session_maker, "MAIN", actor)
    a, b = await some_products(session_maker, 2)
    await receive(session_maker, a, main, 5)
    await receive(session_maker, b, main, 1)
    before = await stock_levels(session_maker)

    with pytest.raises(DomainError) as refused:
        async with unit_of_work(session_maker) as session:
            await service.reserve(session, lines=[Line(a, 5), Line(b, 2)], order_id=1)

    assert refused.value.code is ErrorCode.INSUFFICIENT_STOCK
    assert str(b) in refused.value.message
    assert await stock_levels(session_maker) == before


async def test_inactive_warehouses_supply_no_reservation(session_maker: SessionMaker) -> None:
    actor = await an_operator(session_maker)
    main = await a_warehouse(session_maker, "MAIN", actor)
    (a,) = await some_products(session_maker, 1)
    await receive(session_maker, a, main, 5)
    async with unit_of_work(session_maker) as session:
        changes = warehouses.WarehouseChanges(warehouse_id=main, is_active=False)
        await warehouses.update_warehouse(session, changes=changes, actor=actor)

    with pytest.raises(DomainError) as refused:
        async with unit_of_work(session_maker) as session:
            await service.reserve(session, lines=[Line(a, 1)], order_id=1)
    assert refused.value.code is ErrorCode.INSUFFICIENT_STOCK


async def test_concurrent_reservations_in_opposite_orders_neither_deadlock_nor_oversell(
    session_maker: SessionMaker,
) -> None:
    actor = await an_operator(session_maker)
    main, east = [await a_warehouse(session_maker, code, actor) for code in ("MAIN", "EAST")]
    a, b = await some_products(session_maker, 2)
    for product in (a, b):
        await receive(session_maker, product, main, 30)
        await receive(session_maker, product, east, 30)
    shuffle = random.Random(10)

    async def reserve(order_id: int) -> ErrorCode | None:
        lines = [Line(a, shuffle.randint(1, 2)), Line(b, shuffle.randint(1, 2))]
        if order_id % 2:
            lines.reverse()
        try:
            async with unit_of_work(session_maker) as session:
                await service.reserve(session, lines=lines, order_id=order_id)
        except DomainError as error:
            return error.code
        return None

    outcomes = await asyncio.gather(*(reserve(order_id) for order_id in range(1, 101)))

    assert set(outcomes) == {None, ErrorCode.INSUFFICIENT_STOCK}  # 100 orders of ~3 each > 60
    final = await stock_levels(session_maker)
    assert all(0 <= reserved <= on_hand for on_hand, reserved in final.values())
    async with unit_of_work(session_maker) as session:
        rows = await (await session.connection()).execute(
            text(
                "SELECT order_id, sum(quantity) FROM stock_movement"
                " WHERE kind = 'RESERVATION' GROUP BY 1"
            )
        )
        held = dict(rows.all())
    assert sum(reserved for _, reserved in final.values()) == sum(held.values())
    assert len(held) == outcomes.count(None)


async def test_warehouse_codes_are_unique(session_maker: SessionMaker) -> None:
    actor = await an_operator(session_maker)
    await a_warehouse(session_maker, "MAIN", actor)
    with pytest.raises(DomainError) as refused:
        await a_warehouse(session_maker, "MAIN", actor)
    assert (refused.value.code, refused.value.field) == (ErrorCode.ALREADY_EXISTS, "code")
    async with unit_of_work(session_maker) as session:
        count = len((await session.exec(select(Warehouse))).all())
    assert count == 1

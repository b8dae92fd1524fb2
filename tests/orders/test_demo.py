"""The demo's orders: every state, through the real services, idempotent, the ledger clean."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from hom.catalog import demo as catalog_demo
from hom.core.demo import SeedReport
from hom.core.unit_of_work import SessionMaker, unit_of_work
from hom.inventory.demo import seed_inventory
from hom.inventory.reconcile import check_ledger
from hom.orders import demo
from hom.orders.models import OrderStatus

PRODUCTS = 200
STATES = "SELECT status, count(*) FROM customer_order GROUP BY status ORDER BY status"
# Everything the orders left behind, to compare two runs by.
TRACES = """
SELECT (SELECT count(*) FROM customer_order), (SELECT count(*) FROM order_line),
       (SELECT count(*) FROM stock_movement), (SELECT count(*) FROM outbox_message),
       (SELECT count(*) FROM notification), (SELECT count(*) FROM audit_entry),
       (SELECT sum(reserved) FROM stock_level)
"""
MOVEMENTS = """
SELECT kind, count(*) FROM stock_movement WHERE order_id IS NOT NULL GROUP BY kind ORDER BY kind
"""


async def seed(maker: SessionMaker) -> SeedReport:
    async with unit_of_work(maker) as session:
        report = await catalog_demo.seed_demo(session, products=PRODUCTS)
        await seed_inventory(session, report=report)
        await demo.seed_orders(session, report=report)
    return report


async def rows_of(maker: SessionMaker, sql: str) -> list[tuple[object, ...]]:
    async with maker() as session:
        return [tuple(row) for row in await session.exec(text(sql))]  # type: ignore[call-overload]


@pytest.fixture
def maker(session_maker: SessionMaker) -> SessionMaker:
    """The app's sessions: they publish the orders' notifications after commit."""
    return session_maker


async def test_the_demo_has_orders_in_every_state(maker: SessionMaker) -> None:
    report = await seed(maker)
    assert report.counts["orders"].created == len(demo.PLAN)
    assert report.counts["operators"].created == 1
    states = dict(await rows_of(maker, STATES))
    assert set(states) == {status.value for status in OrderStatus}
    assert states == {
        status.value: sum(planned.status is status for planned in demo.PLAN)
        for status in OrderStatus
    }
    kinds = dict(await rows_of(maker, MOVEMENTS))
    assert set(kinds) == {"RESERVATION", "SHIPMENT", "RELEASE"}, "the real services moved stock"
    ((orders, lines, _, mails, notices, audits, _),) = await rows_of(maker, TRACES)
    assert orders == len(demo.PLAN)
    assert lines >= orders
    assert isinstance(mails, int)
    assert mails >= orders, "order received, order cancelled"
    assert isinstance(notices, int)
    assert notices >= orders
    assert audits, "the shop's steps are audited"


async def test_the_ledger_stays_clean(maker: SessionMaker) -> None:
    await seed(maker)
    async with maker() as session:
        check = await check_ledger(session)
    assert check.levels_checked > 0
    assert check.differences == []


async def test_seeding_again_creates_nothing(maker: SessionMaker) -> None:
    await seed(maker)
    traces = await rows_of(maker, TRACES)
    states = await rows_of(maker, STATES)

    second = await seed(maker)
    assert second.counts["orders"].created == 0
    assert second.counts["orders"].existing == len(demo.PLAN)
    assert second.counts["operators"].created == 0
    assert await rows_of(maker, TRACES) == traces
    assert await rows_of(maker, STATES) == states

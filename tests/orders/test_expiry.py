"""Unpaid orders expire: with a fixed clock, the job cancels those older than the payment
timeout, releases their stock and mails their customers, once, however many workers run."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from hom.core.config import Settings
from hom.core.unit_of_work import SessionMaker, unit_of_work
from hom.orders import checkout, jobs, service
from hom.orders.models import OrderStatus
from tests.orders.shop import (
    a_customer,
    a_shop,
    levels,
    mails,
    movements_of,
    notification_kinds,
    place,
    stored_order,
)

PLACED = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
TIMEOUT = timedelta(minutes=60)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The orders' clock, fixed (the modules that read the time: placing, steps, the job)."""
    fixed = Clock(PLACED)
    for module in (checkout, service, jobs):
        monkeypatch.setattr(module, "utcnow", fixed)
    return fixed


async def test_an_unpaid_order_expires_after_the_timeout_and_its_stock_is_released(
    session_maker: SessionMaker, clock: Clock
) -> None:
    shop = await a_shop(session_maker, 10, 10)
    a, b = shop.products
    customer = await a_customer(session_maker)
    unpaid = await place(session_maker, customer, {a: 2, b: 1}, key="unpaid")
    paid = await place(session_maker, customer, {a: 1}, key="paid")
    assert unpaid.id is not None
    assert paid.id is not None
    async with unit_of_work(session_maker) as session:
        await service.mark_order_paid(session, order_id=paid.id, actor=shop.operator)

    clock.now = PLACED + TIMEOUT - timedelta(seconds=1)
    assert await jobs.expire_unpaid_orders(session_maker=session_maker, unpaid_for=TIMEOUT) == 0
    assert (await stored_order(session_maker, unpaid.id)).status == "PENDING_PAYMENT"

    clock.now = PLACED + TIMEOUT + timedelta(seconds=1)
    assert await jobs.expire_unpaid_orders(session_maker=session_maker, unpaid_for=TIMEOUT) == 1

    expired = await stored_order(session_maker, unpaid.id)
    assert (expired.status, expired.cancel_reason) == ("CANCELLED", service.EXPIRED)
    assert expired.cancelled_at == clock.now
    assert (await stored_order(session_maker, paid.id)).status == "PAID"
    assert await levels(session_maker) == {a: (10, 1), b: (10, 0)}  # the paid order's 1 of a
    assert [kind for kind, _, _ in await movements_of(session_maker, unpaid.id)] == [
        "RESERVATION",
        "RESERVATION",
        "RELEASE",
        "RELEASE",
    ]
    cancelled = [m for m in await mails(session_maker) if m.template == "order_cancelled"]
    assert [m.context["order"] for m in cancelled] == [unpaid.number]
    assert (await notification_kinds(session_maker, customer.user_id))[-1] == "order.cancelled"
    assert await jobs.expire_unpaid_orders(session_maker=session_maker, unpaid_for=TIMEOUT) == 0


async def test_several_workers_expire_each_order_once(
    session_maker: SessionMaker, clock: Clock
) -> None:
    shop = await a_shop(session_maker, 50, 50)
    a, _ = shop.products
    orders = [
        await place(session_maker, await a_customer(session_maker), {a: 1}) for _ in range(12)
    ]
    clock.now = PLACED + 2 * TIMEOUT

    counts = await asyncio.gather(
        *(
            jobs.expire_unpaid_orders(session_maker=session_maker, unpaid_for=TIMEOUT)
            for _ in range(4)
        )
    )

    assert sum(counts) == 12
    for order in orders:
        assert order.id is not None
        assert (await stored_order(session_maker, order.id)).status == "CANCELLED"
        kinds = [kind for kind, _, _ in await movements_of(session_maker, order.id)]
        assert kinds == ["RESERVATION", "RELEASE"]
    assert await levels(session_maker) == {a: (50, 0), shop.products[1]: (50, 0)}
    cancelled = [m for m in await mails(session_maker) if m.template == "order_cancelled"]
    assert len(cancelled) == 12


async def test_a_run_expires_at_most_its_limit(session_maker: SessionMaker, clock: Clock) -> None:
    shop = await a_shop(session_maker, 10, 10)
    for n in range(3):
        await place(session_maker, await a_customer(session_maker), {shop.products[0]: 1}, f"{n}")
    clock.now = PLACED + 2 * TIMEOUT

    assert (
        await jobs.expire_unpaid_orders(session_maker=session_maker, unpaid_for=TIMEOUT, limit=2)
        == 2
    )
    assert (
        await jobs.expire_unpaid_orders(session_maker=session_maker, unpaid_for=TIMEOUT, limit=2)
        == 1
    )


async def test_the_worker_runs_the_expiry_with_the_configured_timeout(
    session_maker: SessionMaker,
    clock: Clock,
    settings_factory: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings: Settings = settings_factory(order_payment_timeout_min=15)  # type: ignore[operator]
    monkeypatch.setattr(jobs, "get_settings", lambda: settings)
    shop = await a_shop(session_maker, 10, 10)
    order = await place(session_maker, await a_customer(session_maker), {shop.products[0]: 1})
    assert order.id is not None
    [job] = jobs.periodic_jobs(session_maker)
    assert job.name == "orders.expire_unpaid"

    clock.now = PLACED + timedelta(minutes=14)
    await job.run()
    assert (await stored_order(session_maker, order.id)).status == OrderStatus.PENDING_PAYMENT

    clock.now = PLACED + timedelta(minutes=16)
    await job.run()
    assert (await stored_order(session_maker, order.id)).status == OrderStatus.CANCELLED

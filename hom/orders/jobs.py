"""The orders' periodic work for `hom worker`: unpaid orders expire.

Each expired order is cancelled in a transaction of its own (its stock released, its
customer mailed), so a batch never holds many stock levels' locks at once, and several
workers share the orders due (`service.expire_unpaid_order` skips locked ones).
"""

from __future__ import annotations

from datetime import timedelta

import structlog

from hom.core.clock import utcnow
from hom.core.config import get_settings
from hom.core.periodic import PeriodicJob
from hom.core.unit_of_work import SessionMaker, unit_of_work
from hom.orders import service

log = structlog.get_logger("hom.orders")
EVERY = timedelta(minutes=1)
MAX_PER_RUN = 500


def payment_timeout() -> timedelta:
    """ORDER_PAYMENT_TIMEOUT_MIN (a job is given no settings: the process's own)."""
    return timedelta(minutes=get_settings().order_payment_timeout_min)


async def expire_unpaid_orders(
    *, session_maker: SessionMaker, unpaid_for: timedelta, limit: int = MAX_PER_RUN
) -> int:
    """Cancel the orders unpaid for longer than `unpaid_for` (at most `limit`); how many."""
    placed_before = utcnow() - unpaid_for
    expired = 0
    while expired < limit:
        async with unit_of_work(session_maker) as session:
            order = await service.expire_unpaid_order(session, placed_before=placed_before)
        if order is None:
            break
        expired += 1
    return expired


def periodic_jobs(session_maker: SessionMaker) -> list[PeriodicJob]:
    async def expire() -> None:
        expired = await expire_unpaid_orders(
            session_maker=session_maker, unpaid_for=payment_timeout()
        )
        if expired:
            log.info("unpaid orders expired", expired=expired)

    return [PeriodicJob("orders.expire_unpaid", EVERY, expire)]

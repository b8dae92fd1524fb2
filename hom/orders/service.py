"""Orders' rules, the module other code calls: placing an order (`hom.orders.checkout`),
moving it along its lifecycle (`hom.orders.lifecycle`), expiring unpaid ones, reading them.

Plain async functions over a session; they never commit (the caller's transaction does)
and never import strawberry. A step of the lifecycle is one conditional UPDATE
(`WHERE id = … AND status = <from>`): when it matches nothing, the step is refused with
INVALID_TRANSITION and nothing changed. Its effects (stock, mail, notification, audit)
follow in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.accounts import service as accounts
from hom.audit import service as audit
from hom.core.clock import utcnow
from hom.core.errors import DomainError, ErrorCode
from hom.core.reasons import check_reason
from hom.core.redis import RedisKeys
from hom.core.unit_of_work import after_commit, retried
from hom.core.viewer import Viewer
from hom.inventory import service as inventory
from hom.orders import cart, lifecycle, notices
from hom.orders.checkout import LineRefused as LineRefused
from hom.orders.checkout import fingerprint as fingerprint
from hom.orders.checkout import place_order as place_order
from hom.orders.lifecycle import Party, Step, Stock
from hom.orders.models import Order, OrderLine, OrderStatus

EXPIRED = "Not paid in time"


# --- checkout ------------------------------------------------------------------------------


async def check_out(
    session: AsyncSession, *, redis: Redis, keys: RedisKeys, user_id: int, idempotency_key: str
) -> Order:
    """Place an order for the user's cart (in Redis; `place_order` says what is refused),
    and empty the cart once the caller's transaction has committed (never before: a
    refused or failed checkout leaves the cart as it was)."""
    lines = await cart.lines(redis=redis, keys=keys, user_id=user_id)
    order = await place_order(
        session, user_id=user_id, lines=lines, idempotency_key=idempotency_key
    )
    after_commit(session, lambda: cart.clear(redis=redis, keys=keys, user_id=user_id))
    return order


# --- reading -------------------------------------------------------------------------------


async def get_order(session: AsyncSession, *, order_id: int) -> Order | None:
    return (await session.exec(select(Order).where(col(Order.id) == order_id))).one_or_none()


async def require_order(
    session: AsyncSession, *, order_id: int, actor: Viewer | None, field: str = "id"
) -> Order:
    """The order, when `actor` may see it (its customer, operators, admins; None is the
    system); anyone else's is NOT_FOUND, the same answer as for a missing one."""
    order = await get_order(session, order_id=order_id)
    if order is None or not lifecycle.parties(actor, owner_id=order.user_id):
        raise DomainError(ErrorCode.NOT_FOUND, "No such order", field)
    return order


async def lines_of(session: AsyncSession, *, order_id: int | None) -> list[OrderLine]:
    """An order's lines, in the order they were written."""
    statement = (
        select(OrderLine).where(col(OrderLine.order_id) == order_id).order_by(col(OrderLine.id))
    )
    return list((await session.exec(statement)).all())


# --- the lifecycle -------------------------------------------------------------------------


async def mark_order_paid(session: AsyncSession, *, order_id: int, actor: Viewer) -> Order:
    return await change_status(session, order_id=order_id, target=OrderStatus.PAID, actor=actor)


async def fulfill_order(session: AsyncSession, *, order_id: int, actor: Viewer) -> Order:
    """PAID → FULFILLED: what the order holds reserved leaves the warehouse (SHIPMENT)."""
    target = OrderStatus.FULFILLED
    return await change_status(session, order_id=order_id, target=target, actor=actor)


async def ship_order(session: AsyncSession, *, order_id: int, actor: Viewer) -> Order:
    return await change_status(session, order_id=order_id, target=OrderStatus.SHIPPED, actor=actor)


async def deliver_order(session: AsyncSession, *, order_id: int, actor: Viewer) -> Order:
    target = OrderStatus.DELIVERED
    return await change_status(session, order_id=order_id, target=target, actor=actor)


async def cancel_order(
    session: AsyncSession, *, order_id: int, actor: Viewer, reason: str | None = None
) -> Order:
    """Its customer cancels an unpaid order, operators an unpaid or paid one; the stock it
    holds is released."""
    target = OrderStatus.CANCELLED
    return await change_status(
        session, order_id=order_id, target=target, actor=actor, reason=reason
    )


async def change_status(
    session: AsyncSession,
    *,
    order_id: int,
    target: OrderStatus,
    actor: Viewer | None,
    reason: str | None = None,
) -> Order:
    """Take the table's step from the order's status to `target`, as `actor` (None: the
    system); INVALID_TRANSITION when there is no such step, `actor` may not take it, or the
    order moved meanwhile."""
    reason = check_reason(reason)

    async def attempt() -> Order:
        order = await require_order(session, order_id=order_id, actor=actor)
        step = _allowed_step(order, target, lifecycle.parties(actor, owner_id=order.user_id))
        moved = await _move(session, order, step, reason=reason)
        await _effects(session, moved, step, actor=actor)
        return moved

    return await retried(session, attempt)


def _allowed_step(order: Order, target: OrderStatus, parties: frozenset[Party]) -> Step:
    step = lifecycle.step(OrderStatus(order.status), target)
    if step is None:
        message = f"Order {order.number} is {order.status}: it cannot be {lifecycle.DONE[target]}"
        raise DomainError(ErrorCode.INVALID_TRANSITION, message, "id")
    if not step.allows(parties):
        message = f"Only the shop can have order {order.number} {lifecycle.DONE[target]} now"
        raise DomainError(ErrorCode.INVALID_TRANSITION, message, "id")
    return step


async def _move(session: AsyncSession, order: Order, step: Step, *, reason: str | None) -> Order:
    """The conditional UPDATE: only from `step.source`; refused when the order moved."""
    now = utcnow()
    values: dict[str, Any] = {"status": step.target.value, step.stamp: now, "updated_at": now}
    if step.target is OrderStatus.CANCELLED:
        values["cancel_reason"] = reason
    statement = (
        update(Order)
        .where(col(Order.id) == order.id, col(Order.status) == step.source.value)
        .values(**values)
        .returning(Order)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    moved: Order | None = (await session.exec(statement)).scalar_one_or_none()
    if moved is None:
        message = f"Order {order.number} changed meanwhile; nothing was done"
        raise DomainError(ErrorCode.INVALID_TRANSITION, message, "id")
    return moved


async def _effects(
    session: AsyncSession, order: Order, step: Step, *, actor: Viewer | None
) -> None:
    assert order.id is not None
    if step.stock is Stock.SHIP:
        await inventory.ship(session, order_id=order.id)
    elif step.stock is Stock.RELEASE:
        await inventory.release(session, order_id=order.id)
    if step.mail is not None:
        await _mail(session, order, step.mail)
    if step.notice:
        await notices.notify(session, order=order)
    if lifecycle.audited(actor):
        assert actor is not None
        changes = audit.diff({"status": step.source.value}, {"status": step.target.value})
        if order.cancel_reason:
            changes["reason"] = order.cancel_reason
        await audit.record(
            session,
            actor=actor,
            action=f"order.{step.action}",
            entity="Order",
            entity_id=order.id,
            changes=changes,
        )


async def _mail(session: AsyncSession, order: Order, template: str) -> None:
    customer = await accounts.get_user(session, user_id=order.user_id)
    if customer is None:
        return
    lines = await lines_of(session, order_id=order.id)
    await notices.mail(
        session,
        order=order,
        lines=lines,
        template=template,
        to=customer.email,
        name=customer.full_name,
    )


# --- expiry --------------------------------------------------------------------------------


async def expire_unpaid_order(session: AsyncSession, *, placed_before: datetime) -> Order | None:
    """Cancel one order still unpaid that was placed before `placed_before` (the oldest not
    being changed by anybody else right now: SKIP LOCKED, so that several workers share the
    work) and release its stock; None when there is none left."""
    due = (
        select(col(Order.id))
        .where(
            col(Order.status) == OrderStatus.PENDING_PAYMENT.value,
            col(Order.placed_at) < placed_before,
        )
        .order_by(col(Order.placed_at), col(Order.id))
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    order_id = (await session.exec(due)).one_or_none()
    if order_id is None:
        return None
    return await change_status(
        session, order_id=order_id, target=OrderStatus.CANCELLED, actor=None, reason=EXPIRED
    )


async def orders_by_ids(session: AsyncSession, *, ids: Sequence[int]) -> list[Order | None]:
    """Batch lookup in the order asked."""
    rows = await session.exec(select(Order).where(col(Order.id).in_(ids)))
    found = {order.id: order for order in rows}
    return [found.get(order_id) for order_id in ids]

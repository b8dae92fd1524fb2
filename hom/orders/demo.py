"""`hom seed-demo`'s orders: a few in every state, placed by the demo customers.

Each planned order is placed through checkout (`place_order`) and moved along its life
by the lifecycle's steps, as the shop would: so its stock movements (RESERVATION,
SHIPMENT, RELEASE), mails, in-app notifications and audit entries are what a real run
makes, and `hom check-inventory` stays clean. The shop's steps are taken by a demo
operator, `shop@demo.example.com`, whose password is random (nobody signs in as it; an
admin may reset it). Lines are 1 or 2 of active demo products with at least
`MIN_AVAILABLE` available, each product in one order only, picked by a fixed seed.

Idempotent: an order is known by its customer and its idempotency key
(`demo-order-<n>`); one that exists, whatever happened to it since, is left alone. Runs
after the catalog (customers, products) and the inventory (stock). The unpaid ones are
as real as the rest: a running worker cancels them after ORDER_PAYMENT_TIMEOUT_MIN.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.accounts import admin as accounts_admin
from hom.accounts import service as accounts
from hom.catalog import service as catalog
from hom.core.demo import DemoRun, SeedReport
from hom.core.roles import Role
from hom.core.viewer import Viewer
from hom.inventory import service as inventory
from hom.orders import service
from hom.orders.models import Order, OrderStatus

SEED = 20_260_319
OPERATOR_EMAIL = "shop@demo.example.com"
MIN_AVAILABLE = 5  # a product with fewer available is left to the people trying the demo
POOL = 400  # candidate products looked at (the first by sku)
S = OrderStatus
PAY, FULFIL, SHIP, DELIVER, CANCEL = S.PAID, S.FULFILLED, S.SHIPPED, S.DELIVERED, S.CANCELLED


@dataclass(frozen=True)
class PlannedOrder:
    customer: int  # the demo customer's number
    steps: tuple[OrderStatus, ...]  # the statuses it goes through after PENDING_PAYMENT
    by_customer: bool = False  # the customer takes the steps (cancels it), not the shop

    @property
    def status(self) -> OrderStatus:
        return self.steps[-1] if self.steps else S.PENDING_PAYMENT


# Numbered from 1 in this order (the key is demo-order-<n>); every state at least once.
PLAN = (
    PlannedOrder(1, ()),
    PlannedOrder(2, ()),
    PlannedOrder(3, (PAY,)),
    PlannedOrder(4, (PAY,)),
    PlannedOrder(5, (PAY, FULFIL)),
    PlannedOrder(6, (PAY, FULFIL, SHIP)),
    PlannedOrder(7, (PAY, FULFIL, SHIP, DELIVER)),
    PlannedOrder(8, (PAY, FULFIL, SHIP, DELIVER)),
    PlannedOrder(1, (CANCEL,), by_customer=True),
    PlannedOrder(2, (PAY, CANCEL)),
)
CANCEL_REASONS = {True: "Changed my mind", False: "Out of stock at the supplier"}


def idempotency_key(number: int) -> str:
    return f"demo-order-{number}"


async def seed(session: AsyncSession, *, run: DemoRun) -> None:
    """The orders' part of `hom seed-demo` (its declared `demo`): after the inventory's."""
    await seed_orders(session, report=run.report)


async def seed_orders(session: AsyncSession, *, report: SeedReport) -> None:
    """Place, and move along, every planned order of an existing customer not placed yet."""
    customers = await _customers(session)
    shop = await _shop(session, report)
    planned = [(n, order) for n, order in enumerate(PLAN, start=1) if order.customer in customers]
    missing = [
        (number, order)
        for number, order in planned
        if not await _placed(session, customers[order.customer], number)
    ]
    baskets = await _baskets(session, len(missing)) if missing else []
    for (number, order), lines in zip(missing, baskets, strict=False):
        await _place(session, number, order, customers[order.customer], lines, shop)
    placed = len(baskets)  # one per missing order, fewer when the stock ran short
    existing = len(planned) - len(missing)
    report.count("orders").add(wanted=existing + placed, created=placed)


async def _customers(session: AsyncSession) -> dict[int, int]:
    """{demo customer number: user id} for those that exist."""
    emails = {catalog.DEMO_CUSTOMER_EMAIL.format(number=p.customer): p.customer for p in PLAN}
    found = await accounts.user_ids_by_email(session, emails=list(emails))
    return {emails[email]: user_id for email, user_id in found.items()}


async def _placed(session: AsyncSession, user_id: int, number: int) -> bool:
    statement = select(col(Order.id)).where(
        col(Order.user_id) == user_id, col(Order.idempotency_key) == idempotency_key(number)
    )
    return (await session.exec(statement)).first() is not None


async def _shop(session: AsyncSession, report: SeedReport) -> Viewer:
    """The demo operator who takes the shop's steps, made on first use."""
    user = await accounts.find_by_email(session, email=OPERATOR_EMAIL)
    created = user is None
    if user is None:
        new = accounts_admin.NewUser(
            email=OPERATOR_EMAIL,
            password=secrets.token_urlsafe(24),
            full_name="Demo shop",
            role=Role.OPERATOR,
            email_verified=True,
        )
        user = await accounts_admin.create_user(session, new=new)
    report.count("operators").add(wanted=1, created=int(created))
    assert user.id is not None
    return _viewer(user.id, Role(user.role))


def _viewer(user_id: int, role: Role) -> Viewer:
    return Viewer(user_id=user_id, role=role, sid="demo", jti="demo", expires_at=0)


async def _baskets(session: AsyncSession, orders: int) -> list[dict[int, int]]:
    """Lines (product id → 1 or 2) for `orders` orders, no product in two of them; fewer
    baskets when the demo has too few products in stock."""
    product_id = cast("ColumnElement[int]", col(catalog.Product.id))
    statement = (
        select(product_id)
        .where(
            col(catalog.Product.sku).startswith(catalog.DEMO_SKU_PREFIX),
            col(catalog.Product.is_active),
            inventory.available_quantity(product_id) >= MIN_AVAILABLE,
        )
        .order_by(col(catalog.Product.sku))
        .limit(POOL)
    )
    pool: Sequence[int] = (await session.exec(statement)).all()
    rng = random.Random(SEED)  # noqa: S311 - demo data, not secrets
    sizes = [rng.randint(1, 3) for _ in range(orders)]
    picked = rng.sample(list(pool), min(len(pool), sum(sizes)))
    baskets = []
    for size in sizes:
        chosen, picked = picked[:size], picked[size:]
        if not chosen:
            break
        baskets.append({product: rng.randint(1, 2) for product in chosen})
    return baskets


async def _place(
    session: AsyncSession,
    number: int,
    planned: PlannedOrder,
    user_id: int,
    lines: dict[int, int],
    shop: Viewer,
) -> None:
    order = await service.place_order(
        session, user_id=user_id, lines=lines, idempotency_key=idempotency_key(number)
    )
    assert order.id is not None
    actor = _viewer(user_id, Role.CUSTOMER) if planned.by_customer else shop
    for target in planned.steps:
        reason = CANCEL_REASONS[planned.by_customer] if target is CANCEL else None
        await service.change_status(
            session, order_id=order.id, target=target, actor=actor, reason=reason
        )

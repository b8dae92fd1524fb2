"""An order's life: the transition table's rules, and each step carried out against the
real database (conditional updates, stock, mail, notifications, audit)."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from hom.core.errors import DomainError, ErrorCode
from hom.core.roles import Role
from hom.core.unit_of_work import SessionMaker, unit_of_work
from hom.core.viewer import Viewer
from hom.orders import lifecycle, service
from hom.orders.lifecycle import Party, Stock
from hom.orders.models import STAGE_CHECKS, Order, OrderStatus
from tests.orders.shop import (
    Shop,
    a_customer,
    a_shop,
    audit_actions,
    levels,
    mails,
    movements_of,
    notification_kinds,
    place,
    stored_order,
    traces,
)

S = OrderStatus
ALL_PAIRS = list(itertools.product(OrderStatus, OrderStatus))

# --- the table -----------------------------------------------------------------------------


def test_the_table_is_the_lifecycle_of_the_spec() -> None:
    assert set(lifecycle.TABLE) == {
        (S.PENDING_PAYMENT, S.PAID),
        (S.PAID, S.FULFILLED),
        (S.FULFILLED, S.SHIPPED),
        (S.SHIPPED, S.DELIVERED),
        (S.PENDING_PAYMENT, S.CANCELLED),
        (S.PAID, S.CANCELLED),
    }


@pytest.mark.parametrize(("source", "target"), ALL_PAIRS)
def test_a_pair_outside_the_table_has_no_step(source: OrderStatus, target: OrderStatus) -> None:
    found = lifecycle.step(source, target)
    assert (found is not None) == ((source, target) in lifecycle.TABLE)


def test_delivered_and_cancelled_are_the_end() -> None:
    for end in (S.DELIVERED, S.CANCELLED):
        assert not [pair for pair in lifecycle.TABLE if pair[0] is end]


def test_customers_may_only_cancel_their_unpaid_orders() -> None:
    owned = {pair for pair, step in lifecycle.TABLE.items() if step.allows({Party.OWNER})}
    assert owned == {(S.PENDING_PAYMENT, S.CANCELLED)}


def test_operators_may_take_every_step() -> None:
    assert all(step.allows({Party.OPERATOR}) for step in lifecycle.STEPS)


def test_the_system_only_expires_unpaid_orders() -> None:
    system = {pair for pair, step in lifecycle.TABLE.items() if step.allows({Party.SYSTEM})}
    assert system == {(S.PENDING_PAYMENT, S.CANCELLED)}


def test_cancelling_releases_and_fulfilling_ships() -> None:
    stock = {pair: step.stock for pair, step in lifecycle.TABLE.items()}
    assert {pair for pair, effect in stock.items() if effect is Stock.RELEASE} == {
        (S.PENDING_PAYMENT, S.CANCELLED),
        (S.PAID, S.CANCELLED),
    }
    assert {pair for pair, effect in stock.items() if effect is Stock.SHIP} == {
        (S.PAID, S.FULFILLED)
    }


def test_every_step_sets_the_stamp_the_database_checks() -> None:
    checked = {stamp for stamp, _ in STAGE_CHECKS.values()} | {"cancelled_at"}
    assert {step.stamp for step in lifecycle.STEPS} == checked
    for step in lifecycle.STEPS:
        assert step.stamp in Order.model_fields


def viewer(user_id: int, role: Role) -> Viewer:
    return Viewer(user_id=user_id, role=role, sid="s", jti="j", expires_at=0)


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (None, {Party.SYSTEM}),
        (viewer(7, Role.CUSTOMER), {Party.OWNER}),
        (viewer(8, Role.CUSTOMER), set()),
        (viewer(8, Role.STAFF), set()),
        (viewer(8, Role.OPERATOR), {Party.OPERATOR}),
        (viewer(8, Role.ADMIN), {Party.OPERATOR}),
        (viewer(7, Role.OPERATOR), {Party.OWNER, Party.OPERATOR}),
    ],
)
def test_what_an_actor_is_to_an_order(actor: Viewer | None, expected: set[Party]) -> None:
    assert lifecycle.parties(actor, owner_id=7) == expected


# --- steps against the database ------------------------------------------------------------

STEP_TO = {
    S.PAID: service.mark_order_paid,
    S.FULFILLED: service.fulfill_order,
    S.SHIPPED: service.ship_order,
    S.DELIVERED: service.deliver_order,
    S.CANCELLED: service.cancel_order,
}
PATH = [S.PAID, S.FULFILLED, S.SHIPPED, S.DELIVERED]


async def take(
    session_maker: SessionMaker, target: OrderStatus, order: Order, actor: Viewer
) -> Order:
    assert order.id is not None
    async with unit_of_work(session_maker) as session:
        return await STEP_TO[target](session, order_id=order.id, actor=actor)


async def an_order_in(shop: Shop, status: OrderStatus, key: str = "k") -> tuple[Order, Viewer]:
    """An order of 2 of the first product and 1 of the second, moved to `status`."""
    customer = await a_customer(shop.session_maker)
    a, b = shop.products
    order = await place(shop.session_maker, customer, {a: 2, b: 1}, key=key)
    path = {S.PENDING_PAYMENT: [], S.CANCELLED: [S.CANCELLED]}.get(status)
    for target in PATH[: PATH.index(status) + 1] if path is None else path:
        order = await take(shop.session_maker, target, order, shop.operator)
    return order, customer


async def test_an_order_goes_from_payment_to_delivery(session_maker: SessionMaker) -> None:
    shop = await a_shop(session_maker, 10, 10)
    a, b = shop.products
    order, customer = await an_order_in(shop, S.PENDING_PAYMENT)
    assert order.id is not None

    for target in PATH:
        order = await take(session_maker, target, order, shop.operator)
        assert order.status == target.value

    stored = await stored_order(session_maker, order.id)
    assert stored.status == "DELIVERED"
    stamps = [stored.placed_at, stored.paid_at, stored.fulfilled_at, stored.shipped_at]
    assert all(stamps)
    assert stored.delivered_at is not None
    assert stored.cancelled_at is None
    assert stamps == sorted(stamps)  # type: ignore[type-var]
    # fulfilment turned the reservation into shipments: on hand and reserved went down
    assert await levels(session_maker) == {a: (8, 0), b: (9, 0)}
    assert await movements_of(session_maker, order.id) == [
        ("RESERVATION", a, 2),
        ("RESERVATION", b, 1),
        ("SHIPMENT", a, -2),
        ("SHIPMENT", b, -1),
    ]
    assert await notification_kinds(session_maker, customer.user_id) == [
        "order.received",
        "order.paid",
        "order.shipped",
    ]
    entity = str(order.id)
    assert await audit_actions(session_maker) == [
        ("warehouse.create", str(shop.warehouse_id)),
        ("order.pay", entity),
        ("order.fulfill", entity),
        ("order.ship", entity),
        ("order.deliver", entity),
    ]


async def test_cancelling_a_paid_order_releases_its_stock_and_tells_the_customer(
    session_maker: SessionMaker,
) -> None:
    shop = await a_shop(session_maker, 10, 10)
    a, b = shop.products
    order, customer = await an_order_in(shop, S.PAID)
    assert order.id is not None

    async with unit_of_work(session_maker) as session:
        cancelled = await service.cancel_order(
            session, order_id=order.id, actor=shop.operator, reason="Out of paper"
        )

    assert (cancelled.status, cancelled.cancel_reason) == ("CANCELLED", "Out of paper")
    assert cancelled.cancelled_at is not None
    assert cancelled.paid_at is not None
    assert await levels(session_maker) == {a: (10, 0), b: (10, 0)}
    assert await movements_of(session_maker, order.id) == [
        ("RESERVATION", a, 2),
        ("RESERVATION", b, 1),
        ("RELEASE", a, -2),
        ("RELEASE", b, -1),
    ]
    assert [m.template for m in await mails(session_maker)] == ["order_received", "order_cancelled"]
    assert (await notification_kinds(session_maker, customer.user_id))[-1] == "order.cancelled"
    assert (await audit_actions(session_maker))[-1] == ("order.cancel", str(order.id))


async def test_a_customer_cancels_their_unpaid_order_without_an_audit_entry(
    session_maker: SessionMaker,
) -> None:
    shop = await a_shop(session_maker, 10, 10)
    order, customer = await an_order_in(shop, S.PENDING_PAYMENT)

    cancelled = await take(session_maker, S.CANCELLED, order, customer)

    assert cancelled.status == "CANCELLED"
    assert await levels(session_maker) == dict.fromkeys(shop.products, (10, 0))
    assert [action for action, _ in await audit_actions(session_maker)] == ["warehouse.create"]


async def refused_step(
    session_maker: SessionMaker, target: OrderStatus, order: Order, actor: Viewer
) -> DomainError:
    with pytest.raises(DomainError) as caught:
        await take(session_maker, target, order, actor)
    return caught.value


async def test_a_customer_cannot_cancel_a_paid_order_nor_pay_one(
    session_maker: SessionMaker,
) -> None:
    shop = await a_shop(session_maker, 10, 10)
    paid, customer = await an_order_in(shop, S.PAID, key="paid")
    unpaid = await place(session_maker, customer, {shop.products[0]: 1}, key="unpaid")
    before = await traces(session_maker)

    cancel = await refused_step(session_maker, S.CANCELLED, paid, customer)
    pay = await refused_step(session_maker, S.PAID, unpaid, customer)

    assert cancel.code is pay.code is ErrorCode.INVALID_TRANSITION
    assert await traces(session_maker) == before
    assert paid.id is not None
    assert (await stored_order(session_maker, paid.id)).status == "PAID"


async def test_another_customers_order_is_not_found(session_maker: SessionMaker) -> None:
    shop = await a_shop(session_maker, 10, 10)
    order, _ = await an_order_in(shop, S.PENDING_PAYMENT)
    stranger = await a_customer(session_maker)
    before = await traces(session_maker)

    error = await refused_step(session_maker, S.CANCELLED, order, stranger)

    assert error.code is ErrorCode.NOT_FOUND
    assert await traces(session_maker) == before


@pytest.mark.parametrize("source", list(OrderStatus))
async def test_every_invalid_transition_is_refused_and_changes_nothing(
    session_maker: SessionMaker, source: OrderStatus
) -> None:
    shop = await a_shop(session_maker, 10, 10)
    order, _ = await an_order_in(shop, source)
    assert order.id is not None
    stored = await stored_order(session_maker, order.id)
    before = (await traces(session_maker), await levels(session_maker))
    invalid = [t for t in STEP_TO if (source, t) not in lifecycle.TABLE]
    assert len(invalid) == 5 - sum(1 for s, _ in lifecycle.TABLE if s is source)

    for target in invalid:
        error = await refused_step(session_maker, target, order, shop.operator)
        assert error.code is ErrorCode.INVALID_TRANSITION, target
        assert order.number in error.message

    assert (await traces(session_maker), await levels(session_maker)) == before
    assert (await stored_order(session_maker, order.id)).model_dump() == stored.model_dump()


async def test_two_operators_racing_on_one_order_change_it_once(
    session_maker: SessionMaker,
) -> None:
    shop = await a_shop(session_maker, 10, 10)
    order, _ = await an_order_in(shop, S.PAID)
    assert order.id is not None

    async def attempt(target: OrderStatus) -> str:
        try:
            await take(session_maker, target, order, shop.operator)
        except DomainError as error:
            return error.code.value
        return target.value

    outcomes = await asyncio.gather(*(attempt(t) for t in [S.FULFILLED, S.CANCELLED] * 3))

    winners = [outcome for outcome in outcomes if outcome != "INVALID_TRANSITION"]
    assert len(winners) == 1
    final = await stored_order(session_maker, order.id)
    assert final.status == winners[0]
    expected = dict.fromkeys(shop.products, (10, 0))
    if final.status == "FULFILLED":
        a, b = shop.products
        expected = {a: (8, 0), b: (9, 0)}
    assert await levels(session_maker) == expected


async def test_a_reason_is_at_most_500_characters(session_maker: SessionMaker) -> None:
    shop = await a_shop(session_maker, 10, 10)
    order, _ = await an_order_in(shop, S.PENDING_PAYMENT)
    assert order.id is not None

    async def cancel() -> None:
        assert order.id is not None
        async with unit_of_work(session_maker) as session:
            await service.cancel_order(
                session, order_id=order.id, actor=shop.operator, reason="x" * 501
            )

    with pytest.raises(DomainError) as caught:
        await cancel()
    assert (caught.value.code, caught.value.field) == (ErrorCode.INVALID, "reason")

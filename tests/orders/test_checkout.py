"""Placing an order against the real database: all or nothing, never oversold, once per
idempotency key, and never a deadlock reaching the caller."""

from __future__ import annotations

import asyncio
import re
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from hom.catalog.models import Product
from hom.core.errors import DomainError, ErrorCode
from hom.core.unit_of_work import SessionMaker, unit_of_work
from hom.inventory.reconcile import check_ledger
from hom.orders import checkout, notices, service
from hom.orders.models import Order, OrderStatus
from tests.orders.shop import (
    a_customer,
    a_shop,
    customers,
    levels,
    mails,
    movements_of,
    notification_kinds,
    place,
    traces,
)


async def refused(coroutine: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        await coroutine  # type: ignore[misc]
    return caught.value


async def test_an_order_reserves_its_lines_snapshots_them_and_tells_the_customer(
    session_maker: SessionMaker,
) -> None:
    shop = await a_shop(session_maker, 10, 3)
    a, b = shop.products
    customer = await a_customer(session_maker)

    order = await place(session_maker, customer, {a: 2, b: 1})

    assert re.fullmatch(r"HOM-\d{6}", order.number)
    assert (order.status, order.currency, order.user_id) == (
        "PENDING_PAYMENT",
        "EUR",
        customer.user_id,
    )
    # some_products prices product n at 9.90 + n
    assert order.total == Decimal("9.90") * 2 + Decimal("10.90")
    async with unit_of_work(session_maker) as session:
        lines = await service.lines_of(session, order_id=order.id)
        product_a = await session.get(Product, a)
    assert [
        (line.product_id, line.quantity, line.unit_price, line.line_total) for line in lines
    ] == [
        (a, 2, Decimal("9.90"), Decimal("19.80")),
        (b, 1, Decimal("10.90"), Decimal("10.90")),
    ]
    assert product_a is not None
    assert (lines[0].sku, lines[0].name) == (product_a.sku, product_a.name)
    assert await levels(session_maker) == {a: (10, 2), b: (3, 1)}
    assert order.id is not None
    assert await movements_of(session_maker, order.id) == [
        ("RESERVATION", a, 2),
        ("RESERVATION", b, 1),
    ]
    [mail] = await mails(session_maker)
    assert (mail.template, mail.context["order"], mail.context["total"]) == (
        "order_received",
        order.number,
        "€30.70",
    )
    assert await notification_kinds(session_maker, customer.user_id) == ["order.received"]


async def test_order_numbers_follow_each_other(session_maker: SessionMaker) -> None:
    shop = await a_shop(session_maker, 10)
    customer = await a_customer(session_maker)
    first = await place(session_maker, customer, {shop.products[0]: 1}, key="one")
    second = await place(session_maker, customer, {shop.products[0]: 1}, key="two")
    assert int(second.number.removeprefix("HOM-")) == int(first.number.removeprefix("HOM-")) + 1


async def test_the_snapshot_keeps_the_price_it_was_sold_at(session_maker: SessionMaker) -> None:
    shop = await a_shop(session_maker, 10)
    (a,) = shop.products
    order = await place(session_maker, await a_customer(session_maker), {a: 1})
    async with unit_of_work(session_maker) as session:
        product = await session.get(Product, a)
        assert product is not None
        product.price = Decimal("99.00")
    async with unit_of_work(session_maker) as session:
        [line] = await service.lines_of(session, order_id=order.id)
    assert line.unit_price == Decimal("9.90")


# --- refusals: nothing is written ---------------------------------------------------------


async def test_an_unverified_email_cannot_order(session_maker: SessionMaker) -> None:
    shop = await a_shop(session_maker, 10)
    customer = await a_customer(session_maker, verified=False)
    before = await traces(session_maker)
    error = await refused(place(session_maker, customer, {shop.products[0]: 1}))
    assert error.code is ErrorCode.EMAIL_NOT_VERIFIED
    assert await traces(session_maker) == before


async def test_an_empty_cart_is_refused(session_maker: SessionMaker) -> None:
    customer = await a_customer(session_maker)
    error = await refused(place(session_maker, customer, {}))
    assert error.code is ErrorCode.CART_EMPTY


@pytest.mark.parametrize("quantity", [0, -1, 100])
async def test_a_quantity_outside_1_to_99_is_invalid(
    session_maker: SessionMaker, quantity: int
) -> None:
    shop = await a_shop(session_maker, 200)
    error = await refused(
        place(session_maker, await a_customer(session_maker), {shop.products[0]: quantity})
    )
    assert (error.code, error.field) == (ErrorCode.INVALID, "quantity")


async def test_an_archived_or_missing_product_is_unavailable_by_name(
    session_maker: SessionMaker,
) -> None:
    shop = await a_shop(session_maker, 10, 10)
    a, b = shop.products
    async with unit_of_work(session_maker) as session:
        product = await session.get(Product, b)
        assert product is not None
        product.is_active = False
        name = product.name
    customer = await a_customer(session_maker)
    before = await traces(session_maker)

    archived = await refused(place(session_maker, customer, {a: 1, b: 1}))
    missing = await refused(place(session_maker, customer, {a: 1, 987654: 1}))

    assert isinstance(archived, checkout.LineRefused)
    assert (archived.code, archived.product_id) == (ErrorCode.PRODUCT_UNAVAILABLE, b)
    assert name in archived.message
    assert (missing.code, getattr(missing, "product_id", None)) == (
        ErrorCode.PRODUCT_UNAVAILABLE,
        987654,
    )
    assert await traces(session_maker) == before
    assert await levels(session_maker) == {a: (10, 0), b: (10, 0)}


async def test_insufficient_stock_names_the_product_and_what_is_available_and_reserves_nothing(
    session_maker: SessionMaker,
) -> None:
    shop = await a_shop(session_maker, 10, 1)
    a, b = shop.products
    customer = await a_customer(session_maker)
    before = await traces(session_maker)

    error = await refused(place(session_maker, customer, {a: 5, b: 2}))

    assert isinstance(error, checkout.LineRefused)
    assert (error.code, error.product_id, error.available) == (ErrorCode.INSUFFICIENT_STOCK, b, 1)
    async with unit_of_work(session_maker) as session:
        product = await session.get(Product, b)
    assert product is not None
    assert product.name in error.message
    assert product.sku in error.message
    assert "Only 1" in error.message
    assert await levels(session_maker) == {a: (10, 0), b: (1, 0)}  # a was not kept reserved
    assert await traces(session_maker) == before


@pytest.mark.parametrize("where", ["writing the mail", "after reserving"])
async def test_a_fault_leaves_no_reservation_no_order_and_no_mail(
    session_maker: SessionMaker, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    shop = await a_shop(session_maker, 10, 10)
    a, b = shop.products
    customer = await a_customer(session_maker)
    before = await traces(session_maker)
    reserve = checkout.inventory.reserve

    async def outbox_down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("the outbox insert failed")

    async def reserved_then_down(*args: Any, **kwargs: Any) -> None:
        await reserve(*args, **kwargs)  # the stock is held in the transaction, then:
        raise ConnectionError("the connection broke after the reservation")

    if where == "writing the mail":
        monkeypatch.setattr(notices.notifications, "enqueue_mail", outbox_down)
    else:
        monkeypatch.setattr(checkout.inventory, "reserve", reserved_then_down)
    with pytest.raises(ConnectionError):
        await place(session_maker, customer, {a: 2, b: 3})

    assert await traces(session_maker) == before
    assert await levels(session_maker) == {a: (10, 0), b: (10, 0)}


# --- idempotency -------------------------------------------------------------------------


async def test_the_same_key_returns_the_same_order_and_reserves_once(
    session_maker: SessionMaker,
) -> None:
    shop = await a_shop(session_maker, 10, 10)
    a, b = shop.products
    customer = await a_customer(session_maker)

    first = await place(session_maker, customer, {a: 2, b: 1}, key="retry-me")
    again = await place(session_maker, customer, {b: 1, a: 2}, key="retry-me")
    emptied = await place(session_maker, customer, {}, key="retry-me")  # the cart it emptied

    assert again.id == first.id == emptied.id
    assert again.number == first.number
    assert first.id is not None
    assert len(await movements_of(session_maker, first.id)) == 2
    assert await levels(session_maker) == {a: (10, 2), b: (10, 1)}
    assert (await traces(session_maker)).mail == 1


async def test_the_same_key_with_other_lines_is_invalid(session_maker: SessionMaker) -> None:
    shop = await a_shop(session_maker, 10, 10)
    a, _ = shop.products
    customer = await a_customer(session_maker)
    await place(session_maker, customer, {a: 2}, key="mine")
    before = await traces(session_maker)

    error = await refused(place(session_maker, customer, {a: 3}, key="mine"))

    assert (error.code, error.field) == (ErrorCode.INVALID, "idempotency_key")
    assert await traces(session_maker) == before


async def test_a_key_belongs_to_one_customer(session_maker: SessionMaker) -> None:
    shop = await a_shop(session_maker, 10)
    (a,) = shop.products
    one, other = await customers(session_maker, 2)
    first = await place(session_maker, one, {a: 1}, key="same")
    second = await place(session_maker, other, {a: 1}, key="same")
    assert first.id != second.id


@pytest.mark.parametrize("key", ["", "   ", "k" * 256])
async def test_a_blank_or_long_key_is_invalid(session_maker: SessionMaker, key: str) -> None:
    customer = await a_customer(session_maker)
    error = await refused(place(session_maker, customer, {1: 1}, key=key))
    assert (error.code, error.field) == (ErrorCode.INVALID, "idempotency_key")


async def test_ten_concurrent_requests_with_one_key_make_one_order_and_one_reservation(
    session_maker: SessionMaker,
) -> None:
    shop = await a_shop(session_maker, 50, 50)
    a, b = shop.products
    customer = await a_customer(session_maker)

    orders = await asyncio.gather(
        *(place(session_maker, customer, {a: 3, b: 1}, key="double-click") for _ in range(10))
    )

    assert len({order.id for order in orders}) == 1
    assert orders[0].id is not None
    assert await movements_of(session_maker, orders[0].id) == [
        ("RESERVATION", a, 3),
        ("RESERVATION", b, 1),
    ]
    assert await levels(session_maker) == {a: (50, 3), b: (50, 1)}
    assert (await traces(session_maker)).orders == 1
    assert len(await mails(session_maker)) == 1


async def test_concurrent_requests_with_one_key_and_two_carts_place_one_of_them(
    session_maker: SessionMaker,
) -> None:
    shop = await a_shop(session_maker, 50)
    (a,) = shop.products
    customer = await a_customer(session_maker)

    async def attempt(quantity: int) -> Order | ErrorCode:
        try:
            return await place(session_maker, customer, {a: quantity}, key="contested")
        except DomainError as error:
            return error.code

    outcomes = await asyncio.gather(*(attempt(1 + n % 2) for n in range(10)))

    placed = [outcome for outcome in outcomes if isinstance(outcome, Order)]
    assert len({order.id for order in placed}) == 1
    assert len(placed) == 5
    assert [o for o in outcomes if not isinstance(o, Order)] == [ErrorCode.INVALID] * 5
    assert (await traces(session_maker)).orders == 1
    assert placed[0].id is not None
    [(_, _, quantity)] = await movements_of(session_maker, placed[0].id)
    assert (await levels(session_maker))[a] == (50, quantity)


# --- concurrency -------------------------------------------------------------------------


async def test_forty_customers_and_five_in_stock_make_five_orders(
    session_maker: SessionMaker,
) -> None:
    shop = await a_shop(session_maker, 5)
    (a,) = shop.products
    buyers = await customers(session_maker, 40)

    async def buy(customer: object) -> str:
        try:
            await place(session_maker, customer, {a: 1})  # type: ignore[arg-type]
        except DomainError as error:
            return error.code.value
        return "ORDERED"

    outcomes = await asyncio.gather(*(buy(customer) for customer in buyers))

    assert outcomes.count("ORDERED") == 5
    assert outcomes.count("INSUFFICIENT_STOCK") == 35
    assert await levels(session_maker) == {a: (5, 5)}
    async with unit_of_work(session_maker) as session:
        assert (await check_ledger(session)).differences == []
        statuses = (await session.exec(select(Order.status))).all()
    assert statuses == [OrderStatus.PENDING_PAYMENT.value] * 5


ROUNDS = 30


async def test_crossed_carts_never_deadlock_for_the_caller(session_maker: SessionMaker) -> None:
    shop = await a_shop(session_maker, 2 * ROUNDS, 2 * ROUNDS)
    a, b = shop.products
    one, other = await customers(session_maker, 2)

    for round_ in range(ROUNDS):
        await asyncio.gather(
            place(session_maker, one, {a: 1, b: 1}, key=f"ab-{round_}"),
            place(session_maker, other, {b: 1, a: 1}, key=f"ba-{round_}"),
        )

    assert await levels(session_maker) == {a: (2 * ROUNDS, 2 * ROUNDS), b: (2 * ROUNDS, 2 * ROUNDS)}
    assert (await traces(session_maker)).orders == 2 * ROUNDS


async def test_an_order_row_is_what_the_database_accepts(session_maker: SessionMaker) -> None:
    """The CHECKs hold what the lifecycle promises: a paid order without paid_at is refused."""
    shop = await a_shop(session_maker, 10)
    order = await place(session_maker, await a_customer(session_maker), {shop.products[0]: 1})

    async def pay_without_paid_at() -> None:
        async with unit_of_work(session_maker) as session:
            stored = (await session.exec(select(Order).where(col(Order.id) == order.id))).one()
            stored.status = OrderStatus.PAID.value

    with pytest.raises(IntegrityError, match="ck_customer_order_paid_at_set"):
        await pay_without_paid_at()


def test_the_fingerprint_ignores_the_order_of_the_lines() -> None:
    assert checkout.fingerprint({1: 2, 3: 4}) == checkout.fingerprint({3: 4, 1: 2})
    assert checkout.fingerprint({1: 2}) != checkout.fingerprint({1: 3})
    assert len(checkout.fingerprint({})) == 64

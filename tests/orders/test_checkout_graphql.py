"""`checkout` over HTTP (issue 19): the cart becomes an order with its lines' snapshots, the
stock is reserved and the cart emptied after the commit; each refusal changes nothing;
the same key returns the same order, sequentially and concurrently; and 40 customers
after 5 items get 5 orders and 35 refusals."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from syrupy.assertion import SnapshotAssertion

from hom.catalog.models import Product
from hom.core.db import SessionMaker
from hom.core.roles import Role
from hom.core.unit_of_work import unit_of_work
from hom.inventory.reconcile import check_ledger
from hom.orders.models import Order
from tests.orders.cart_support import archive
from tests.orders.order_support import Caller, a_caller
from tests.orders.shop import a_shop, count, levels, traces
from tests.support import GraphQLClient, count_statements


@pytest.fixture
async def customer(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> Caller:
    return await a_caller(client, gql, session_maker)


def steady(order: dict[str, Any]) -> dict[str, Any]:
    """The order without what differs from run to run (ids, number, times, email)."""
    masked = {"id", "number", "placedAt", "customerEmail"}
    return {key: f"<{key}>" if key in masked else value for key, value in order.items()}


async def test_checkout_places_the_order_reserves_stock_and_empties_the_cart(
    customer: Caller, session_maker: SessionMaker, snapshot: SnapshotAssertion
) -> None:
    shop = await a_shop(session_maker, 10, 3)
    a, b = shop.products
    await customer.add(a, 2)
    await customer.add(b, 1)

    answer = await customer.checkout()

    assert answer["errors"] == []
    order = answer["order"]
    assert re.fullmatch(r"HOM-\d{6}", order["number"])
    assert order["status"] == "PENDING_PAYMENT"
    assert order["total"] == {"amount": "30.70", "currency": "EUR"}  # 2 x 9.90 + 10.90
    assert [
        (line["quantity"], line["unitPrice"], line["lineTotal"]) for line in order["lines"]
    ] == [
        (2, {"amount": "9.90", "currency": "EUR"}, {"amount": "19.80", "currency": "EUR"}),
        (1, {"amount": "10.90", "currency": "EUR"}, {"amount": "10.90", "currency": "EUR"}),
    ]
    assert order["customerEmail"] == customer.email
    assert steady(order) == snapshot
    assert await customer.cart_count() == 0
    assert await levels(session_maker) == {a: (10, 2), b: (3, 1)}


async def test_the_lines_keep_the_price_and_name_they_were_sold_at(
    customer: Caller, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    shop = await a_shop(session_maker, 10)
    (a,) = shop.products
    await customer.add(a, 1)
    order = (await customer.checkout())["order"]
    async with unit_of_work(session_maker) as session:
        product = await session.get(Product, a)
        assert product is not None
        product.price, product.name = product.price * 2, "Renamed"
    body = await customer(
        "query ($id: ID!) { order(id: $id) {"
        " lines { name unitPrice { amount } product { name } } } }",
        {"id": order["id"]},
    )
    (line,) = body["data"]["order"]["lines"]
    assert (line["unitPrice"]["amount"], line["product"]["name"]) == ("9.90", "Renamed")
    assert line["name"] != "Renamed"


async def refused_checkout(customer: Caller, session_maker: SessionMaker, key: str = "k") -> Any:
    """The payload of a refused checkout, after checking that it changed nothing."""
    before, cart, stock = (
        await traces(session_maker),
        await customer.cart_count(),
        await levels(session_maker),
    )
    answer = await customer.checkout(key)
    assert answer["order"] is None
    assert await traces(session_maker) == before
    assert await customer.cart_count() == cart
    assert await levels(session_maker) == stock
    return answer["errors"]


async def test_an_unverified_customer_cannot_check_out(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    shop = await a_shop(session_maker, 10)
    unverified = await a_caller(client, gql, session_maker, verified=False)
    await unverified.add(shop.products[0], 1)
    errors = await refused_checkout(unverified, session_maker)
    assert [error["code"] for error in errors] == ["EMAIL_NOT_VERIFIED"]


async def test_an_empty_cart_is_refused(customer: Caller, session_maker: SessionMaker) -> None:
    await a_shop(session_maker, 10)
    errors = await refused_checkout(customer, session_maker)
    assert errors == [{"field": None, "message": "The cart is empty", "code": "CART_EMPTY"}]


async def test_an_archived_product_is_refused_by_name(
    customer: Caller, session_maker: SessionMaker
) -> None:
    shop = await a_shop(session_maker, 10, 10)
    a, b = shop.products
    await customer.add(a, 1)
    await customer.add(b, 1)
    async with unit_of_work(session_maker) as session:
        product = await session.get(Product, b)
    assert product is not None
    await archive(session_maker, product)
    (error,) = await refused_checkout(customer, session_maker)
    assert (error["code"], error["field"]) == ("PRODUCT_UNAVAILABLE", "productId")
    assert error["message"] == f"{product.name} ({product.sku}) is no longer available"


async def test_a_short_line_is_refused_naming_the_product_and_what_is_available(
    customer: Caller, session_maker: SessionMaker
) -> None:
    shop = await a_shop(session_maker, 10, 3)
    a, b = shop.products
    await customer.add(a, 2)
    await customer.add(b, 5)
    async with unit_of_work(session_maker) as session:
        product = await session.get(Product, b)
    assert product is not None
    (error,) = await refused_checkout(customer, session_maker)
    assert (error["code"], error["field"]) == ("INSUFFICIENT_STOCK", "productId")
    assert error["message"] == f"Only 3 of {product.name} ({product.sku}) available"


@pytest.mark.parametrize("key", ["", "   ", "k" * 256])
async def test_a_bad_idempotency_key_is_invalid(
    customer: Caller, session_maker: SessionMaker, key: str
) -> None:
    shop = await a_shop(session_maker, 10)
    await customer.add(shop.products[0], 1)
    (error,) = await refused_checkout(customer, session_maker, key)
    assert (error["code"], error["field"]) == ("INVALID", "idempotencyKey")


async def test_the_same_key_returns_the_same_order_and_another_cart_is_refused(
    customer: Caller, session_maker: SessionMaker
) -> None:
    shop = await a_shop(session_maker, 10, 10)
    a, b = shop.products
    await customer.add(a, 1)
    first = await customer.checkout("same")
    again = await customer.checkout("same")  # the cart it emptied: the same order
    assert again == first
    await customer.add(b, 1)
    errors = await refused_checkout(customer, session_maker, "same")
    assert [(e["code"], e["field"]) for e in errors] == [("INVALID", "idempotencyKey")]
    assert await count(session_maker, Order) == 1
    assert await levels(session_maker) == {a: (10, 1), b: (10, 0)}


async def test_ten_concurrent_checkouts_with_one_key_place_one_order(
    customer: Caller, session_maker: SessionMaker
) -> None:
    shop = await a_shop(session_maker, 10)
    (a,) = shop.products
    await customer.add(a, 2)

    answers = await asyncio.gather(*(customer.checkout("once") for _ in range(10)))

    assert all(answer["errors"] == [] for answer in answers), answers
    assert len({answer["order"]["number"] for answer in answers}) == 1
    assert await count(session_maker, Order) == 1
    assert await levels(session_maker) == {a: (10, 2)}
    assert await customer.cart_count() == 0


async def test_forty_customers_after_five_items_get_five_orders(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    shop = await a_shop(session_maker, 5)
    (a,) = shop.products
    buyers = [await a_caller(client, gql, session_maker) for _ in range(40)]
    for buyer in buyers:
        await buyer.add(a, 1)

    answers = await asyncio.gather(*(buyer.checkout() for buyer in buyers))

    codes = [tuple(error["code"] for error in answer["errors"]) for answer in answers]
    assert codes.count(()) == 5
    assert codes.count(("INSUFFICIENT_STOCK",)) == 35
    assert await count(session_maker, Order) == 5
    assert await levels(session_maker) == {a: (5, 5)}
    async with unit_of_work(session_maker) as session:
        assert (await check_ledger(session)).differences == []
    carts = [await buyer.cart_count() for buyer in buyers]
    assert sorted(carts) == [0] * 5 + [1] * 35  # refused carts are kept


async def test_signed_out_callers_cannot_check_out(gql: GraphQLClient) -> None:
    body = await gql('mutation { checkout(input: {idempotencyKey: "k"}) { order { id } } }')
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_an_operator_checks_out_their_own_cart(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    shop = await a_shop(session_maker, 10)
    operator = await a_caller(client, gql, session_maker, Role.OPERATOR)
    await operator.add(shop.products[0], 1)
    assert (await operator.checkout())["order"]["status"] == "PENDING_PAYMENT"


CROSSED_ROUNDS = 100


async def test_crossed_carts_checked_out_at_once_never_fail_for_the_customers(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    """Carts [A, B] and [B, A] checked out together, 100 times over HTTP: no deadlock or
    serialization failure reaches either customer (issue 19)."""
    shop = await a_shop(session_maker, 2 * CROSSED_ROUNDS, 2 * CROSSED_ROUNDS)
    a, b = shop.products
    one = await a_caller(client, gql, session_maker)
    other = await a_caller(client, gql, session_maker)

    for round_ in range(CROSSED_ROUNDS):
        await one.add(a)
        await one.add(b)
        await other.add(b)
        await other.add(a)
        answers = await asyncio.gather(one.checkout(f"ab-{round_}"), other.checkout(f"ba-{round_}"))
        assert [answer["errors"] for answer in answers] == [[], []], (round_, answers)

    total = 2 * CROSSED_ROUNDS
    assert await count(session_maker, Order) == total
    assert await levels(session_maker) == {a: (total, total), b: (total, total)}


CHECKOUT_NUMBER = (
    "mutation ($key: String!) { checkout(input: {idempotencyKey: $key}) {"
    " order { number } errors { code } } }"
)


@pytest.mark.parametrize("size", [1, 3])
async def test_a_checkout_is_eight_statements_whatever_its_lines(
    app: Starlette, customer: Caller, session_maker: SessionMaker, size: int
) -> None:
    shop = await a_shop(session_maker, *[10] * size)
    for product in shop.products:
        await customer.add(product, 2)
    with count_statements(app.state.services.engine) as log:
        body = await customer(CHECKOUT_NUMBER, {"key": f"eight-{size}"})
    assert body["data"]["checkout"]["errors"] == [], body
    heads = [" ".join(statement.split()[:3]) for statement in log.statements]
    # The customer, the products, the order (claiming the key), the lines, the mail, the
    # notification, and last the stock levels locked and reserved (held until the commit):
    # no savepoint, no look-up of the key first (the INSERT claims it).
    assert heads == [
        "SELECT user_account.id, user_account.email,",
        "SELECT product.id, product.sku,",
        "INSERT INTO customer_order",
        "INSERT INTO order_line",
        "INSERT INTO outbox_message",
        "INSERT INTO notification",
        "SELECT stock_level.id, stock_level.product_id,",
        "WITH change AS",
    ], log.statements

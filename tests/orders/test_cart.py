"""The cart (issue 19) through GraphQL over HTTP, with the run's real Redis: exact answers
of each operation, its bounds refused with nothing changed, concurrent changes, products
that are archived or gone, signed-out callers, the TTL, and the statement count."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
import pytest
from redis.asyncio import Redis
from starlette.applications import Starlette
from strawberry.relay import from_base64
from syrupy.assertion import SnapshotAssertion

from hom.core.config import Settings
from hom.core.db import SessionMaker
from hom.core.redis import RedisKeys
from hom.core.roles import Role
from hom.orders import cart
from tests.catalog.factories import create_category, create_products
from tests.factories import signed_in
from tests.orders.cart_support import (
    ADD,
    CLEAR,
    EMPTY_CART,
    MY_CART,
    REMOVE,
    UPDATE,
    Shopper,
    archive,
    delete_product,
    line,
    pid,
    shop,
)
from tests.support import GraphQLClient, count_statements, error_codes

DAY = 86_400


@pytest.fixture
async def shopper(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> Shopper:
    _, tokens = await signed_in(client, session_maker)
    return Shopper(gql, tokens.access_token)


async def test_add_update_remove_and_clear_answer_the_cart_after_each(
    shopper: Shopper, session_maker: SessionMaker
) -> None:
    kettle, cup, pot = await shop(session_maker)
    assert await shopper.cart() == EMPTY_CART

    added = await shopper.add(kettle, 2)
    assert added == {
        "cart": {
            "lines": [line(kettle, 2)],
            "total": {"amount": "19.80", "currency": "EUR"},
            "itemCount": 2,
        },
        "errors": [],
    }
    await shopper.add(pot, 1)
    again = await shopper.add(kettle, 3)  # to the line it has
    assert again["cart"]["lines"] == [line(kettle, 5), line(pot, 1)]
    assert again["cart"]["total"] == {"amount": "61.40", "currency": "EUR"}  # 49.50 + 11.90
    assert again["cart"]["itemCount"] == 6

    updated = await shopper.update(kettle, 1)
    assert updated["cart"]["lines"] == [line(kettle, 1), line(pot, 1)]
    assert updated["cart"]["total"] == {"amount": "21.80", "currency": "EUR"}

    removed = await shopper.remove(pot)
    assert removed == {
        "cart": {
            "lines": [line(kettle, 1)],
            "total": {"amount": "9.90", "currency": "EUR"},
            "itemCount": 1,
        },
        "errors": [],
    }
    assert (await shopper.remove(cup))["cart"]["lines"] == [line(kettle, 1)]  # idempotent
    assert await shopper.cart() == removed["cart"]

    assert await shopper.clear() == {"cart": EMPTY_CART, "errors": []}
    assert await shopper.cart() == EMPTY_CART
    assert await shopper.clear() == {"cart": EMPTY_CART, "errors": []}


async def test_each_user_has_a_cart_of_their_own(
    client: httpx.AsyncClient, gql: GraphQLClient, shopper: Shopper, session_maker: SessionMaker
) -> None:
    kettle, cup, _ = await shop(session_maker)
    _, tokens = await signed_in(client, session_maker)
    other = Shopper(gql, tokens.access_token)
    await shopper.add(kettle, 2)
    await other.add(cup, 1)
    assert [one["quantity"] for one in (await shopper.cart())["lines"]] == [2]
    assert (await other.cart())["lines"] == [line(cup, 1)]


def refusal(payload: dict[str, object]) -> tuple[str | None, str]:
    assert payload["cart"] is None, payload
    [error] = payload["errors"]  # type: ignore[misc]
    return error["field"], error["code"]


@pytest.mark.parametrize("quantity", [0, -1, 100, 1000])
async def test_a_quantity_outside_1_to_99_is_refused_and_nothing_changes(
    shopper: Shopper, session_maker: SessionMaker, quantity: int
) -> None:
    kettle, *_ = await shop(session_maker)
    await shopper.add(kettle, 2)
    assert refusal(await shopper.add(kettle, quantity)) == ("quantity", "INVALID")
    assert refusal(await shopper.update(kettle, quantity)) == ("quantity", "INVALID")
    assert (await shopper.cart())["lines"] == [line(kettle, 2)]


async def test_a_line_holds_at_most_99(shopper: Shopper, session_maker: SessionMaker) -> None:
    kettle, *_ = await shop(session_maker)
    await shopper.add(kettle, 60)
    refused = await shopper.add(kettle, 40)
    assert refusal(refused) == ("quantity", "INVALID")
    assert refused["errors"][0]["message"] == (
        "At most 99 of one product per cart (it holds 60 already)"
    )
    assert (await shopper.cart())["lines"] == [line(kettle, 60)]
    assert (await shopper.add(kettle, 39))["cart"]["lines"] == [line(kettle, 99)]
    assert (await shopper.update(kettle, 99))["cart"]["lines"] == [line(kettle, 99)]


async def test_a_cart_holds_at_most_50_lines(shopper: Shopper, session_maker: SessionMaker) -> None:
    products = await shop(session_maker, 51)
    for product in products[:50]:
        await shopper.add(product)
    refused = await shopper.add(products[50])
    assert refusal(refused) == ("productId", "INVALID")
    assert refused["errors"][0]["message"] == (
        "A cart holds at most 50 different products; remove one first"
    )
    full = await shopper.cart()
    assert len(full["lines"]) == 50
    assert full["itemCount"] == 50
    # A line it holds still grows; a freed line takes the new product.
    assert (await shopper.add(products[0], 2))["cart"]["itemCount"] == 52
    await shopper.remove(products[1])
    assert len((await shopper.add(products[50]))["cart"]["lines"]) == 50


async def test_unknown_and_archived_products_cannot_be_added(
    shopper: Shopper, session_maker: SessionMaker
) -> None:
    kettle, cup, _ = await shop(session_maker)
    await archive(session_maker, cup)
    assert refusal(await shopper.add("UHJvZHVjdDo5OTk5OTk=")) == ("productId", "NOT_FOUND")
    archived = await shopper.add(cup)
    assert refusal(archived) == ("productId", "PRODUCT_UNAVAILABLE")
    assert archived["errors"][0]["message"] == f"{cup.name} is no longer sold"
    assert refusal(await shopper.update(kettle, 2)) == ("productId", "NOT_FOUND")  # not in it
    assert await shopper.cart() == EMPTY_CART


async def test_a_malformed_product_id_is_bad_user_input(shopper: Shopper) -> None:
    body = await shopper(ADD, {"id": "nonsense", "q": 1})
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["argument"] == "input.productId"
    body = await shopper(REMOVE, {"id": "nonsense"})
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_twenty_concurrent_adds_to_one_line_all_count(
    shopper: Shopper, session_maker: SessionMaker
) -> None:
    kettle, *_ = await shop(session_maker)
    answers = await asyncio.gather(*(shopper.add(kettle, 1) for _ in range(20)))
    assert all(answer["errors"] == [] for answer in answers)
    assert sorted(answer["cart"]["itemCount"] for answer in answers) == list(range(1, 21))
    assert (await shopper.cart())["lines"] == [line(kettle, 20)]


async def test_the_caps_hold_under_concurrent_adds(
    shopper: Shopper, session_maker: SessionMaker
) -> None:
    products = await shop(session_maker, 55)
    for product in products[:45]:
        await shopper.add(product)
    answers = await asyncio.gather(*(shopper.add(product) for product in products[45:]))
    assert sorted(answer["errors"] == [] for answer in answers) == [False] * 5 + [True] * 5
    assert len((await shopper.cart())["lines"]) == 50

    answers = await asyncio.gather(*(shopper.add(products[0], 10) for _ in range(20)))
    assert sum(answer["errors"] == [] for answer in answers) == 9  # 1 + 9 * 10 = 91
    lines = (await shopper.cart())["lines"]
    assert lines[0]["quantity"] == 91


async def test_an_archived_or_deleted_product_shows_unavailable_outside_the_total(
    shopper: Shopper, session_maker: SessionMaker
) -> None:
    kettle, cup, pot = await shop(session_maker)
    await shopper.add(kettle, 1)
    await shopper.add(cup, 2)
    await shopper.add(pot, 3)
    await archive(session_maker, cup)
    await delete_product(session_maker, pot)

    unavailable = {"product": None, "available": False, "unitPrice": None, "lineTotal": None}
    assert await shopper.cart() == {
        "lines": [
            line(kettle, 1),
            {"productId": pid(cup), "quantity": 2, **unavailable},
            {"productId": pid(pot), "quantity": 3, **unavailable},
        ],
        "total": {"amount": "9.90", "currency": "EUR"},
        "itemCount": 6,
    }
    assert refusal(await shopper.add(cup)) == ("productId", "PRODUCT_UNAVAILABLE")
    assert refusal(await shopper.update(pot, 1)) == ("productId", "NOT_FOUND")
    # Such lines are removed like any other.
    await shopper.remove(pot)
    assert (await shopper.remove(cup))["cart"]["lines"] == [line(kettle, 1)]


async def test_an_operator_sees_the_archived_product_of_a_line(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    _, tokens = await signed_in(client, session_maker, Role.OPERATOR)
    operator = Shopper(gql, tokens.access_token)
    kettle, *_ = await shop(session_maker)
    await operator.add(kettle, 2)
    await archive(session_maker, kettle)
    body = await operator(
        "{ myCart { lines { product { name isActive } available } total { amount } } }"
    )
    assert body["data"]["myCart"] == {
        "lines": [{"product": {"name": kettle.name, "isActive": False}, "available": False}],
        "total": {"amount": "0.00"},
    }


async def test_the_total_is_null_when_lines_are_priced_in_several_currencies(
    shopper: Shopper, session_maker: SessionMaker
) -> None:
    category = await create_category(session_maker, "Imports")
    [euro] = await create_products(session_maker, category, 1)
    [dollar] = await create_products(session_maker, category, 1, start=1, currency="USD")
    await shopper.add(euro, 1)
    assert (await shopper.add(dollar, 1))["cart"]["total"] is None


async def test_signed_out_callers_get_unauthenticated(gql: GraphQLClient) -> None:
    variables = {"id": "UHJvZHVjdDox", "q": 1}
    for document, values in [
        (MY_CART, None),
        (ADD, variables),
        (UPDATE, variables),
        (REMOVE, {"id": "UHJvZHVjdDox"}),
        (CLEAR, None),
    ]:
        body = await gql(document, values)
        assert error_codes(body) == ["UNAUTHENTICATED"], document
    body = await gql("{ serverInfo { version } myCart { itemCount } }")
    assert body["data"]["myCart"] is None
    assert body["data"]["serverInfo"]["version"]


async def test_each_change_sets_the_ttl_again(
    shopper: Shopper, session_maker: SessionMaker, redis: Redis, settings: Settings
) -> None:
    kettle, cup, _ = await shop(session_maker)
    user_id = await _user_id(shopper)
    key = RedisKeys(settings.redis_prefix)("cart", str(user_id))
    await shopper.add(kettle)
    assert 30 * DAY - 60 < await redis.ttl(key) <= 30 * DAY
    for change in (shopper.add(cup), shopper.update(kettle, 3), shopper.remove(cup)):
        await redis.expire(key, 100)
        await change
        assert await redis.ttl(key) > 30 * DAY - 60
    await redis.expire(key, 100)
    await shopper.cart()  # reading leaves it
    assert await redis.ttl(key) <= 100
    await shopper.clear()
    assert await redis.exists(key) == 0


async def _user_id(shopper: Shopper) -> int:
    body = await shopper("{ me { id } }")
    return int(from_base64(body["data"]["me"]["id"])[1])


async def test_the_service_functions_checkout_uses(
    shopper: Shopper, session_maker: SessionMaker, redis: Redis, settings: Settings
) -> None:
    kettle, cup, _ = await shop(session_maker)
    user_id = await _user_id(shopper)
    keys = RedisKeys(settings.redis_prefix)
    assert await cart.lines(redis=redis, keys=keys, user_id=user_id) == {}
    await shopper.add(kettle, 2)
    await shopper.add(cup, 5)
    assert await cart.lines(redis=redis, keys=keys, user_id=user_id) == {kettle.id: 2, cup.id: 5}
    await cart.clear(redis=redis, keys=keys, user_id=user_id)
    assert await cart.lines(redis=redis, keys=keys, user_id=user_id) == {}
    assert await shopper.cart() == EMPTY_CART


CART_WITH_PRODUCTS = """{ myCart {
  lines { quantity product { name price { amount } category { name parent { name } } } }
  itemCount
} }"""


async def test_the_statements_of_my_cart_do_not_grow_with_its_lines(
    app: Starlette, shopper: Shopper, session_maker: SessionMaker
) -> None:
    kitchen = await create_category(session_maker, "Kitchen")
    kettles = await create_category(session_maker, "Kettles", parent=kitchen)
    products = await create_products(session_maker, kettles, 20)
    counts = {}
    added = 0
    for size in (1, 5, 20):
        for product in products[added:size]:
            await shopper.add(product)
        added = size
        with count_statements(app.state.services.engine) as log:
            body = await shopper(CART_WITH_PRODUCTS)
        assert len(body["data"]["myCart"]["lines"]) == size
        assert body["data"]["myCart"]["lines"][0]["product"]["category"] == {
            "name": "Kettles",
            "parent": {"name": "Kitchen"},
        }
        counts[size] = log.count
    # The products in one batch, then their categories, then the categories above.
    assert set(counts.values()) == {3}, counts


async def test_a_cart_answer(
    shopper: Shopper, session_maker: SessionMaker, snapshot: SnapshotAssertion
) -> None:
    kettle, cup, pot = await shop(session_maker)
    await shopper.add(kettle, 2)
    await shopper.add(cup, 1)
    await shopper.add(pot, 4)
    await archive(session_maker, cup)
    document = """{ myCart {
      lines { product { name sku price { amount currency } } quantity available
              unitPrice { amount currency } lineTotal { amount currency } }
      total { amount currency } itemCount
    } }"""
    assert await shopper(document) == snapshot
    assert Decimal((await shopper.cart())["total"]["amount"]) == kettle.price * 2 + pot.price * 4


ADD_ASKING = "mutation ($id: ID!) { addToCart(input: {productId: $id, quantity: 1}) { %s } }"


async def test_a_change_reads_the_carts_products_only_when_the_cart_is_asked_for(
    app: Starlette, shopper: Shopper, session_maker: SessionMaker
) -> None:
    kettle, cup, _ = await shop(session_maker)
    await shopper.add(cup, 1)
    counts = {}
    for selection in ("errors { code }", "cart { __typename }", "cart { itemCount }"):
        with count_statements(app.state.services.engine) as log:
            body = await shopper(ADD_ASKING % selection, {"id": pid(kettle)})
        assert "errors" not in body, body
        counts[selection] = log.count
        if selection.startswith("cart"):
            assert body["data"]["addToCart"]["cart"] is not None
    # The product added is read to check it is sold; the cart's products once more only
    # when the answer shows the cart.
    assert counts == {"errors { code }": 1, "cart { __typename }": 2, "cart { itemCount }": 2}
    assert (await shopper.cart())["itemCount"] == 4

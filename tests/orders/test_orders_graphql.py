"""Orders over GraphQL (issue 19): who sees which order (`order`, `myOrders`, `orders`, and
`node`), the lifecycle's steps as mutations (refused ones change nothing), the statement
count of a page of orders on both read paths, Redis lost mid-session, and the "paid"
notification reaching the `notifications` subscription."""

from __future__ import annotations

import httpx
import pytest
from redis.asyncio import Redis
from sqlmodel import col, select
from starlette.applications import Starlette

from hom.app import learn_database_features
from hom.catalog.models import Product
from hom.core.config import Settings
from hom.core.db import SessionMaker
from hom.core.roles import Role
from hom.core.unit_of_work import unit_of_work
from hom.core.viewer import Viewer
from hom.orders.models import Order
from tests.catalog.factories import global_id
from tests.factories import login_tokens
from tests.orders.order_support import (
    MY_ORDERS,
    ORDER,
    ORDERS,
    Caller,
    a_caller,
    order_gid,
    step_document,
)
from tests.orders.shop import a_shop, levels, place, stored_order, traces
from tests.support import GraphQLClient, count_statements, error_codes

pytestmark = pytest.mark.usefixtures("features_learnt")

ROLES = ("owner", "other customer", "staff", "operator", "admin", "anonymous")


@pytest.fixture
async def callers(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> dict[str, Caller]:
    made = {
        "owner": await a_caller(client, gql, session_maker),
        "other customer": await a_caller(client, gql, session_maker),
        "staff": await a_caller(client, gql, session_maker, Role.STAFF),
        "operator": await a_caller(client, gql, session_maker, Role.OPERATOR),
        "admin": await a_caller(client, gql, session_maker, Role.ADMIN),
    }
    return {**made, "anonymous": Caller(gql, None)}


@pytest.fixture
async def placed(callers: dict[str, Caller], session_maker: SessionMaker) -> Order:
    """The owner's order of 2 of one product (stock 10) and 1 of another (stock 5)."""
    shop = await a_shop(session_maker, 10, 5)
    owner = callers["owner"]
    a, b = shop.products
    await owner.add(a, 2)
    await owner.add(b, 1)
    number = (await owner.checkout())["order"]["number"]
    async with unit_of_work(session_maker) as session:
        statement = select(Order).where(col(Order.number) == number)
        return (await session.exec(statement)).one()


# --- who sees what ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
async def test_an_order_is_for_its_customer_and_the_shop(
    callers: dict[str, Caller], placed: Order, role: str
) -> None:
    body = await callers[role](ORDER, {"id": order_gid(placed.id)})
    if role == "anonymous":
        assert error_codes(body) == ["UNAUTHENTICATED"]
        return
    assert "errors" not in body, body
    order = body["data"]["order"]
    if role in ("other customer", "staff"):
        assert order is None
        missing = await callers[role](ORDER, {"id": order_gid(10**9)})
        assert missing == body  # the same answer as for no such order
        return
    assert order["number"] == placed.number
    assert order["customerEmail"] == callers["owner"].email
    assert [line["quantity"] for line in order["lines"]] == [2, 1]


@pytest.mark.parametrize("role", ROLES)
async def test_node_obeys_the_same_rule(
    callers: dict[str, Caller], placed: Order, role: str
) -> None:
    query = "query ($id: ID!) { node(id: $id) { ... on Order { number } } }"
    body = await callers[role](query, {"id": order_gid(placed.id)})
    seen = (body.get("data") or {}).get("node")
    expected = {"number": placed.number} if role in ("owner", "operator", "admin") else None
    assert seen == expected


@pytest.mark.parametrize("role", ROLES)
async def test_my_orders_are_each_callers_own(
    callers: dict[str, Caller], placed: Order, role: str
) -> None:
    body = await callers[role](MY_ORDERS)
    if role == "anonymous":
        assert error_codes(body) == ["UNAUTHENTICATED"]
        return
    assert "errors" not in body, body
    mine = body["data"]["myOrders"]
    if role == "owner":
        assert mine == {
            "totalCount": 1,
            "edges": [{"node": {"number": placed.number, "status": "PENDING_PAYMENT"}}],
        }
    else:
        assert mine == {"totalCount": 0, "edges": []}


@pytest.mark.parametrize("role", ROLES)
async def test_all_orders_are_for_operators_and_admins(
    callers: dict[str, Caller], placed: Order, role: str
) -> None:
    body = await callers[role](ORDERS)
    if role == "anonymous":
        assert error_codes(body) == ["UNAUTHENTICATED"]
    elif role in ("owner", "other customer", "staff"):
        assert error_codes(body) == ["FORBIDDEN"]
    else:
        assert body["data"]["orders"]["edges"] == [
            {
                "node": {
                    "number": placed.number,
                    "status": "PENDING_PAYMENT",
                    "customerEmail": callers["owner"].email,
                    "customer": {"fullName": "Test User"},
                }
            }
        ]


async def test_the_filters_narrow_the_lists(
    callers: dict[str, Caller], placed: Order, session_maker: SessionMaker
) -> None:
    owner, operator = callers["owner"], callers["operator"]
    paid = await owner(MY_ORDERS, {"status": "PAID"})
    assert paid["data"]["myOrders"] == {"totalCount": 0, "edges": []}
    pending = await owner(MY_ORDERS, {"status": "PENDING_PAYMENT"})
    assert pending["data"]["myOrders"]["totalCount"] == 1
    by_customer = {"customerId": global_id("Person", owner.user_id)}
    others = {"customerId": global_id("Person", callers["admin"].user_id)}
    before = {"to": placed.placed_at.isoformat() if placed.placed_at else None}
    since = {"from": placed.placed_at.isoformat() if placed.placed_at else None}
    answers = [
        await operator(ORDERS, {"filter": criteria})
        for criteria in (by_customer, others, before, since, {"status": "CANCELLED"})
    ]
    assert [len(body["data"]["orders"]["edges"]) for body in answers] == [1, 0, 0, 1, 0]


# --- the lifecycle -----------------------------------------------------------------------


async def test_operators_take_an_order_from_paid_to_delivered(
    callers: dict[str, Caller], placed: Order, session_maker: SessionMaker
) -> None:
    operator = callers["operator"]
    seen = []
    for mutation in ("markOrderPaid", "fulfillOrder", "shipOrder", "deliverOrder"):
        body = await operator.step(mutation, placed.id)
        answer = body["data"][mutation]
        assert answer["errors"] == [], answer
        seen.append(answer["order"]["status"])
    assert seen == ["PAID", "FULFILLED", "SHIPPED", "DELIVERED"]
    order = answer["order"]
    assert all(order[stamp] for stamp in ("paidAt", "fulfilledAt", "shippedAt", "deliveredAt"))
    assert order["cancelledAt"] is None
    a, b = sorted(await levels(session_maker))
    assert await levels(session_maker) == {a: (8, 0), b: (4, 0)}  # shipped


@pytest.mark.parametrize("mutation", ["fulfillOrder", "shipOrder", "deliverOrder"])
async def test_a_step_out_of_turn_is_refused_and_changes_nothing(
    callers: dict[str, Caller], placed: Order, session_maker: SessionMaker, mutation: str
) -> None:
    before = await traces(session_maker), await levels(session_maker)
    body = await callers["operator"].step(mutation, placed.id)
    answer = body["data"][mutation]
    assert answer["order"] is None
    assert [(e["code"], e["field"]) for e in answer["errors"]] == [("INVALID_TRANSITION", "id")]
    assert (await traces(session_maker), await levels(session_maker)) == before
    assert (await stored_order(session_maker, placed.id or 0)).status == "PENDING_PAYMENT"


@pytest.mark.parametrize("role", ["owner", "other customer", "staff", "anonymous"])
@pytest.mark.parametrize("mutation", ["markOrderPaid", "fulfillOrder", "shipOrder", "deliverOrder"])
async def test_only_the_shop_takes_the_shops_steps(
    callers: dict[str, Caller], placed: Order, role: str, mutation: str
) -> None:
    body = await callers[role].step(mutation, placed.id)
    assert body["data"] is None
    assert error_codes(body) == ["UNAUTHENTICATED" if role == "anonymous" else "FORBIDDEN"]


async def test_a_customer_cancels_their_unpaid_order_and_the_stock_is_released(
    callers: dict[str, Caller], placed: Order, session_maker: SessionMaker
) -> None:
    other = await callers["other customer"].step("cancelOrder", placed.id)
    assert other["data"]["cancelOrder"] == {
        "order": None,
        "errors": [{"field": "id", "message": "No such order", "code": "NOT_FOUND"}],
    }
    body = await callers["owner"].step("cancelOrder", placed.id)
    answer = body["data"]["cancelOrder"]
    assert (answer["errors"], answer["order"]["status"]) == ([], "CANCELLED")
    assert answer["order"]["cancelledAt"]
    assert {reserved for _, reserved in (await levels(session_maker)).values()} == {0}
    again = await callers["owner"].step("cancelOrder", placed.id)
    assert [e["code"] for e in again["data"]["cancelOrder"]["errors"]] == ["INVALID_TRANSITION"]


async def test_a_paid_order_is_cancelled_by_the_shop_only(
    callers: dict[str, Caller], placed: Order, session_maker: SessionMaker
) -> None:
    await callers["operator"].step("markOrderPaid", placed.id)
    before = await traces(session_maker)
    refused = await callers["owner"].step("cancelOrder", placed.id)
    assert [e["code"] for e in refused["data"]["cancelOrder"]["errors"]] == ["INVALID_TRANSITION"]
    assert await traces(session_maker) == before
    reason = (
        'mutation ($id: ID!) { cancelOrder(id: $id, reason: "Out of stock") {'
        " order { status cancelReason } errors { code } } }"
    )
    body = await callers["admin"](reason, {"id": order_gid(placed.id)})
    assert body["data"]["cancelOrder"] == {
        "order": {"status": "CANCELLED", "cancelReason": "Out of stock"},
        "errors": [],
    }
    assert {reserved for _, reserved in (await levels(session_maker)).values()} == {0}


async def test_a_malformed_id_is_bad_user_input(callers: dict[str, Caller]) -> None:
    body = await callers["operator"](step_document("markOrderPaid"), {"id": "nonsense"})
    assert error_codes(body) == ["BAD_USER_INPUT"]


# --- what a page of orders costs ---------------------------------------------------------

PAGE = """query ($first: Int!) {
  myOrders(first: $first) { edges { node {
    number total { amount } lines { quantity product { name category { name } } }
  } } }
}"""
# The executor: the page, its lines, their products, the products' categories.
PAGE_STATEMENTS = {"compiled": 1, "executor": 4}


@pytest.mark.parametrize("path", ["compiled", "executor"])
async def test_a_page_of_orders_costs_the_same_for_any_size(
    app: Starlette,
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    path: str,
) -> None:
    app.state.compiled.enabled = path == "compiled"
    shop = await a_shop(session_maker, 99, 99, 99)
    customer = await a_caller(client, gql, session_maker)
    viewer = _viewer(customer)
    for n in range(30):
        lines = {shop.products[n % 3]: 1, shop.products[(n + 1) % 3]: 2}
        await place(session_maker, viewer, lines, key=f"k-{n}")
    await learn_database_features(app.state.services)
    counts = {}
    for first in (1, 10, 30):
        with count_statements(app.state.services.engine) as log:
            body = await customer(PAGE, {"first": first})
        assert "errors" not in body, body
        nodes = [edge["node"] for edge in body["data"]["myOrders"]["edges"]]
        assert len(nodes) == first
        assert all(len(node["lines"]) == 2 for node in nodes)
        assert nodes[0]["lines"][0]["product"]["category"] == {"name": "Stocked"}
        counts[first] = log.count
    assert set(counts.values()) == {PAGE_STATEMENTS[path]}, counts


LINE_PRICES = """query ($id: ID!) {
  order(id: $id) { total { currency } lines { unitPrice { amount currency } lineTotal {
    amount currency } } }
  myOrders(first: 1) { nodes { lines { unitPrice { amount currency } lineTotal {
    amount currency } } } }
}"""
# The compiled path: a statement per root field. The executor: the order, the page (its
# count is not asked), and the lines of both in one batch.
LINE_PRICE_STATEMENTS = {"compiled": 2, "executor": 3}


@pytest.mark.parametrize("path", ["compiled", "executor"])
async def test_an_order_lines_prices_are_money_in_the_orders_currency(
    app: Starlette,
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    path: str,
) -> None:
    """Priced in pounds when ordered, in euros since: the lines stay in the order's pounds."""
    app.state.compiled.enabled = path == "compiled"
    shop = await a_shop(session_maker, 10, 10)
    await _price_in(session_maker, shop.products, "GBP")
    customer = await a_caller(client, gql, session_maker)
    a, b = shop.products
    await customer.add(a, 2)
    await customer.add(b, 1)
    order_id = (await customer.checkout())["order"]["id"]
    await _price_in(session_maker, shop.products, "EUR")
    await learn_database_features(app.state.services)

    compiled = app.state.compiled
    answered = compiled.answered
    with count_statements(app.state.services.engine) as log:
        body = await customer(LINE_PRICES, {"id": order_id})
    assert "errors" not in body, body
    assert compiled.answered - answered == (1 if path == "compiled" else 0)
    assert log.count == LINE_PRICE_STATEMENTS[path], log.statements
    pounds = [
        {"unitPrice": gbp("9.90"), "lineTotal": gbp("19.80")},
        {"unitPrice": gbp("10.90"), "lineTotal": gbp("10.90")},
    ]
    assert body["data"]["order"] == {"total": {"currency": "GBP"}, "lines": pounds}
    assert body["data"]["myOrders"] == {"nodes": [{"lines": pounds}]}


def gbp(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "GBP"}


async def _price_in(session_maker: SessionMaker, product_ids: list[int], currency: str) -> None:
    async with unit_of_work(session_maker) as session:
        for product_id in product_ids:
            product = await session.get(Product, product_id)
            assert product is not None
            product.currency = currency


def _viewer(caller: Caller) -> Viewer:
    assert caller.user_id is not None
    return Viewer(user_id=caller.user_id, role=Role.CUSTOMER, sid="s", jti="j", expires_at=0)


# --- Redis lost --------------------------------------------------------------------------


async def test_losing_redis_empties_carts_and_keeps_orders(
    client: httpx.AsyncClient,
    callers: dict[str, Caller],
    placed: Order,
    redis: Redis,
    settings: Settings,
    session_maker: SessionMaker,
) -> None:
    owner = callers["owner"]
    a, _ = sorted(await levels(session_maker))
    await owner.add(a, 1)
    assert await owner.cart_count() == 1
    async for key in redis.scan_iter(match=f"{settings.redis_prefix}*"):
        await redis.delete(key)  # this run's share of Redis, as FLUSHDB would
    assert owner.email is not None
    owner.token = (await login_tokens(client, owner.email)).access_token  # may be logged out
    assert await owner.cart_count() == 0
    mine = await owner(MY_ORDERS)
    assert mine["data"]["myOrders"]["edges"] == [
        {"node": {"number": placed.number, "status": "PENDING_PAYMENT"}}
    ]
    await owner.add(a, 1)
    assert (await owner.checkout("after-the-flush"))["order"]["status"] == "PENDING_PAYMENT"


# --- what a page of orders is priced at --------------------------------------------------


async def test_a_page_of_orders_is_priced_by_its_size_and_its_lines(
    callers: dict[str, Caller], gql: GraphQLClient
) -> None:
    query = "query ($n: Int!) { myOrders(first: $n) { nodes { number lines { sku } } } }"
    costs = []
    for first in (1, 10):
        body = await gql.answer(query, {"n": first}, token=callers["owner"].token)
        costs.append(body["extensions"]["cost"]["requestedQueryCost"])
    # `first` times what one order costs, its lines counted at their declared estimate (5).
    assert costs == [7, 70]


COUNTED = """query ($first: Int, $after: String, $status: OrderStatus) {
  myOrders(first: $first, after: $after, filter: {status: $status}) {
    totalCount edges { cursor node { number } } pageInfo { hasNextPage endCursor }
  }
}"""


async def test_the_compiled_path_counts_my_orders_in_the_pages_statement(
    app: Starlette, client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker
) -> None:
    shop = await a_shop(session_maker, 99)
    customer = await a_caller(client, gql, session_maker)
    for n in range(3):
        await place(session_maker, _viewer(customer), {shop.products[0]: 1}, key=f"k-{n}")
    await learn_database_features(app.state.services)
    compiled = app.state.compiled
    pages = []
    for variables in ({"first": 2}, {"first": 0}, {"status": "DELIVERED"}):
        answered = compiled.answered
        with count_statements(app.state.services.engine) as log:
            body = await customer(COUNTED, variables)
        assert (compiled.answered - answered, log.count) == (1, 1), variables
        pages.append(body["data"]["myOrders"])
    assert [(p["totalCount"], len(p["edges"])) for p in pages] == [(3, 2), (3, 0), (0, 0)]
    rest = await customer(COUNTED, {"first": 5, "after": pages[0]["pageInfo"]["endCursor"]})
    after_last = await customer(
        COUNTED, {"after": rest["data"]["myOrders"]["pageInfo"]["endCursor"]}
    )
    assert (rest["data"]["myOrders"]["totalCount"], len(rest["data"]["myOrders"]["edges"])) == (
        3,
        1,
    )
    assert after_last["data"]["myOrders"]["totalCount"] == 3
    assert after_last["data"]["myOrders"]["edges"] == []

"""An order's "paid" notification reaches its customer's `notifications` subscription on
another instance (tests/notifications/test_live.py shows the machinery)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from redis.asyncio import Redis
from strawberry.relay import from_base64

from hom.accounts.models import User
from hom.app import create_app
from hom.core.config import Settings
from hom.core.roles import Role
from hom.core.unit_of_work import SessionMaker, unit_of_work
from tests.notifications.test_live import listening, receive, subscribe, websocket
from tests.orders.order_support import a_caller
from tests.orders.shop import a_shop
from tests.support import GraphQLClient, live_server

SUBSCRIBE = "subscription { notifications { kind title } }"


@pytest.fixture
def instance_b(settings: Settings) -> Iterator[str]:
    with live_server(create_app(settings)) as url:
        yield url


async def test_the_customer_hears_that_their_order_was_paid(
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    instance_b: str,
    redis: Redis,
    settings: Settings,
) -> None:
    shop = await a_shop(session_maker, 10)
    customer = await a_caller(client, gql, session_maker)
    operator = await a_caller(client, gql, session_maker, Role.OPERATOR)
    await customer.add(shop.products[0], 1)
    order = (await customer.checkout())["order"]
    async with unit_of_work(session_maker) as session:
        user = await session.get(User, customer.user_id)
    assert user is not None
    async with websocket(instance_b, customer.token) as ws:
        await subscribe(ws, "1", SUBSCRIBE)
        await listening(redis, settings, user)
        paid = await operator.step("markOrderPaid", int(from_base64(order["id"])[1]))
        assert paid["data"]["markOrderPaid"]["errors"] == []
        message = await receive(ws)
    assert message["payload"]["data"]["notifications"] == {
        "kind": "order.paid",
        "title": f"Order {order['number']} paid",
    }

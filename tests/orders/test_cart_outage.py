"""The cart when Redis loses its data or goes away (issue 19): a flushed Redis empties carts
and the API answers normally; a stopped one fails cart operations with SERVICE_UNAVAILABLE
and leaves the rest of a document, and the catalog, answering."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from hom.core.config import Settings
from hom.core.db import SessionMaker
from hom.core.redis import RedisKeys, create_redis
from hom.core.unavailable import UNAVAILABLE, UNAVAILABLE_DETAIL
from hom.orders import cart
from tests.accounts.test_redis_outage import PrivateRedis, app_on
from tests.factories import create_user, login_tokens
from tests.orders.cart_support import ADD, EMPTY_CART, MY_CART, Shopper, line, pid, shop
from tests.support import GraphQLClient, error_codes


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A redis-server of this test's own, to flush, stop and start again."""
    redis = PrivateRedis(tmp_path)
    yield redis
    redis.stop()


@pytest.fixture
async def outage_app(
    settings_factory: Callable[..., Settings],
    private_redis: PrivateRedis,
) -> AsyncIterator[tuple[httpx.AsyncClient, SessionMaker]]:
    """An app whose Redis is a private one, to flush and to stop."""
    async with app_on(settings_factory(redis_url=private_redis.url)) as pair:
        yield pair


async def test_a_flushed_redis_empties_carts_and_the_api_answers_normally(
    outage_app: tuple[httpx.AsyncClient, SessionMaker],
    private_redis: PrivateRedis,
) -> None:
    client, session_maker = outage_app
    gql = GraphQLClient(client)
    kettle, cup, _ = await shop(session_maker)
    user = await create_user(session_maker)
    shopper = Shopper(gql, (await login_tokens(client, user.email)).access_token)
    await shopper.add(kettle, 2)

    flusher = Redis.from_url(private_redis.url)
    await flusher.flushall()
    await flusher.aclose()

    # The session went with the rest (SPEC §1: losing Redis may log people out).
    shopper.token = (await login_tokens(client, user.email)).access_token
    assert await shopper.cart() == EMPTY_CART
    assert (await shopper.add(cup, 1))["cart"]["lines"] == [line(cup, 1)]
    products = await gql("{ products(first: 5) { edges { node { name } } } }")
    assert len(products["data"]["products"]["edges"]) == 3


async def test_a_stopped_redis_fails_the_cart_with_service_unavailable(
    outage_app: tuple[httpx.AsyncClient, SessionMaker],
    private_redis: PrivateRedis,
) -> None:
    client, session_maker = outage_app
    gql = GraphQLClient(client)
    kettle, *_ = await shop(session_maker)
    user = await create_user(session_maker)
    tokens = await login_tokens(client, user.email)
    shopper = Shopper(gql, tokens.access_token)
    await shopper.add(kettle, 2)

    private_redis.stop()
    body = await shopper("{ serverInfo { version } myCart { itemCount } }")
    assert error_codes(body) == ["SERVICE_UNAVAILABLE"]
    assert body["errors"][0]["message"] == UNAVAILABLE_DETAIL
    assert body["errors"][0]["path"] == ["myCart"]
    assert body["data"]["myCart"] is None
    assert body["data"]["serverInfo"]["version"]
    added = await shopper(ADD, {"id": pid(kettle), "q": 1})
    assert error_codes(added) == ["SERVICE_UNAVAILABLE"]
    products = await gql("{ products(first: 5) { edges { node { name } } } }")
    assert "errors" not in products, products
    assert len(products["data"]["products"]["edges"]) == 3

    private_redis.start()  # nothing was lost, nothing was added meanwhile
    assert (await shopper.cart())["lines"] == [line(kettle, 2)]
    assert (await shopper(MY_CART))["data"]["myCart"]["itemCount"] == 2


async def test_the_store_raises_what_the_edge_reports_as_unavailable(
    settings_factory: Callable[..., Settings], private_redis: PrivateRedis
) -> None:
    """The cart's own commands, not only the sign-in check before them, fail closed."""
    settings = settings_factory(redis_url=private_redis.url)
    client = create_redis(settings)
    store = cart.CartStore(client, RedisKeys(settings.redis_prefix))
    assert await store.add(1, 7, 2) == {7: 2}
    private_redis.stop()
    for attempt in (store.lines(1), store.add(1, 7, 1), store.remove(1, 7), store.clear(1)):
        with pytest.raises(UNAVAILABLE):
            await attempt
    await client.aclose()

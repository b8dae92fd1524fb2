"""What the orders' GraphQL tests share: the documents, and customers who fill a cart and
check it out over HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from hom.core.db import SessionMaker
from hom.core.roles import Role
from tests.catalog.factories import global_id
from tests.factories import create_user, login_tokens, signed_in
from tests.support import GraphQLClient

ORDER_FIELDS = """
  id number status total { amount currency }
  lines {
    sku name quantity unitPrice { amount currency } lineTotal { amount currency }
    product { name }
  }
  customer { fullName } customerEmail
  placedAt paidAt fulfilledAt shippedAt deliveredAt cancelledAt cancelReason
"""
ERRORS = "errors { field message code }"
CHECKOUT = (
    "mutation ($key: String!) { checkout(input: {idempotencyKey: $key}) { order {"
    + ORDER_FIELDS
    + "} "
    + ERRORS
    + " } }"
)
ADD = (
    "mutation ($id: ID!, $q: Int!) { addToCart(input: {productId: $id, quantity: $q}) {"
    " errors { code } } }"
)
MY_CART = "{ myCart { lines { quantity } itemCount } }"
ORDER = "query ($id: ID!) { order(id: $id) {" + ORDER_FIELDS + "} }"
MY_ORDERS = (
    "query ($status: OrderStatus) { myOrders(filter: {status: $status}) {"
    " totalCount edges { node { number status } } } }"
)
ORDERS = (
    "query ($filter: OrderFilter) { orders(filter: $filter) { edges { node { number status"
    " customerEmail customer { fullName } } } } }"
)
STEPS = {
    "markOrderPaid": "PAID",
    "fulfillOrder": "FULFILLED",
    "shipOrder": "SHIPPED",
    "deliverOrder": "DELIVERED",
    "cancelOrder": "CANCELLED",
}


def step_document(mutation: str) -> str:
    return (
        f"mutation ($id: ID!) {{ {mutation}(id: $id) {{ order {{ number status paidAt "
        f"fulfilledAt shippedAt deliveredAt cancelledAt }} {ERRORS} }} }}"
    )


def order_gid(order_id: int | None) -> str:
    return global_id("Order", order_id)


@dataclass
class Caller:
    """A signed-in user's GraphQL calls."""

    gql: GraphQLClient
    token: str | None
    user_id: int | None = None
    email: str | None = None

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        return await self.gql(query, variables, token=self.token)

    async def add(self, product_id: int, quantity: int = 1) -> None:
        body = await self(ADD, {"id": global_id("Product", product_id), "q": quantity})
        assert body["data"]["addToCart"]["errors"] == [], body

    async def checkout(self, key: str = "key-1") -> Any:
        body = await self(CHECKOUT, {"key": key})
        assert "errors" not in body, body
        return body["data"]["checkout"]

    async def cart_count(self) -> int:
        body = await self(MY_CART)
        assert "errors" not in body, body
        return int(body["data"]["myCart"]["itemCount"])

    async def step(self, mutation: str, order_id: int | None) -> Any:
        return await self(step_document(mutation), {"id": order_gid(order_id)})


async def a_caller(
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    role: Role = Role.CUSTOMER,
    *,
    verified: bool = True,
) -> Caller:
    if verified:
        user, tokens = await signed_in(client, session_maker, role)
    else:
        user = await create_user(session_maker, role=role, verified=False)
        tokens = await login_tokens(client, user.email)
    return Caller(gql, tokens.access_token, user.id, user.email)

"""What the cart tests share: the documents, a shop of products, and asking as a shopper."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import col, delete, update

from hom.catalog.models import Category, Product
from hom.core.db import SessionMaker
from hom.core.unit_of_work import unit_of_work
from tests.catalog.factories import create_category, create_products, global_id
from tests.support import GraphQLClient

CART_FIELDS = """
  lines {
    productId product { name } quantity available
    unitPrice { amount currency } lineTotal { amount currency }
  }
  total { amount currency } itemCount
"""
MY_CART = "{ myCart {" + CART_FIELDS + "} }"
ERRORS = "errors { field message code }"
ADD = (
    "mutation ($id: ID!, $q: Int!) { addToCart(input: {productId: $id, quantity: $q}) { cart {"
    + CART_FIELDS
    + "} "
    + ERRORS
    + " } }"
)
UPDATE = (
    "mutation ($id: ID!, $q: Int!) { updateCartItem(input: {productId: $id, quantity: $q}) {"
    " cart {" + CART_FIELDS + "} " + ERRORS + " } }"
)
REMOVE = (
    "mutation ($id: ID!) { removeFromCart(productId: $id) { cart {"
    + CART_FIELDS
    + "} "
    + ERRORS
    + " } }"
)
CLEAR = "mutation { clearCart { cart {" + CART_FIELDS + "} " + ERRORS + " } }"
EMPTY_CART = {"lines": [], "total": {"amount": "0.00", "currency": "EUR"}, "itemCount": 0}


def pid(product: Product) -> str:
    return global_id("Product", product.id)


async def shop(session_maker: SessionMaker, count: int = 3, tag: str = "Kettles") -> list[Product]:
    """`count` products priced 9.90, 10.90, 11.90 … (EUR), named "<tag> product <n>"."""
    category: Category = await create_category(session_maker, tag)
    return await create_products(session_maker, category, count)


async def archive(session_maker: SessionMaker, product: Product) -> None:
    async with unit_of_work(session_maker) as session:
        await session.exec(
            update(Product).where(col(Product.id) == product.id).values(is_active=False)
        )


async def delete_product(session_maker: SessionMaker, product: Product) -> None:
    async with unit_of_work(session_maker) as session:
        await session.exec(delete(Product).where(col(Product.id) == product.id))


def line(product: Product, quantity: int, *, name: str | None = None) -> dict[str, Any]:
    """The line of an available product, as CART_FIELDS asks for it."""
    price = product.price
    return {
        "productId": pid(product),
        "product": {"name": name or product.name},
        "quantity": quantity,
        "available": True,
        "unitPrice": {"amount": f"{price:.2f}", "currency": "EUR"},
        "lineTotal": {"amount": f"{price * quantity:.2f}", "currency": "EUR"},
    }


@dataclass
class Shopper:
    """A signed-in user's GraphQL calls."""

    gql: GraphQLClient
    token: str

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        return await self.gql(query, variables, token=self.token)

    async def cart(self) -> Any:
        body = await self(MY_CART)
        assert "errors" not in body, body
        return body["data"]["myCart"]

    async def add(self, product: Product | str, quantity: int = 1) -> Any:
        product_id = product if isinstance(product, str) else pid(product)
        body = await self(ADD, {"id": product_id, "q": quantity})
        assert "errors" not in body, body
        return body["data"]["addToCart"]

    async def update(self, product: Product | str, quantity: int) -> Any:
        product_id = product if isinstance(product, str) else pid(product)
        body = await self(UPDATE, {"id": product_id, "q": quantity})
        assert "errors" not in body, body
        return body["data"]["updateCartItem"]

    async def remove(self, product: Product | str) -> Any:
        product_id = product if isinstance(product, str) else pid(product)
        body = await self(REMOVE, {"id": product_id})
        assert "errors" not in body, body
        return body["data"]["removeFromCart"]

    async def clear(self) -> Any:
        body = await self(CLEAR)
        assert "errors" not in body, body
        return body["data"]["clearCart"]

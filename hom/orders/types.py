"""Strawberry types of the orders domain: the cart and its payloads.

A cart is not rows of a table (it lives in Redis, `hom.orders.cart`): only the executor
answers it (`myCart` has no compiled source). Its lines' products are read in one batch
through the products' by-id loader (the one every relation to a product shares), so a
line's `product` and what the selection asks below it cost no statement per line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

import strawberry
from strawberry.relay import to_base64

from hom.catalog import service as catalog
from hom.catalog.types import Money, ProductType
from hom.core.graphql.cost import estimate
from hom.core.graphql.payloads import Payload
from hom.core.graphql.relations import by_id_loader, prefetch, to_one

product_by_id = by_id_loader(catalog.Product)
# The total of a cart with nothing to pay for: the catalog's default currency.
EMPTY_CURRENCY = "EUR"


@strawberry.type(name="CartLine", description="One product in the cart, and how many.")
class CartLineType:
    product_id: strawberry.ID = strawberry.field(
        description="The product's id, also when `product` is null: what `updateCartItem` "
        "and `removeFromCart` take."
    )
    product_key: strawberry.Private[int]
    product: ProductType | None = to_one(
        key="product_key",
        target=lambda: ProductType,
        description="The product; null when it no longer exists, or is archived (then only "
        "operators and admins see it). Such a line stays, unavailable, until removed.",
    )
    quantity: int = strawberry.field(description="1 to 99.")
    available: bool = strawberry.field(
        description="Whether it can be bought now: false once the product is archived or "
        "deleted (never an error; checkout refuses such a line)."
    )
    unit_price: Money | None = strawberry.field(
        description="The product's current price; null when the line is not available."
    )
    line_total: Money | None = strawberry.field(
        description="`unitPrice` times `quantity`; null when the line is not available."
    )

    @classmethod
    def of(cls, product_id: int, quantity: int, row: catalog.Product | None) -> CartLineType:
        """The line of `quantity` of a product, whose row (None: deleted) holds its price."""
        sold = row if row is not None and row.is_active else None
        return cls(
            product_id=strawberry.ID(to_base64("Product", product_id)),
            product_key=product_id,
            quantity=quantity,
            available=sold is not None,
            unit_price=None if sold is None else Money(amount=sold.price, currency=sold.currency),
            line_total=None
            if sold is None
            else Money(amount=sold.price * quantity, currency=sold.currency),
        )


@strawberry.type(
    name="Cart",
    description="The signed-in user's cart, at today's prices. It lives for CART_TTL_DAYS "
    "after its last change.",
)
class CartType:
    lines: list[CartLineType] = strawberry.field(
        description="By product (in the order products were created).", metadata=estimate(10)
    )
    total: Money | None = strawberry.field(
        description="The sum of the available lines' totals (0.00 when there are none); null "
        "only when they are priced in more than one currency."
    )
    item_count: int = strawberry.field(description="How many items: the lines' quantities summed.")

    @classmethod
    def of(cls, lines: Mapping[int, int], rows: Sequence[catalog.Product | None]) -> CartType:
        """The cart of `lines` (product id → quantity), `rows` the products in id order."""
        made = [
            CartLineType.of(product_id, lines[product_id], row)
            for product_id, row in zip(sorted(lines), rows, strict=True)
        ]
        return cls(lines=made, total=_total(made), item_count=sum(lines.values()))


def _total(lines: Sequence[CartLineType]) -> Money | None:
    priced = [line.line_total for line in lines if line.line_total is not None]
    currencies = {money.currency for money in priced}
    if len(currencies) > 1:
        return None
    amount = sum((money.amount for money in priced), Decimal("0.00"))
    return Money(amount=amount, currency=currencies.pop() if currencies else EMPTY_CURRENCY)


async def present_cart(info: strawberry.Info, lines: Mapping[int, int], *path: str) -> CartType:
    """The cart of `lines` for the field at `path` under the current one: its products
    read in one batch, and what the selection asks of them prefetched."""
    ids = sorted(lines)
    rows = await info.context.loaders.get(product_by_id).load_many(ids) if ids else []
    cart = CartType.of(lines, rows)
    await prefetch(info, cart.lines, *path, "lines")
    return cart


@strawberry.input
class AddToCartInput:
    product_id: strawberry.ID
    quantity: int = strawberry.field(default=1, description="1 to 99; added to the line.")


@strawberry.input
class UpdateCartItemInput:
    product_id: strawberry.ID
    quantity: int = strawberry.field(description="The line's new quantity, 1 to 99.")


@strawberry.type
class CartPayload(Payload):
    cart: CartType | None = None


@strawberry.type
class AddToCartPayload(CartPayload):
    pass


@strawberry.type
class UpdateCartItemPayload(CartPayload):
    pass


@strawberry.type
class RemoveFromCartPayload(CartPayload):
    pass


@strawberry.type
class ClearCartPayload(CartPayload):
    pass

"""Strawberry types of the orders domain: the cart, orders and their payloads.

A cart is not rows of a table (it lives in Redis, `hom.orders.cart`): only the executor
answers it (`myCart` has no compiled source). Its lines' products are read in one batch
through the products' by-id loader (the one every relation to a product shares), so a
line's `product` and what the selection asks below it cost no statement per line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

import strawberry
from strawberry import relay
from strawberry.relay import to_base64

from hom.accounts.types import PersonType, user_id_of
from hom.catalog import service as catalog
from hom.catalog.types import Money, ProductType
from hom.core.graphql.cost import estimate
from hom.core.graphql.payloads import Payload
from hom.core.graphql.relations import (
    by_id_loader,
    computed,
    embedded,
    nodes_by_id,
    prefetch,
    to_many,
    to_one,
)
from hom.core.graphql.visibility import rows_of
from hom.orders import reads, rules
from hom.orders.loaders import order_by_id
from hom.orders.models import Order, OrderLine, OrderStatus

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


# --- orders --------------------------------------------------------------------------------

strawberry.enum(
    OrderStatus,
    name="OrderStatus",
    description="PENDING_PAYMENT → PAID → FULFILLED → SHIPPED → DELIVERED; CANCELLED from "
    "PENDING_PAYMENT or PAID.",
)


@rows_of(OrderLine, visible=rules.ORDER_LINES)
@strawberry.type(
    name="OrderLine",
    description="One product of an order, as it was sold: its sku, name and price then.",
)
class OrderLineType:
    line_id: strawberry.Private[int]
    product_id: strawberry.Private[int]
    product: ProductType | None = to_one(
        key="product_id",
        target=lambda: ProductType,
        description="The product now; null once archived (except for operators and admins).",
    )
    sku: str = strawberry.field(description="The product's sku when the order was placed.")
    name: str = strawberry.field(description="The product's name when the order was placed.")
    quantity: int
    row: strawberry.Private[OrderLine]
    unit_price: Money = embedded(
        Money,
        amount="unit_price",
        currency="currency",
        description="The price of one when the order was placed, in the order's currency.",
    )
    line_total: Money = embedded(
        Money,
        amount="line_total",
        currency="currency",
        description="`unitPrice` times `quantity`, in the order's currency.",
    )

    @classmethod
    def from_model(cls, line: OrderLine) -> OrderLineType:
        assert line.id is not None
        return cls(
            line_id=line.id,
            product_id=line.product_id,
            sku=line.sku,
            name=line.name,
            quantity=line.quantity,
            row=line,
        )


@rows_of(Order, visible=rules.ORDERS)
@strawberry.type(
    name="Order",
    description="An order: for its customer, operators and admins (anyone else: no such order).",
)
class OrderType(relay.Node):
    order_id: relay.NodeID[int]
    number: str = strawberry.field(description="Its human number: HOM-000123.")
    status: OrderStatus
    row: strawberry.Private[Order]
    total: Money = embedded(Money, amount="total", currency="currency")
    lines: list[OrderLineType] = to_many(
        key="order_id",
        foreign_key="order_id",
        order=reads.by_id,
        target=lambda: OrderLineType,
        estimate=5,
        description="What was ordered, in the order it was put in the cart's lines.",
    )
    user_id: strawberry.Private[int]
    customer: PersonType = to_one(
        key="user_id", target=lambda: PersonType, description="Who placed it."
    )
    customer_email: str | None = computed(
        key="order_id",
        sql=lambda row, _: reads.customer_email(row),
        personal=True,
        description="The customer's email address (now): for the customer and the shop.",
    )
    placed_at: datetime
    paid_at: datetime | None
    fulfilled_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None = strawberry.field(
        description="Why it was cancelled (null: not cancelled, or no reason given)."
    )

    @classmethod
    def from_model(cls, order: Order) -> OrderType:
        """The API object of a row (use `present` so visibility applies)."""
        assert order.id is not None
        assert order.placed_at is not None
        return cls(
            order_id=order.id,
            number=order.number,
            status=OrderStatus(order.status),
            row=order,
            user_id=order.user_id,
            placed_at=order.placed_at,
            paid_at=order.paid_at,
            fulfilled_at=order.fulfilled_at,
            shipped_at=order.shipped_at,
            delivered_at=order.delivered_at,
            cancelled_at=order.cancelled_at,
            cancel_reason=order.cancel_reason,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[OrderType | None]:
        return await nodes_by_id(info, cls, order_by_id, node_ids)


@strawberry.input(name="MyOrderFilter", description="Your orders matching every condition given.")
class MyOrderFilterInput:
    status: OrderStatus | None = None

    def to_filter(self) -> reads.OrderFilter:
        return reads.OrderFilter(status=self.status)


@strawberry.input(name="OrderFilter", description="Orders matching every condition given.")
class OrderFilterInput:
    status: OrderStatus | None = None
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="The customer's Person (or User) id."
    )
    from_: datetime | None = strawberry.field(
        default=None, name="from", description="Placed at or after (inclusive)."
    )
    to: datetime | None = strawberry.field(default=None, description="Placed before (exclusive).")

    def to_filter(self) -> reads.OrderFilter:
        customer = self.customer_id
        return reads.OrderFilter(
            status=self.status,
            customer_id=None if customer is None else user_id_of(customer, "filter.customerId"),
            placed_from=self.from_,
            placed_to=self.to,
        )


@strawberry.input
class CheckoutInput:
    idempotency_key: str = strawberry.field(
        description="Of your choosing (1 to 255 characters), new for each order: the same "
        "key again returns the order it placed, and with another cart is refused."
    )


@strawberry.type
class OrderPayload(Payload):
    order: OrderType | None = None


@strawberry.type
class CheckoutPayload(OrderPayload):
    pass


@strawberry.type
class CancelOrderPayload(OrderPayload):
    pass


@strawberry.type
class MarkOrderPaidPayload(OrderPayload):
    pass


@strawberry.type
class FulfillOrderPayload(OrderPayload):
    pass


@strawberry.type
class ShipOrderPayload(OrderPayload):
    pass


@strawberry.type
class DeliverOrderPayload(OrderPayload):
    pass

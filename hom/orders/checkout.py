"""Placing an order: all of it or nothing, once per idempotency key.

One transaction (the caller's) does everything: the order row first, which claims the
customer's idempotency key (a concurrent request with the same key waits on the unique
index until this one commits, then finds its order), then the lines with their
snapshots (sku, name, price), the "order received" mail and the in-app notification, and
last the reservation of every line through the inventory service: it locks the
products' stock levels, which other checkouts of those products wait for until the
commit, so nothing else comes between them. Any refusal or failure rolls it all back:
no order, no reservation, no mail. PostgreSQL's deadlock and serialization failures
are retried here (`hom.core.unit_of_work.retried`) and never reach the caller.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import cast

from sqlalchemy import ColumnClause, ColumnElement, literal_column
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.accounts import service as accounts
from hom.catalog.service import Product
from hom.core.clock import utcnow
from hom.core.errors import DomainError, ErrorCode
from hom.core.unit_of_work import retried
from hom.inventory import service as inventory
from hom.orders import notices
from hom.orders.models import MAX_KEY, Order, OrderLine

MAX_LINES = 50
MAX_LINE_QUANTITY = 99
# The next order number, in the INSERT itself: HOM-000001 … HOM-999999, HOM-1000000 …
NEXT_NUMBER: ColumnClause[str] = literal_column(
    "(SELECT 'HOM-' || lpad(n::text, greatest(6, length(n::text)), '0') "
    "FROM nextval('order_number_seq') AS n)"
)


class LineRefused(DomainError):
    """A line of the order cannot be had: PRODUCT_UNAVAILABLE or INSUFFICIENT_STOCK, with
    the product and (for stock) how many are available."""

    def __init__(
        self, code: ErrorCode, message: str, *, product_id: int, available: int | None = None
    ) -> None:
        super().__init__(code, message, "product_id")
        self.product_id = product_id
        self.available = available


def fingerprint(lines: Mapping[int, int]) -> str:
    """The lines' identity (sha256, hex): the same products and quantities, the same print."""
    canonical = ";".join(f"{product}x{quantity}" for product, quantity in sorted(lines.items()))
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str) -> str:
    if not key or not key.strip() or len(key) > MAX_KEY:
        message = f"An idempotency key has 1 to {MAX_KEY} characters"
        raise DomainError(ErrorCode.INVALID, message, "idempotency_key")
    return key


def check_lines(lines: Mapping[int, int]) -> dict[int, int]:
    if not lines:
        raise DomainError(ErrorCode.CART_EMPTY, "The cart is empty")
    if len(lines) > MAX_LINES:
        raise DomainError(ErrorCode.INVALID, f"An order has at most {MAX_LINES} lines", "lines")
    for quantity in lines.values():
        if not 1 <= quantity <= MAX_LINE_QUANTITY:
            message = f"A line has 1 to {MAX_LINE_QUANTITY} of a product"
            raise DomainError(ErrorCode.INVALID, message, "quantity")
    return dict(lines)


async def place_order(
    session: AsyncSession, *, user_id: int, lines: Mapping[int, int], idempotency_key: str
) -> Order:
    """Reserve the lines (product id → quantity) and place the order, or refuse and change
    nothing. The same key again returns the order it placed: with the same lines, or with
    none (the cart that order emptied); with other lines it is INVALID on
    `idempotency_key`."""
    key = check_key(idempotency_key)
    cart_print = fingerprint(lines)

    async def attempt() -> Order:
        try:
            wanted = check_lines(lines)
            name, email = await _verified_customer(session, user_id)
            products = await _sold_products(session, wanted)
        except DomainError:  # refused now (an empty cart too): a replay answers as before
            existing = await _keyed_order(session, user_id=user_id, key=key)
            if existing is None:
                raise
            return _replayed(existing, cart_print, empty=not lines)
        order, claimed = await _claim_key(
            session, user_id, key, cart_print, _priced(products, wanted)
        )
        if not claimed:  # a concurrent or earlier request with this key placed it
            return _replayed(order, cart_print, empty=False)
        written = await _write_lines(session, order, products, wanted)
        await notices.mail(
            session, order=order, lines=written, template=notices.RECEIVED_MAIL, to=email, name=name
        )
        await notices.notify(session, order=order)
        # Last: from here to the commit, the stock levels stay locked for everyone else.
        await _reserve(session, order, products, wanted)
        return order

    return await retried(session, attempt)


async def _keyed_order(session: AsyncSession, *, user_id: int, key: str) -> Order | None:
    statement = select(Order).where(
        col(Order.user_id) == user_id, col(Order.idempotency_key) == key
    )
    return (await session.exec(statement)).one_or_none()


def _replayed(order: Order, cart_print: str, *, empty: bool) -> Order:
    if empty or order.cart_fingerprint == cart_print:
        return order
    message = "This idempotency key was used for another cart"
    raise DomainError(ErrorCode.INVALID, message, "idempotency_key")


async def _verified_customer(session: AsyncSession, user_id: int) -> tuple[str, str]:
    user = await accounts.get_user(session, user_id=user_id)
    if user is None or not user.is_active:
        raise DomainError(ErrorCode.NOT_FOUND, "No such user", "user_id")
    if user.email_verified_at is None:
        raise DomainError(ErrorCode.EMAIL_NOT_VERIFIED, "Verify your email address to order")
    return user.full_name, user.email


async def _sold_products(session: AsyncSession, wanted: Mapping[int, int]) -> list[Product]:
    """The products, by id; PRODUCT_UNAVAILABLE for the first one archived or gone."""
    statement = select(Product).where(col(Product.id).in_(sorted(wanted)))
    found = {product.id: product for product in (await session.exec(statement)).all()}
    for product_id in sorted(wanted):
        product = found.get(product_id)
        if product is None or not product.is_active:
            what = f"{product.name} ({product.sku})" if product else f"Product {product_id}"
            message = f"{what} is no longer available"
            raise LineRefused(ErrorCode.PRODUCT_UNAVAILABLE, message, product_id=product_id)
    currencies = {product.currency for product in found.values()}
    if len(currencies) > 1:
        message = "The products are priced in different currencies"
        raise DomainError(ErrorCode.INVALID, message, "lines")
    return [found[product_id] for product_id in sorted(wanted)]


def _priced(products: Sequence[Product], wanted: Mapping[int, int]) -> tuple[str, Decimal]:
    """The order's currency and total."""
    assert all(product.id is not None for product in products)
    total = sum((p.price * wanted[p.id] for p in products if p.id), Decimal("0.00"))
    return products[0].currency, total


async def _claim_key(
    session: AsyncSession, user_id: int, key: str, cart_print: str, priced: tuple[str, Decimal]
) -> tuple[Order, bool]:
    """Insert the order, claiming the key: (the order, True). When another request holds
    the key, the INSERT waits until that one ends; if it committed: (its order, False); if
    it rolled back, the key is this request's after all."""
    currency, total = priced
    statement = (
        insert(Order)
        .values(
            number=NEXT_NUMBER,
            user_id=user_id,
            currency=currency,
            total=total,
            idempotency_key=key,
            cart_fingerprint=cart_print,
            placed_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["user_id", "idempotency_key"])
        .returning(Order)
    )
    inserted = (await session.exec(statement)).scalar_one_or_none()
    if inserted is not None:
        return inserted, True
    existing = await _keyed_order(session, user_id=user_id, key=key)
    assert existing is not None, "ON CONFLICT found a committed order with this key"
    return existing, False


async def _write_lines(
    session: AsyncSession, order: Order, products: Sequence[Product], wanted: Mapping[int, int]
) -> list[OrderLine]:
    """The order's lines with their snapshots (sku, name, price), in one INSERT: they are
    written once and never changed, so not through the ORM's unit of work."""
    assert order.id is not None
    rows = [
        OrderLine(
            order_id=order.id,
            product_id=product.id,
            sku=product.sku,
            name=product.name,
            quantity=wanted[product.id],
            currency=order.currency,  # the products' own: `_sold_products` refuses a mix
            unit_price=product.price,
            line_total=product.price * wanted[product.id],
        )
        for product in products
        if product.id is not None
    ]
    await session.exec(insert(OrderLine).values([row.model_dump(exclude={"id"}) for row in rows]))
    return rows


async def _reserve(
    session: AsyncSession, order: Order, products: Sequence[Product], wanted: Mapping[int, int]
) -> None:
    """Reserve the stock through the inventory service, all lines or none:
    INSUFFICIENT_STOCK names the first product short."""
    assert order.id is not None
    lines = [inventory.Line(product_id, quantity) for product_id, quantity in wanted.items()]
    try:
        await inventory.reserve(session, lines=lines, order_id=order.id)
    except DomainError as error:
        if error.code is not ErrorCode.INSUFFICIENT_STOCK:
            raise
        raise await _shortage(session, products, wanted) from None


async def _shortage(
    session: AsyncSession, products: Sequence[Product], wanted: Mapping[int, int]
) -> LineRefused:
    """INSUFFICIENT_STOCK naming the first product short and what it has available (read
    under the locks the refused reservation took, so it is what refused it)."""
    product_id = cast("ColumnElement[int]", col(Product.id))
    statement = select(product_id, inventory.available_quantity(product_id)).where(
        product_id.in_(sorted(wanted))
    )
    rows = (await session.exec(statement)).all()
    available = {int(product): int(have) for product, have in rows}
    for product in products:
        assert product.id is not None
        have = available.get(product.id, 0)
        if have < wanted[product.id]:
            message = f"Only {have} of {product.name} ({product.sku}) available"
            return LineRefused(
                ErrorCode.INSUFFICIENT_STOCK, message, product_id=product.id, available=have
            )
    message = "Not enough stock available"  # the stock moved since; the refusal stands
    return LineRefused(ErrorCode.INSUFFICIENT_STOCK, message, product_id=products[0].id or 0)

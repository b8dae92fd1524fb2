"""Tables of the orders: an order, its lines (snapshots of what was bought), and the
sequence its human number comes from.

An order is placed with an idempotency key of its customer's choosing (unique per customer)
and the fingerprint of the lines it was placed for: the same key with the same lines finds
the same order again, with other lines it is refused. Its status moves along the table in
`hom.orders.lifecycle`; the CHECKs below keep each stage's timestamp set once reached.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    Sequence,
    String,
)
from sqlmodel import Field, SQLModel

from hom.core.columns import id_column, timestamp_column, updated_at_column
from hom.core.reasons import MAX_REASON

NUMBER_PREFIX = "HOM-"
NUMBER_PATTERN = "^HOM-[0-9]{6,}$"
MAX_KEY = 255
# Order numbers: HOM-000001, HOM-000002… (a sequence, so numbers may skip, never repeat).
ORDER_NUMBER = Sequence("order_number_seq", metadata=SQLModel.metadata)


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "PENDING_PAYMENT"
    PAID = "PAID"
    FULFILLED = "FULFILLED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


def _one_of(column: str, values: Iterable[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


def _reached(stamp: str, statuses: Iterable[OrderStatus]) -> str:
    """An order in one of `statuses` has `stamp` set."""
    return f"NOT ({_one_of('status', statuses)}) OR {stamp} IS NOT NULL"


S = OrderStatus
STAGE_CHECKS = {
    "paid_at_set": ("paid_at", (S.PAID, S.FULFILLED, S.SHIPPED, S.DELIVERED)),
    "fulfilled_at_set": ("fulfilled_at", (S.FULFILLED, S.SHIPPED, S.DELIVERED)),
    "shipped_at_set": ("shipped_at", (S.SHIPPED, S.DELIVERED)),
    "delivered_at_set": ("delivered_at", (S.DELIVERED,)),
}


class Order(SQLModel, table=True):
    __tablename__ = "customer_order"
    __table_args__ = (
        Index("uq_customer_order_number", "number", unique=True),
        Index(
            "uq_customer_order_user_id_idempotency_key", "user_id", "idempotency_key", unique=True
        ),
        # myOrders: a customer's orders newest first (read backwards).
        Index("ix_customer_order_user_id_placed_at_id", "user_id", "placed_at", "id"),
        # orders(filter:) for operators, and the expiry of unpaid orders.
        Index("ix_customer_order_status_placed_at_id", "status", "placed_at", "id"),
        Index("ix_customer_order_placed_at_id", "placed_at", "id"),
        # What an order line's foreign key points at: the order in the line's currency.
        Index("uq_customer_order_id_currency", "id", "currency", unique=True),
        CheckConstraint(_one_of("status", OrderStatus), name="status"),
        CheckConstraint(f"number ~ '{NUMBER_PATTERN}'", name="number"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency"),
        CheckConstraint("total >= 0", name="total_not_negative"),
        CheckConstraint(
            f"length(idempotency_key) BETWEEN 1 AND {MAX_KEY}", name="idempotency_key_length"
        ),
        CheckConstraint("length(cart_fingerprint) = 64", name="cart_fingerprint_length"),
        *(
            CheckConstraint(_reached(stamp, statuses), name=name)
            for name, (stamp, statuses) in STAGE_CHECKS.items()
        ),
        CheckConstraint(
            "(status = 'CANCELLED') = (cancelled_at IS NOT NULL)", name="cancelled_at_set"
        ),
        CheckConstraint(
            "cancel_reason IS NULL OR status = 'CANCELLED'", name="cancel_reason_when_cancelled"
        ),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    number: str = Field(sa_column=Column(String(20), nullable=False))
    user_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("user_account.id", ondelete="RESTRICT"), nullable=False
        )
    )
    status: str = Field(
        default=OrderStatus.PENDING_PAYMENT.value,
        sa_column=Column(
            String(16), nullable=False, server_default=OrderStatus.PENDING_PAYMENT.value
        ),
    )
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    total: Decimal = Field(sa_column=Column(Numeric(16, 2), nullable=False))
    idempotency_key: str = Field(sa_column=Column(String(MAX_KEY), nullable=False))
    # sha256 (hex) of the lines the key was used for (`hom.orders.checkout.fingerprint`).
    cart_fingerprint: str = Field(sa_column=Column(String(64), nullable=False))
    placed_at: datetime | None = Field(
        default=None, sa_column=timestamp_column(nullable=False, default_now=True)
    )
    paid_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    fulfilled_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    shipped_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    delivered_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    cancelled_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    cancel_reason: str | None = Field(
        default=None, sa_column=Column(String(MAX_REASON), nullable=True)
    )
    updated_at: datetime | None = Field(default=None, sa_column=updated_at_column())


class OrderLine(SQLModel, table=True):
    """One product of an order, as it was when the order was placed (sku, name, price), in
    its order's currency (the foreign key keeps them equal)."""

    __tablename__ = "order_line"
    __table_args__ = (
        # Lines live and die with their order; a product that was ordered is archived, never
        # deleted (the ledger keeps it too).
        ForeignKeyConstraint(
            ["order_id", "currency"],
            ["customer_order.id", "customer_order.currency"],
            ondelete="CASCADE",
        ),
        Index("uq_order_line_order_id_product_id", "order_id", "product_id", unique=True),
        Index("ix_order_line_product_id", "product_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
        CheckConstraint("line_total = unit_price * quantity", name="line_total"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    order_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    product_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("product.id", ondelete="RESTRICT"), nullable=False)
    )
    sku: str = Field(sa_column=Column(String(64), nullable=False))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    quantity: int = Field(sa_column=Column(Integer, nullable=False))
    currency: str = Field(sa_column=Column(String(3), nullable=False))
    unit_price: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))
    line_total: Decimal = Field(sa_column=Column(Numeric(16, 2), nullable=False))

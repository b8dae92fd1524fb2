"""Tables of the inventory: warehouses, stock levels, the stock ledger, stock-takes.

A level is one product in one warehouse; `stock_movement` is its append-only ledger (a
trigger refuses UPDATE and DELETE). Every level equals the sum of its movements:
`on_hand` is the sum of the quantities of the kinds in `ON_HAND_KINDS`,
`reserved` of those in `RESERVED_KINDS` (a shipment moves both).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    text,
)
from sqlmodel import Field, SQLModel

from hom.core.columns import created_at_column, id_column, timestamp_column, updated_at_column

CODE_PATTERN = "^[A-Z0-9]+(-[A-Z0-9]+)*$"
MAX_QUANTITY = 1_000_000


class MovementKind(StrEnum):
    RECEIPT = "RECEIPT"
    SHIPMENT = "SHIPMENT"
    ADJUSTMENT = "ADJUSTMENT"
    RESERVATION = "RESERVATION"
    RELEASE = "RELEASE"
    TRANSFER_IN = "TRANSFER_IN"
    TRANSFER_OUT = "TRANSFER_OUT"


# Which column of the level each kind's signed quantity moves.
ON_HAND_KINDS = frozenset(
    {
        MovementKind.RECEIPT,
        MovementKind.SHIPMENT,
        MovementKind.ADJUSTMENT,
        MovementKind.TRANSFER_IN,
        MovementKind.TRANSFER_OUT,
    }
)
RESERVED_KINDS = frozenset({MovementKind.RESERVATION, MovementKind.RELEASE, MovementKind.SHIPMENT})


class CheckStatus(StrEnum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"


def _one_of(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


def _references(table: str, ondelete: str | None = None) -> ForeignKey:
    return ForeignKey(f"{table}.id", ondelete=ondelete)


def _reference_column(table: str, *, nullable: bool = False, ondelete: str | None = None) -> Column:  # type: ignore[type-arg]
    return Column(BigInteger, _references(table, ondelete), nullable=nullable)


class Warehouse(SQLModel, table=True):
    __tablename__ = "warehouse"
    __table_args__ = (
        Index("uq_warehouse_code", "code", unique=True),
        CheckConstraint(f"code ~ '{CODE_PATTERN}'", name="code"),
        CheckConstraint("length(name) BETWEEN 1 AND 120", name="name_length"),
        CheckConstraint("low_stock_threshold >= 0", name="low_stock_threshold"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    name: str = Field(sa_column=Column(String(120), nullable=False))
    code: str = Field(sa_column=Column(String(32), nullable=False))
    is_active: bool = Field(
        default=True, sa_column=Column(Boolean, nullable=False, server_default=text("true"))
    )
    # A level at or below it is low stock (`stockLevels(filter: {lowStock: true})`).
    low_stock_threshold: int = Field(
        default=5, sa_column=Column(Integer, nullable=False, server_default=text("5"))
    )
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())
    updated_at: datetime | None = Field(default=None, sa_column=updated_at_column())


class StockLevel(SQLModel, table=True):
    __tablename__ = "stock_level"
    __table_args__ = (
        Index("uq_stock_level_product_id_warehouse_id", "product_id", "warehouse_id", unique=True),
        Index("ix_stock_level_warehouse_id", "warehouse_id"),
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved_within_on_hand"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    product_id: int = Field(sa_column=_reference_column("product", ondelete="RESTRICT"))
    warehouse_id: int = Field(sa_column=_reference_column("warehouse", ondelete="RESTRICT"))
    on_hand: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    reserved: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    updated_at: datetime | None = Field(default=None, sa_column=updated_at_column())

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockMovement(SQLModel, table=True):
    """One change to one level; never updated or deleted (the database refuses)."""

    __tablename__ = "stock_movement"
    __table_args__ = (
        Index("ix_stock_movement_product_id_id", "product_id", "id"),
        Index("ix_stock_movement_warehouse_id_id", "warehouse_id", "id"),
        Index("ix_stock_movement_created_at", "created_at"),
        Index(
            "ix_stock_movement_order_id",
            "order_id",
            postgresql_where=text("order_id IS NOT NULL"),
        ),
        CheckConstraint(_one_of("kind", MovementKind), name="kind"),
        CheckConstraint("quantity <> 0", name="quantity_not_zero"),
        CheckConstraint("reason IS NULL OR length(reason) <= 500", name="reason_length"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    product_id: int = Field(sa_column=_reference_column("product", ondelete="RESTRICT"))
    warehouse_id: int = Field(sa_column=_reference_column("warehouse", ondelete="RESTRICT"))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    quantity: int = Field(sa_column=Column(Integer, nullable=False))
    actor_id: int | None = Field(
        default=None, sa_column=_reference_column("user_account", nullable=True)
    )
    reason: str | None = Field(default=None, sa_column=Column(String(500), nullable=True))
    # The order a reservation, release or shipment belongs to (orders reference it).
    order_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())


class InventoryCheck(SQLModel, table=True):
    """A stock-take of one warehouse: counts recorded while OPEN, adjustments on closing."""

    __tablename__ = "inventory_check"
    __table_args__ = (
        # One open check per warehouse: a second is INVENTORY_CHECK_OPEN.
        Index(
            "uq_inventory_check_warehouse_id_open",
            "warehouse_id",
            unique=True,
            postgresql_where=text("status = 'OPEN'"),
        ),
        Index("ix_inventory_check_warehouse_id_id", "warehouse_id", "id"),
        CheckConstraint(_one_of("status", CheckStatus), name="status"),
        CheckConstraint("(status = 'OPEN') = (closed_at IS NULL)", name="closed_when_closed_at"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    warehouse_id: int = Field(sa_column=_reference_column("warehouse", ondelete="RESTRICT"))
    status: str = Field(
        default=CheckStatus.OPEN.value,
        sa_column=Column(String(8), nullable=False, server_default=CheckStatus.OPEN.value),
    )
    opened_by_id: int | None = Field(
        default=None, sa_column=_reference_column("user_account", nullable=True)
    )
    opened_at: datetime | None = Field(
        default=None, sa_column=timestamp_column(nullable=False, default_now=True)
    )
    closed_by_id: int | None = Field(
        default=None, sa_column=_reference_column("user_account", nullable=True)
    )
    closed_at: datetime | None = Field(default=None, sa_column=timestamp_column())


class InventoryCount(SQLModel, table=True):
    """What was counted of one product in a check; `expected` is on hand when it was counted,
    so the adjustment on closing is `counted - expected` whatever moved since."""

    __tablename__ = "inventory_count"
    __table_args__ = (
        PrimaryKeyConstraint("check_id", "product_id", name="pk_inventory_count"),
        CheckConstraint("counted_quantity >= 0", name="counted_not_negative"),
        CheckConstraint("expected_quantity >= 0", name="expected_not_negative"),
    )

    check_id: int = Field(sa_column=_reference_column("inventory_check", ondelete="CASCADE"))
    product_id: int = Field(sa_column=_reference_column("product", ondelete="RESTRICT"))
    counted_quantity: int = Field(sa_column=Column(Integer, nullable=False))
    expected_quantity: int = Field(sa_column=Column(Integer, nullable=False))
    counted_by_id: int | None = Field(
        default=None, sa_column=_reference_column("user_account", nullable=True)
    )
    counted_at: datetime | None = Field(
        default=None, sa_column=timestamp_column(nullable=False, default_now=True)
    )

    @property
    def difference(self) -> int:
        return self.counted_quantity - self.expected_quantity

"""Inventory rules: warehouses and the stock ledger (receipts, adjustments, transfers,
and the reservations orders hold). Stock-takes live in `hom.inventory.checks`.

Plain async functions over a session; they never commit (the caller's
transaction does) and never import strawberry. Every change to a level writes
its movement in the same statement (`hom.inventory.ledger`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from hom.core.viewer import Viewer
from hom.inventory.models import StockLevel, StockMovement, Warehouse


@dataclass(frozen=True, kw_only=True)
class NewWarehouse:
    name: str
    code: str
    low_stock_threshold: int = 5


@dataclass(frozen=True, kw_only=True)
class WarehouseChanges:
    """Only the fields given (not None) change."""

    warehouse_id: int
    name: str | None = None
    code: str | None = None
    is_active: bool | None = None
    low_stock_threshold: int | None = None


@dataclass(frozen=True)
class Line:
    """One product and how many of it an order wants."""

    product_id: int
    quantity: int


def check_quantity(quantity: int, *, signed: bool = False) -> int:
    """1 … 1 000 000 (signed: -1 000 000 … 1 000 000 but not 0), else DomainError INVALID on
    `quantity`; the GraphQL edge reports it as BAD_USER_INPUT."""
    raise NotImplementedError


async def create_warehouse(session: AsyncSession, *, new: NewWarehouse, actor: Viewer) -> Warehouse:
    raise NotImplementedError


async def update_warehouse(
    session: AsyncSession, *, changes: WarehouseChanges, actor: Viewer
) -> Warehouse:
    raise NotImplementedError


async def receive_stock(
    session: AsyncSession,
    *,
    product_id: int,
    warehouse_id: int,
    quantity: int,
    reason: str | None,
    actor: Viewer | None,
) -> StockLevel:
    """A RECEIPT of `quantity`; the level is created on the first one. `actor` None: the
    system (demo data), not audited."""
    raise NotImplementedError


async def adjust_stock(
    session: AsyncSession,
    *,
    product_id: int,
    warehouse_id: int,
    quantity: int,
    reason: str,
    actor: Viewer,
) -> StockLevel:
    """An ADJUSTMENT by the signed `quantity`; INSUFFICIENT_STOCK when it would take on hand
    below what is reserved."""
    raise NotImplementedError


async def transfer_stock(
    session: AsyncSession,
    *,
    product_id: int,
    from_warehouse_id: int,
    to_warehouse_id: int,
    quantity: int,
    actor: Viewer,
) -> StockLevel:
    """TRANSFER_OUT and TRANSFER_IN together; returns the source level."""
    raise NotImplementedError


async def reserve(
    session: AsyncSession, *, lines: Sequence[Line], order_id: int
) -> list[StockMovement]:
    """Reserve every line for the order, all or nothing (INSUFFICIENT_STOCK)."""
    raise NotImplementedError


async def release(session: AsyncSession, *, order_id: int) -> list[StockMovement]:
    """Give back what the order still holds (idempotent)."""
    raise NotImplementedError


async def ship(session: AsyncSession, *, order_id: int) -> list[StockMovement]:
    """Ship what the order holds: on hand and reserved go down together."""
    raise NotImplementedError

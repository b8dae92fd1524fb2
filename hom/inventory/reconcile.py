"""Reconciliation: every stock level recomputed from the ledger, and where they disagree.

A level's `on_hand` is the sum of its movements of the kinds in `ON_HAND_KINDS`, its
`reserved` the sum over `RESERVED_KINDS`. One statement compares all of them (a full
outer join of `stock_level` with the per-level sums of `stock_movement`), so a level
with movements missing, a level that was changed without a movement, and movements
with no level at all each come out as a difference. `hom check-inventory` prints them;
the test suite checks them after every test.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.catalog.service import Product
from hom.inventory.models import (
    ON_HAND_KINDS,
    RESERVED_KINDS,
    MovementKind,
    StockLevel,
    StockMovement,
    Warehouse,
)


@dataclass(frozen=True, kw_only=True)
class LevelDifference:
    """One (product, warehouse) whose level and ledger disagree; level None: no level row."""

    product_id: int
    warehouse_id: int
    sku: str
    warehouse_code: str
    level_on_hand: int | None
    level_reserved: int | None
    ledger_on_hand: int
    ledger_reserved: int

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> LevelDifference:
        return cls(**row)

    def describe(self) -> str:
        level = (
            "no level"
            if self.level_on_hand is None
            else f"level on hand {self.level_on_hand}, reserved {self.level_reserved}"
        )
        ledger = f"ledger on hand {self.ledger_on_hand}, reserved {self.ledger_reserved}"
        return f"{self.sku} in {self.warehouse_code}: {level}; {ledger}"


@dataclass(frozen=True)
class LedgerCheck:
    """What `hom check-inventory` reports: how many levels it looked at, what differs."""

    levels_checked: int
    differences: list[LevelDifference]

    def summary(self) -> str:
        if not self.differences:
            return f"{self.levels_checked} stock levels checked, no differences"
        count = len(self.differences)
        noun = "difference" if count == 1 else "differences"
        return f"{self.levels_checked} stock levels checked, {count} {noun}"


def _sum_of(kinds: Iterable[MovementKind], name: str) -> Any:
    in_kinds = col(StockMovement.kind).in_(sorted(kind.value for kind in kinds))
    return func.coalesce(func.sum(StockMovement.quantity).filter(in_kinds), 0).label(name)


def _ledger() -> Any:
    """Per (product, warehouse): what the movements say on hand and reserved are."""
    keys = col(StockMovement.product_id), col(StockMovement.warehouse_id)
    sums = _sum_of(ON_HAND_KINDS, "on_hand"), _sum_of(RESERVED_KINDS, "reserved")
    return select(*keys, *sums).group_by(*keys).subquery("ledger")


def differences_statement() -> Select[Any]:
    """The one statement behind `level_differences` (also run on a bare driver connection)."""
    ledger = _ledger()
    product_id = func.coalesce(StockLevel.product_id, ledger.c.product_id)
    warehouse_id = func.coalesce(StockLevel.warehouse_id, ledger.c.warehouse_id)
    ledger_on_hand = func.coalesce(ledger.c.on_hand, 0)
    ledger_reserved = func.coalesce(ledger.c.reserved, 0)
    same_level = and_(
        StockLevel.product_id == ledger.c.product_id,
        StockLevel.warehouse_id == ledger.c.warehouse_id,
    )
    differs = or_(
        col(StockLevel.id).is_(None),
        col(StockLevel.on_hand) != ledger_on_hand,
        col(StockLevel.reserved) != ledger_reserved,
    )
    return (
        select(
            product_id.label("product_id"),
            warehouse_id.label("warehouse_id"),
            col(Product.sku).label("sku"),
            col(Warehouse.code).label("warehouse_code"),
            col(StockLevel.on_hand).label("level_on_hand"),
            col(StockLevel.reserved).label("level_reserved"),
            ledger_on_hand.label("ledger_on_hand"),
            ledger_reserved.label("ledger_reserved"),
        )
        .select_from(StockLevel)
        .join(ledger, same_level, full=True)
        .join(Product, col(Product.id) == product_id)
        .join(Warehouse, col(Warehouse.id) == warehouse_id)
        .where(differs)
        .order_by(col(Warehouse.code), col(Product.sku))
    )


async def level_differences(session: AsyncSession) -> list[LevelDifference]:
    """Every level that disagrees with its movements, and movements with no level."""
    statement: Any = differences_statement()
    return [LevelDifference.from_row(row._mapping) for row in await session.exec(statement)]


async def check_ledger(session: AsyncSession) -> LedgerCheck:
    """The differences and the number of levels, seen in one snapshot."""
    await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    count: Any = select(func.count()).select_from(StockLevel)
    levels = (await session.exec(count)).one()[0]
    return LedgerCheck(levels, await level_differences(session))

"""The stock ledger's one way to change a level: a movement row and the level's new numbers
in a single statement, guarded so that no level ever breaks its invariants.

A change moves `on_hand` by its quantity when its kind is in `ON_HAND_KINDS` and
`reserved` when it is in `RESERVED_KINDS` (a shipment moves both). The guard in
the UPDATE (`on_hand' >= reserved' >= 0`) is the conditional update: a level
without enough stock is simply not updated, and then no movement is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import BigInteger, Integer, String, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.inventory.models import (
    ON_HAND_KINDS,
    RESERVED_KINDS,
    MovementKind,
    StockLevel,
    Warehouse,
)

LevelKey = tuple[int, int]  # (product_id, warehouse_id)


@dataclass(frozen=True, kw_only=True)
class Change:
    """One movement to write: `quantity` is signed (a shipment's is negative)."""

    product_id: int
    warehouse_id: int
    kind: MovementKind
    quantity: int
    actor_id: int | None = None
    reason: str | None = None
    order_id: int | None = None

    @property
    def key(self) -> LevelKey:
        return (self.product_id, self.warehouse_id)

    @property
    def on_hand_delta(self) -> int:
        return self.quantity if self.kind in ON_HAND_KINDS else 0

    @property
    def reserved_delta(self) -> int:
        return self.quantity if self.kind in RESERVED_KINDS else 0


_APPLY = text(
    """
WITH change AS (
    SELECT * FROM unnest(
        :product_ids, :warehouse_ids, :on_hand_deltas, :reserved_deltas,
        :kinds, :quantities, :actor_ids, :reasons, :order_ids
    ) AS c(product_id, warehouse_id, on_hand_delta, reserved_delta,
           kind, quantity, actor_id, reason, order_id)
), level AS (
    UPDATE stock_level AS s
    SET on_hand = s.on_hand + c.on_hand_delta,
        reserved = s.reserved + c.reserved_delta,
        updated_at = now()
    FROM change AS c
    WHERE s.product_id = c.product_id AND s.warehouse_id = c.warehouse_id
      AND s.on_hand + c.on_hand_delta >= s.reserved + c.reserved_delta
      AND s.reserved + c.reserved_delta >= 0
    RETURNING s.*
), movement AS (
    INSERT INTO stock_movement
        (product_id, warehouse_id, kind, quantity, actor_id, reason, order_id)
    SELECT c.product_id, c.warehouse_id, c.kind, c.quantity, c.actor_id, c.reason, c.order_id
    FROM change AS c JOIN level AS l USING (product_id, warehouse_id)
)
SELECT * FROM level ORDER BY product_id, warehouse_id
"""
).bindparams(
    bindparam("product_ids", type_=ARRAY(BigInteger)),
    bindparam("warehouse_ids", type_=ARRAY(BigInteger)),
    bindparam("on_hand_deltas", type_=ARRAY(Integer)),
    bindparam("reserved_deltas", type_=ARRAY(Integer)),
    bindparam("kinds", type_=ARRAY(String)),
    bindparam("quantities", type_=ARRAY(Integer)),
    bindparam("actor_ids", type_=ARRAY(BigInteger)),
    bindparam("reasons", type_=ARRAY(String)),
    bindparam("order_ids", type_=ARRAY(BigInteger)),
)

_ENSURE = text(
    """
INSERT INTO stock_level (product_id, warehouse_id)
SELECT * FROM unnest(:product_ids, :warehouse_ids) ORDER BY 1, 2
ON CONFLICT (product_id, warehouse_id) DO NOTHING
"""
).bindparams(
    bindparam("product_ids", type_=ARRAY(BigInteger)),
    bindparam("warehouse_ids", type_=ARRAY(BigInteger)),
)


async def apply(session: AsyncSession, changes: Sequence[Change]) -> list[StockLevel]:
    """Write the changes (at most one per level) and their movements in one statement.

    Returns the levels that changed, by (product, warehouse): fewer than the
    changes when a level is missing or has not enough stock; the caller then
    refuses and its transaction rolls the rest back.
    """
    assert len({change.key for change in changes}) == len(changes), "one change per level"
    parameters = {
        "product_ids": [c.product_id for c in changes],
        "warehouse_ids": [c.warehouse_id for c in changes],
        "on_hand_deltas": [c.on_hand_delta for c in changes],
        "reserved_deltas": [c.reserved_delta for c in changes],
        "kinds": [c.kind.value for c in changes],
        "quantities": [c.quantity for c in changes],
        "actor_ids": [c.actor_id for c in changes],
        "reasons": [c.reason for c in changes],
        "order_ids": [c.order_id for c in changes],
    }
    statement = (
        select(StockLevel)
        .from_statement(_APPLY.bindparams(**parameters))
        .execution_options(populate_existing=True)
    )
    rows = await session.exec(statement)  # type: ignore[call-overload]
    return list(rows.scalars().all())


async def ensure_levels(session: AsyncSession, keys: Sequence[LevelKey]) -> None:
    """Create the (empty) levels that do not exist yet, in key order."""
    connection = await session.connection()
    await connection.execute(
        _ENSURE.bindparams(
            product_ids=[product_id for product_id, _ in keys],
            warehouse_ids=[warehouse_id for _, warehouse_id in keys],
        )
    )


async def lock_product_levels(
    session: AsyncSession, product_ids: Sequence[int]
) -> list[tuple[StockLevel, bool]]:
    """Every level of the products with whether its warehouse is active, locked in one fixed
    order (product, then warehouse): two transactions touching the same levels in different
    orders wait for each other, never deadlock."""
    statement = (
        select(StockLevel, col(Warehouse.is_active))
        .join(Warehouse, col(Warehouse.id) == col(StockLevel.warehouse_id))
        .where(col(StockLevel.product_id).in_(sorted(set(product_ids))))
        .order_by(col(StockLevel.product_id), col(StockLevel.warehouse_id))
        .with_for_update(of=StockLevel)
        .execution_options(populate_existing=True)
    )
    return [(level, active) for level, active in (await session.exec(statement)).all()]


async def lock_levels(session: AsyncSession, keys: Sequence[LevelKey]) -> list[StockLevel]:
    """The levels of `keys` (those that exist), locked like `lock_product_levels`."""
    wanted = set(keys)
    levels = await lock_product_levels(session, [product_id for product_id, _ in keys])
    return [level for level, _ in levels if (level.product_id, level.warehouse_id) in wanted]

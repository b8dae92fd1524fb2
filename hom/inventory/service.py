"""Inventory rules: the stock ledger (receipts, adjustments, transfers, and the
reservations orders hold). Warehouses live in `hom.inventory.warehouses`, stock-takes in
`hom.inventory.checks`.

Plain async functions over a session; they never commit (the caller's
transaction does) and never import strawberry. Every change to a level writes
its movement in the same statement (`hom.inventory.ledger`); operations over
several levels lock them first, in one fixed order.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.audit import service as audit
from hom.catalog import service as catalog
from hom.core.errors import DomainError, ErrorCode
from hom.core.reasons import check_reason
from hom.core.viewer import Viewer
from hom.inventory import ledger, reads, warehouses
from hom.inventory.allocation import Source, choose_warehouses
from hom.inventory.ledger import Change
from hom.inventory.models import (
    CODE_PATTERN,
    MAX_QUANTITY,
    RESERVED_KINDS,
    MovementKind,
    StockLevel,
    StockMovement,
)

# The SQL other domains read inventory with (they never import `reads`): the catalog's
# `inStock` filter, what a product has available, and the order of its stock levels.
available_quantity = reads.available_quantity
by_warehouse_code = reads.by_warehouse_code
in_stock_condition = reads.in_stock_condition

CODE = re.compile(CODE_PATTERN)
UNIQUE_FIELDS = {"uq_warehouse_code": "code"}


@dataclass(frozen=True)
class Line:
    """One product and how many of it an order wants."""

    product_id: int
    quantity: int


# --- checks --------------------------------------------------------------------------------


def check_quantity(quantity: int, *, signed: bool = False, field: str = "quantity") -> int:
    """1 … 1 000 000 (signed: also -1 000 000 … -1), else INVALID on `field`; the GraphQL
    edge reports it as BAD_USER_INPUT."""
    size = abs(quantity) if signed else quantity
    if not 1 <= size <= MAX_QUANTITY:
        span = f"±1 to ±{MAX_QUANTITY}" if signed else f"1 to {MAX_QUANTITY}"
        raise DomainError(ErrorCode.INVALID, f"Quantity must be {span}", field)
    return quantity


# --- stock ---------------------------------------------------------------------------------


async def require_product(session: AsyncSession, *, product_id: int) -> None:
    if await catalog.get_product(session, product_id=product_id) is None:
        raise DomainError(ErrorCode.NOT_FOUND, "No such product", "product_id")


def insufficient(
    message: str = "Not enough stock available", field: str = "quantity"
) -> DomainError:
    return DomainError(ErrorCode.INSUFFICIENT_STOCK, message, field)


async def _apply_one(session: AsyncSession, change: Change) -> StockLevel:
    """One level's change; INSUFFICIENT_STOCK when its guard refuses it."""
    changed = await ledger.apply(session, [change])
    if not changed:
        raise insufficient()
    return changed[0]


async def _audit_stock(
    session: AsyncSession, *, actor: Viewer | None, action: str, level: StockLevel, **changes: Any
) -> None:
    if actor is not None:
        assert level.id is not None
        record = {"product_id": level.product_id, "warehouse_id": level.warehouse_id, **changes}
        await audit.record(
            session,
            actor=actor,
            action=action,
            entity="StockLevel",
            entity_id=level.id,
            changes=record,
        )


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
    check_quantity(quantity)
    change = Change(
        product_id=product_id,
        warehouse_id=warehouse_id,
        kind=MovementKind.RECEIPT,
        quantity=quantity,
        actor_id=actor.user_id if actor else None,
        reason=check_reason(reason, required=False),
    )
    return await _change_level(session, change, actor=actor, action="stock.receive")


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
    check_quantity(quantity, signed=True)
    change = Change(
        product_id=product_id,
        warehouse_id=warehouse_id,
        kind=MovementKind.ADJUSTMENT,
        quantity=quantity,
        actor_id=actor.user_id,
        reason=check_reason(reason, required=True),
    )
    return await _change_level(session, change, actor=actor, action="stock.adjust")


async def _change_level(
    session: AsyncSession, change: Change, *, actor: Viewer | None, action: str
) -> StockLevel:
    """One level's change by an operator (audited) or the system; a level that does not
    exist yet is created when the change adds stock."""
    await require_product(session, product_id=change.product_id)
    await warehouses.require_warehouse(session, warehouse_id=change.warehouse_id)
    if change.quantity > 0:
        await ledger.ensure_levels(session, [change.key])
    level = await _apply_one(session, change)
    await _audit_stock(
        session,
        actor=actor,
        action=action,
        level=level,
        quantity=change.quantity,
        reason=change.reason,
    )
    return level


async def transfer_stock(
    session: AsyncSession,
    *,
    product_id: int,
    from_warehouse_id: int,
    to_warehouse_id: int,
    quantity: int,
    actor: Viewer,
) -> StockLevel:
    """TRANSFER_OUT and TRANSFER_IN together, or neither; returns the source level."""
    check_quantity(quantity)
    if from_warehouse_id == to_warehouse_id:
        raise DomainError(ErrorCode.INVALID, "Transfer to another warehouse", "to_warehouse_id")
    await require_product(session, product_id=product_id)
    await warehouses.require_warehouse(
        session, warehouse_id=from_warehouse_id, field="from_warehouse_id"
    )
    await warehouses.require_warehouse(
        session, warehouse_id=to_warehouse_id, field="to_warehouse_id", active=True
    )
    keys = [(product_id, to_warehouse_id)]
    await ledger.ensure_levels(session, keys)
    await ledger.lock_levels(session, [(product_id, from_warehouse_id), *keys])
    changes = [
        Change(
            product_id=product_id,
            warehouse_id=warehouse,
            kind=kind,
            quantity=signed,
            actor_id=actor.user_id,
        )
        for warehouse, kind, signed in (
            (from_warehouse_id, MovementKind.TRANSFER_OUT, -quantity),
            (to_warehouse_id, MovementKind.TRANSFER_IN, quantity),
        )
    ]
    changed = await ledger.apply(session, changes)
    source = next((level for level in changed if level.warehouse_id == from_warehouse_id), None)
    if source is None:
        raise insufficient("Not enough stock available in the source warehouse")
    await _audit_stock(
        session,
        actor=actor,
        action="stock.transfer",
        level=source,
        to_warehouse_id=to_warehouse_id,
        quantity=quantity,
    )
    return source


# --- reservations (the orders domain's API) ------------------------------------------------


def _merged(lines: Sequence[Line]) -> dict[int, int]:
    """Quantities by product (a product on two lines is reserved once, summed)."""
    wanted: dict[int, int] = defaultdict(int)
    for line in lines:
        check_quantity(line.quantity)
        wanted[line.product_id] += line.quantity
    return dict(wanted)


async def reserve(
    session: AsyncSession, *, lines: Sequence[Line], order_id: int
) -> list[StockLevel]:
    """Reserve every line for the order, all or nothing: INSUFFICIENT_STOCK (field
    `product_id`, naming the product id) when one cannot be covered. Warehouses are
    chosen by `hom.inventory.allocation.choose_warehouses`."""
    wanted = _merged(lines)
    locked = await ledger.lock_product_levels(session, list(wanted))
    sources: dict[int, list[Source]] = defaultdict(list)
    for level, active in locked:
        if active:
            sources[level.product_id].append(Source(level.warehouse_id, level.available))
    changes = []
    for product_id, quantity in sorted(wanted.items()):
        chosen = choose_warehouses(sources[product_id], quantity)
        if chosen is None:
            raise insufficient(f"Not enough stock of product {product_id}", "product_id")
        changes += [
            Change(
                product_id=product_id,
                warehouse_id=warehouse_id,
                kind=MovementKind.RESERVATION,
                quantity=part,
                order_id=order_id,
            )
            for warehouse_id, part in chosen
        ]
    return await _apply_all(session, changes)


async def _apply_all(session: AsyncSession, changes: Sequence[Change]) -> list[StockLevel]:
    changed = await ledger.apply(session, changes)
    if len(changed) != len(changes):  # cannot happen under the locks; the guard holds anyway
        raise insufficient()
    return changed


async def _held(session: AsyncSession, order_id: int) -> dict[ledger.LevelKey, int]:
    """What the order still holds reserved, by level (after locking those levels)."""
    touched = select(col(StockMovement.product_id), col(StockMovement.warehouse_id)).where(
        col(StockMovement.order_id) == order_id
    )
    keys = [(p, w) for p, w in (await session.exec(touched.distinct())).all()]
    if not keys:
        return {}
    await ledger.lock_levels(session, keys)
    held = (
        select(
            col(StockMovement.product_id),
            col(StockMovement.warehouse_id),
            func.sum(col(StockMovement.quantity)),
        )
        .where(
            col(StockMovement.order_id) == order_id,
            col(StockMovement.kind).in_([kind.value for kind in RESERVED_KINDS]),
        )
        .group_by(col(StockMovement.product_id), col(StockMovement.warehouse_id))
    )
    rows = (await session.exec(held)).all()
    return {(p, w): int(total) for p, w, total in rows if total > 0}


async def _settle(session: AsyncSession, order_id: int, kind: MovementKind) -> list[StockLevel]:
    """Take everything the order holds out of reserved (RELEASE) or out of stock (SHIPMENT)."""
    held = await _held(session, order_id)
    changes = [
        Change(product_id=p, warehouse_id=w, kind=kind, quantity=-quantity, order_id=order_id)
        for (p, w), quantity in sorted(held.items())
    ]
    return await _apply_all(session, changes) if changes else []


async def release(session: AsyncSession, *, order_id: int) -> list[StockLevel]:
    """Give back what the order still holds (a second call finds nothing to give back)."""
    return await _settle(session, order_id, MovementKind.RELEASE)


async def ship(session: AsyncSession, *, order_id: int) -> list[StockLevel]:
    """Ship what the order holds: on hand and reserved go down together."""
    return await _settle(session, order_id, MovementKind.SHIPMENT)

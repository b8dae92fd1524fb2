"""Stock-takes: one open check per warehouse collects counts; closing it writes an
ADJUSTMENT for every difference between what was counted and what was on hand.

A count remembers what was on hand when it was taken (`expected_quantity`), so
the adjustment is the difference found then, whatever moved between counting
and closing. Recording a count takes a share lock on the check and closing
takes it exclusively, so no count slips in while a check closes.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, bindparam, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.audit import service as audit
from hom.core.clock import utcnow
from hom.core.db import violated_constraint
from hom.core.errors import DomainError, ErrorCode
from hom.core.viewer import Viewer
from hom.inventory import ledger, service, warehouses
from hom.inventory.ledger import Change
from hom.inventory.models import (
    MAX_QUANTITY,
    CheckStatus,
    InventoryCheck,
    InventoryCount,
    MovementKind,
    StockLevel,
)

ONE_OPEN_CHECK = "uq_inventory_check_warehouse_id_open"

_RECORD = text(
    """
INSERT INTO inventory_count
    (check_id, product_id, counted_quantity, expected_quantity, counted_by_id)
SELECT c.id, :product_id, :counted, coalesce(l.on_hand, 0), :actor_id
FROM inventory_check AS c
LEFT JOIN stock_level AS l ON l.warehouse_id = c.warehouse_id AND l.product_id = :product_id
WHERE c.id = :check_id AND c.status = 'OPEN'
FOR SHARE OF c
ON CONFLICT (check_id, product_id) DO UPDATE SET
    counted_quantity = excluded.counted_quantity,
    expected_quantity = excluded.expected_quantity,
    counted_by_id = excluded.counted_by_id,
    counted_at = now()
RETURNING check_id
"""
).bindparams(
    bindparam("check_id", type_=BigInteger),
    bindparam("product_id", type_=BigInteger),
    bindparam("counted", type_=Integer),
    bindparam("actor_id", type_=BigInteger),
)


def check_count(counted: int) -> int:
    if not 0 <= counted <= MAX_QUANTITY:
        message = f"A counted quantity is 0 to {MAX_QUANTITY}"
        raise DomainError(ErrorCode.INVALID, message, "counted_quantity")
    return counted


async def get_check(session: AsyncSession, *, check_id: int) -> InventoryCheck | None:
    return await session.get(InventoryCheck, check_id, populate_existing=True)


async def _refused(session: AsyncSession, check_id: int, field: str) -> DomainError:
    """Why an OPEN-only step found no open check: it does not exist, or it is closed."""
    if await get_check(session, check_id=check_id) is None:
        return DomainError(ErrorCode.NOT_FOUND, "No such inventory check", field)
    return DomainError(ErrorCode.INVALID_TRANSITION, "This inventory check is closed", field)


async def start_inventory_check(
    session: AsyncSession, *, warehouse_id: int, actor: Viewer
) -> InventoryCheck:
    """Open a check of the warehouse; INVENTORY_CHECK_OPEN when one is open already."""
    await warehouses.require_warehouse(session, warehouse_id=warehouse_id)
    check = InventoryCheck(warehouse_id=warehouse_id, opened_by_id=actor.user_id)
    try:
        async with session.begin_nested():
            session.add(check)
            await session.flush()
    except IntegrityError as error:
        if violated_constraint(error) != ONE_OPEN_CHECK:
            raise
        message = "This warehouse has an open inventory check; close it first"
        raise DomainError(ErrorCode.INVENTORY_CHECK_OPEN, message, "warehouse_id") from None
    await session.refresh(check)
    await _audit(session, actor=actor, action="inventory_check.start", check=check)
    return check


async def record_inventory_count(
    session: AsyncSession, *, check_id: int, product_id: int, counted_quantity: int, actor: Viewer
) -> InventoryCheck:
    """Record (or correct) what was counted of a product in an open check."""
    check_count(counted_quantity)
    await service.require_product(session, product_id=product_id)
    parameters = {
        "check_id": check_id,
        "product_id": product_id,
        "counted": counted_quantity,
        "actor_id": actor.user_id,
    }
    connection = await session.connection()
    recorded = (await connection.execute(_RECORD.bindparams(**parameters))).first()
    if recorded is None:
        raise await _refused(session, check_id, "check_id")
    check = await get_check(session, check_id=check_id)
    assert check is not None
    changes = {"product_id": product_id, "counted_quantity": counted_quantity}
    await _audit(session, actor=actor, action="inventory_check.count", check=check, **changes)
    return check


async def close_inventory_check(
    session: AsyncSession, *, check_id: int, actor: Viewer
) -> InventoryCheck:
    """Close an open check and adjust every level whose count differed (all or nothing)."""
    closed = await session.exec(
        select(InventoryCheck)
        .where(col(InventoryCheck.id) == check_id, col(InventoryCheck.status) == CheckStatus.OPEN)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    check = closed.first()
    if check is None:
        raise await _refused(session, check_id, "id")
    check.status = CheckStatus.CLOSED.value
    check.closed_by_id = actor.user_id
    check.closed_at = utcnow()
    session.add(check)
    await session.flush()
    adjusted = await _adjust_differences(session, check, actor)
    await _audit(session, actor=actor, action="inventory_check.close", check=check, **adjusted)
    return check


async def _adjust_differences(
    session: AsyncSession, check: InventoryCheck, actor: Viewer
) -> dict[str, int]:
    counts = (
        await session.exec(select(InventoryCount).where(col(InventoryCount.check_id) == check.id))
    ).all()
    changes = [
        Change(
            product_id=count.product_id,
            warehouse_id=check.warehouse_id,
            kind=MovementKind.ADJUSTMENT,
            quantity=count.difference,
            actor_id=actor.user_id,
            reason=f"Inventory check {check.id}",
        )
        for count in sorted(counts, key=lambda count: count.product_id)
        if count.difference != 0
    ]
    if changes:
        await ledger.ensure_levels(session, [change.key for change in changes])
        await ledger.lock_levels(session, [change.key for change in changes])
        changed = await ledger.apply(session, changes)
        if len(changed) != len(changes):
            raise _below_reserved(changes, changed)
    return {"counts": len(counts), "adjustments": len(changes)}


def _below_reserved(changes: list[Change], changed: list[StockLevel]) -> DomainError:
    done = {(level.product_id, level.warehouse_id) for level in changed}
    refused = sorted(change.product_id for change in changes if change.key not in done)
    message = (
        "Counted below what is reserved for products "
        f"{', '.join(map(str, refused))}: release or ship those orders first"
    )
    return DomainError(ErrorCode.INSUFFICIENT_STOCK, message, "id")


async def _audit(
    session: AsyncSession, *, actor: Viewer, action: str, check: InventoryCheck, **changes: object
) -> None:
    record = {"warehouse_id": check.warehouse_id, "status": check.status, **changes}
    await audit.record(
        session,
        actor=actor,
        action=action,
        entity="InventoryCheck",
        entity_id=check.id or 0,
        changes=record,
    )

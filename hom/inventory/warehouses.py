"""Warehouses: created and changed by operators and admins (audited).

Plain async functions over a session, like the service; they never commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from hom.audit import service as audit
from hom.catalog import service as catalog
from hom.core.db import save_unique
from hom.core.errors import DomainError, ErrorCode
from hom.core.viewer import Viewer
from hom.inventory.models import CODE_PATTERN, MAX_QUANTITY, Warehouse

CODE = re.compile(CODE_PATTERN)
UNIQUE_FIELDS = {"uq_warehouse_code": "code"}


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


def check_code(code: str) -> str:
    if len(code) > 32 or not CODE.fullmatch(code):
        raise DomainError(
            ErrorCode.INVALID,
            "A code is capital letters and digits in words joined by '-', at most 32",
            "code",
        )
    return code


def check_threshold(threshold: int) -> int:
    if not 0 <= threshold <= MAX_QUANTITY:
        raise DomainError(
            ErrorCode.INVALID,
            f"The low-stock threshold is 0 to {MAX_QUANTITY}",
            "low_stock_threshold",
        )
    return threshold


async def get_warehouse(session: AsyncSession, *, warehouse_id: int) -> Warehouse | None:
    return await session.get(Warehouse, warehouse_id)


async def require_warehouse(
    session: AsyncSession, *, warehouse_id: int, field: str = "warehouse_id", active: bool = False
) -> Warehouse:
    """The warehouse, else NOT_FOUND on `field`; with `active`, INVALID when it is not."""
    warehouse = await get_warehouse(session, warehouse_id=warehouse_id)
    if warehouse is None:
        raise DomainError(ErrorCode.NOT_FOUND, "No such warehouse", field)
    if active and not warehouse.is_active:
        raise DomainError(ErrorCode.INVALID, f"Warehouse {warehouse.code} is inactive", field)
    return warehouse


def _warehouse_audited(warehouse: Warehouse) -> dict[str, Any]:
    return {
        "name": warehouse.name,
        "code": warehouse.code,
        "is_active": warehouse.is_active,
        "low_stock_threshold": warehouse.low_stock_threshold,
    }


async def _audit(
    session: AsyncSession, *, actor: Viewer, action: str, row: Any, changes: dict[str, Any]
) -> None:
    assert row.id is not None
    entity = type(row).__name__
    await audit.record(
        session, actor=actor, action=action, entity=entity, entity_id=row.id, changes=changes
    )


async def create_warehouse(session: AsyncSession, *, new: NewWarehouse, actor: Viewer) -> Warehouse:
    warehouse = Warehouse(
        name=catalog.check_text(new.name, field="name", label="Name", longest=120),
        code=check_code(new.code),
        low_stock_threshold=check_threshold(new.low_stock_threshold),
    )
    await save_unique(session, warehouse, UNIQUE_FIELDS)
    changes = _warehouse_audited(warehouse)
    await _audit(session, actor=actor, action="warehouse.create", row=warehouse, changes=changes)
    return warehouse


async def update_warehouse(
    session: AsyncSession, *, changes: WarehouseChanges, actor: Viewer
) -> Warehouse:
    warehouse = await require_warehouse(session, warehouse_id=changes.warehouse_id, field="id")
    before = _warehouse_audited(warehouse)
    if changes.name is not None:
        warehouse.name = catalog.check_text(changes.name, field="name", label="Name", longest=120)
    if changes.code is not None:
        warehouse.code = check_code(changes.code)
    if changes.low_stock_threshold is not None:
        warehouse.low_stock_threshold = check_threshold(changes.low_stock_threshold)
    if changes.is_active is not None:
        warehouse.is_active = changes.is_active
    await save_unique(session, warehouse, UNIQUE_FIELDS)
    await session.refresh(warehouse)
    diff = audit.diff(before, _warehouse_audited(warehouse))
    await _audit(session, actor=actor, action="warehouse.update", row=warehouse, changes=diff)
    return warehouse

"""Audit rules: record a change in the caller's transaction; list the log for admins."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.audit.models import AuditEntry
from hom.core.clock import iso_utc
from hom.core.export import ExportRequest
from hom.core.pagination import Page, PageRequest, SortKey, keyset_select, make_page
from hom.core.viewer import Viewer

AUDIT_KEYS = [SortKey(col(AuditEntry.id), descending=True)]


async def record(
    session: AsyncSession,
    *,
    actor: Viewer,
    action: str,
    entity: str,
    entity_id: int | str,
    changes: dict[str, Any],
) -> AuditEntry:
    """Append an entry; it commits or rolls back with the change it describes."""
    entry = AuditEntry(
        actor_id=actor.user_id,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        changes=changes,
    )
    session.add(entry)
    await session.flush()
    return entry


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """`{field: {"from": old, "to": new}}` for the fields that changed."""
    return {
        name: {"from": before.get(name), "to": value}
        for name, value in after.items()
        if before.get(name) != value
    }


@dataclass(frozen=True, kw_only=True)
class AuditFilter:
    actor_id: int | None = None
    action: str | None = None
    entity: str | None = None
    entity_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def list_entries(
    session: AsyncSession, *, filters: AuditFilter, request: PageRequest
) -> Page[AuditEntry]:
    """Newest first."""
    statement = select(AuditEntry)
    conditions: Sequence[Any] = [
        col(AuditEntry.actor_id) == filters.actor_id if filters.actor_id is not None else None,
        col(AuditEntry.action) == filters.action if filters.action else None,
        col(AuditEntry.entity) == filters.entity if filters.entity else None,
        col(AuditEntry.entity_id) == filters.entity_id if filters.entity_id else None,
        col(AuditEntry.at) >= filters.since if filters.since else None,
        col(AuditEntry.at) < filters.until if filters.until else None,
    ]
    for condition in conditions:
        if condition is not None:
            statement = statement.where(condition)
    rows = (await session.exec(keyset_select(statement, AUDIT_KEYS, request))).all()
    return make_page(rows, request, lambda entry: (entry.id,))


async def entries_by_ids(session: AsyncSession, *, ids: Sequence[int]) -> list[AuditEntry | None]:
    """Batch lookup in the order asked (the entries loader)."""
    rows = await session.exec(select(AuditEntry).where(col(AuditEntry.id).in_(ids)))
    found = {entry.id: entry for entry in rows}
    return [found.get(entry_id) for entry_id in ids]


async def entries_of_user(session: AsyncSession, *, user_id: int) -> list[AuditEntry]:
    """Every entry the user made or that is about their account, oldest first."""
    statement = (
        select(AuditEntry)
        .where(
            (col(AuditEntry.actor_id) == user_id)
            | ((col(AuditEntry.entity) == "User") & (col(AuditEntry.entity_id) == str(user_id)))
        )
        .order_by(col(AuditEntry.id))
    )
    return list((await session.exec(statement)).all())


def entry_export(entry: AuditEntry) -> dict[str, Any]:
    return {
        "action": entry.action,
        "entity": entry.entity,
        "entityId": entry.entity_id,
        "changes": entry.changes,
        "at": iso_utc(entry.at) if entry.at else None,
    }


async def export_section(session: AsyncSession, *, request: ExportRequest) -> dict[str, Any]:
    """The audit's part of `exportMyData`: what the user did, and what was done to them."""
    entries = await entries_of_user(session, user_id=request.user_id)
    return {
        "auditLog": [
            {**entry_export(entry), "byYou": entry.actor_id == request.user_id} for entry in entries
        ]
    }

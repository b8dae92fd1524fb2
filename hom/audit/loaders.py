"""Relations of audit entries, prefetched by selection (the actor, through the users loader)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import strawberry
from sqlmodel import col, select

from hom.accounts.loaders import user_by_id
from hom.accounts.types import UserType
from hom.audit.models import AuditEntry
from hom.core.lookahead import Relation, prefetch, selection_of

if TYPE_CHECKING:
    from hom.audit.types import AuditEntryType
    from hom.context import Context


def _assign_actor(entry: AuditEntryType, user: Any) -> None:
    entry.actor = UserType.from_model(user) if user is not None else None


def audit_relations(context: Context) -> list[Relation]:
    return [
        Relation(
            field="actor",
            key=lambda entry: entry.actor_id,
            loader=lambda: context.loaders.get(user_by_id),
            assign=_assign_actor,
        )
    ]


async def with_relations(
    info: strawberry.Info, entries: Sequence[AuditEntryType], path: tuple[str, ...] = ()
) -> None:
    """Load every relation the entries' selection (at `path`) asks for, a batch per relation."""
    await prefetch(entries, selection_of(info).at(*path), audit_relations(info.context))


async def entries_with_relations(
    info: strawberry.Info, ids: list[int]
) -> list[AuditEntryType | None]:
    from hom.audit.types import AuditEntryType

    async with info.context.db.session() as session:
        rows = await session.exec(select(AuditEntry).where(col(AuditEntry.id).in_(ids)))
        found = {entry.id: AuditEntryType.from_model(entry) for entry in rows}
    await with_relations(info, list(found.values()))
    return [found.get(entry_id) for entry_id in ids]

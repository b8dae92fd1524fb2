"""Strawberry types of the audit log."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from hom.accounts.types import UserType
from hom.audit.models import AuditEntry


@strawberry.type(name="AuditEntry", description="One admin or operator change.")
class AuditEntryType(relay.Node):
    entry_id: relay.NodeID[int]
    action: str
    entity: str
    entity_id: str
    changes: JSON
    at: datetime
    actor_id: strawberry.Private[int | None]
    actor: UserType | None = strawberry.field(default=None, description="Who made the change.")

    @classmethod
    def from_model(cls, entry: AuditEntry) -> AuditEntryType:
        assert entry.id is not None
        assert entry.at is not None
        return cls(
            entry_id=entry.id,
            action=entry.action,
            entity=entry.entity,
            entity_id=entry.entity_id,
            changes=JSON(entry.changes),
            at=entry.at,
            actor_id=entry.actor_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[AuditEntryType | None]:
        """Admins only; the actor is prefetched like in `auditLog`."""
        from hom.audit import loaders

        viewer = await info.context.viewer()
        ids = [int(node_id) for node_id in node_ids]
        if viewer is None or not viewer.is_admin:
            return [None for _ in ids]
        return await loaders.entries_with_relations(info, ids)


@strawberry.input
class AuditFilter:
    actor_id: strawberry.ID | None = None
    action: str | None = None
    entity: str | None = None
    entity_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

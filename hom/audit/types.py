"""Strawberry types of the audit log."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from hom.accounts.types import PersonType
from hom.audit.loaders import audit_entry_by_id
from hom.audit.models import AuditEntry
from hom.audit.rules import AUDIT_ENTRIES
from hom.core.graphql.relations import nodes_by_id, to_one
from hom.core.graphql.visibility import personal, visible_to


@visible_to(AUDIT_ENTRIES)
@strawberry.type(name="AuditEntry", description="One admin or operator change (admins only).")
class AuditEntryType(relay.Node):
    entry_id: relay.NodeID[int]
    action: str
    entity: str
    entity_id: str
    changes: JSON = personal("What changed: `{field: {from, to}}`, or the created values.")
    at: datetime
    actor_id: strawberry.Private[int | None]
    actor: PersonType | None = to_one(
        key="actor_id",
        target=lambda: PersonType,
        description="Who made the change (null once their account is gone).",
    )

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
        return await nodes_by_id(info, cls, audit_entry_by_id, node_ids)


@strawberry.input
class AuditFilter:
    actor_id: strawberry.ID | None = None
    action: str | None = None
    entity: str | None = None
    entity_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

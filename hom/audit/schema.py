"""AuditQuery: the audit log, for admins."""

from __future__ import annotations

import strawberry

from hom.accounts.types import user_id_of
from hom.audit import service
from hom.audit.types import AuditEntryType, AuditFilter
from hom.core.graphql.permissions import IsAdmin
from hom.core.graphql.reading import read_page
from hom.core.graphql.relay import Connection


def _filters(criteria: AuditFilter | None) -> service.AuditFilter:
    if criteria is None:
        return service.AuditFilter()
    actor = criteria.actor_id
    actor_id = None if actor is None else user_id_of(actor, "filter.actorId")
    return service.AuditFilter(
        actor_id=actor_id,
        action=criteria.action,
        entity=criteria.entity,
        entity_id=criteria.entity_id,
        since=criteria.since,
        until=criteria.until,
    )


@strawberry.type
class AuditQuery:
    @strawberry.field(
        permission_classes=[IsAdmin], description="Every admin and operator change, newest first."
    )
    async def audit_log(
        self,
        info: strawberry.Info,
        filter: AuditFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[AuditEntryType]:
        filters = _filters(filter)
        connection: Connection[AuditEntryType] = await read_page(
            info,
            AuditEntryType,
            service.AUDIT_KEYS,
            (first, after, last, before),
            lambda s, request: service.list_entries(s, filters=filters, request=request),
        )
        return connection

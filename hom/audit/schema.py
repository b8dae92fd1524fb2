"""AuditQuery: the audit log, for admins."""

from __future__ import annotations

import strawberry

from hom.accounts.schema import ADMIN, user_id_of
from hom.audit import loaders, service
from hom.audit.types import AuditEntryType, AuditFilter
from hom.core.pagination import page_request
from hom.core.relay import Connection


def _filters(criteria: AuditFilter | None) -> service.AuditFilter:
    if criteria is None:
        return service.AuditFilter()
    actor_id = user_id_of(criteria.actor_id, "filter.actorId") if criteria.actor_id else None
    return service.AuditFilter(
        actor_id,
        criteria.action,
        criteria.entity,
        criteria.entity_id,
        criteria.since,
        criteria.until,
    )


@strawberry.type
class AuditQuery:
    @strawberry.field(
        permission_classes=[ADMIN], description="Every admin and operator change, newest first."
    )
    async def audit_log(
        self,
        info: strawberry.Info,
        filter: AuditFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[AuditEntryType]:
        request = page_request(first, after, service.AUDIT_KEYS)
        async with info.context.db.session() as session:
            page = await service.list_entries(session, _filters(filter), request)
        nodes = [AuditEntryType.from_model(entry) for entry in page.rows]
        await loaders.with_relations(info, nodes, ("edges", "node"))
        return Connection.from_page(page, nodes)

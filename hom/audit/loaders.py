"""DataLoaders of the audit log: one per relation, named for what it loads."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from hom.audit import service
from hom.audit.models import AuditEntry
from hom.context import Context, session_loader


def audit_entry_by_id(context: Context) -> DataLoader[int, AuditEntry | None]:
    return session_loader(context, lambda session, ids: service.entries_by_ids(session, ids=ids))

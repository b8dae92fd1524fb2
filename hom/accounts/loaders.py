"""DataLoaders of the accounts domain: one per relation, named for what it loads."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from hom.accounts import service
from hom.accounts.models import User
from hom.context import Context, session_loader


def user_by_id(context: Context) -> DataLoader[int, User | None]:
    return session_loader(context, lambda session, ids: service.users_by_ids(session, ids=ids))

"""DataLoaders of the accounts domain (one per relation, created per request)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from strawberry.dataloader import DataLoader

from hom.accounts import service
from hom.accounts.models import User

if TYPE_CHECKING:
    from hom.context import Context


def user_by_id(context: Context) -> DataLoader[int, User | None]:
    async def load(ids: Sequence[int]) -> list[User | None]:
        async with context.db.session() as session:
            return await service.users_by_ids(session, ids)

    return DataLoader(load_fn=load)

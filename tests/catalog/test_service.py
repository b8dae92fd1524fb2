"""Catalog rules that HTTP cannot show: concurrent moves never close a cycle."""

from __future__ import annotations

import asyncio

from hom.catalog import reads, service
from hom.core.db import SessionMaker
from hom.core.errors import DomainError, ErrorCode
from hom.core.roles import Role
from hom.core.unit_of_work import unit_of_work
from hom.core.viewer import Viewer
from tests.catalog.factories import create_category
from tests.factories import create_user


async def test_two_concurrent_moves_cannot_make_a_cycle(session_maker: SessionMaker) -> None:
    operator = await create_user(session_maker, role=Role.OPERATOR)
    assert operator.id is not None
    actor = Viewer(user_id=operator.id, role=Role.OPERATOR, sid="s", jti="j", expires_at=0)
    a = await create_category(session_maker, "A")
    b = await create_category(session_maker, "B")
    assert a.id is not None
    assert b.id is not None

    async def move(category_id: int, parent_id: int) -> ErrorCode | None:
        changes = service.CategoryChanges(category_id=category_id, parent_id=parent_id)
        try:
            async with unit_of_work(session_maker) as session:
                await service.update_category(session, changes=changes, actor=actor)
                await asyncio.sleep(0.2)  # hold the transaction open while the other one runs
        except DomainError as error:
            return error.code
        return None

    outcomes = await asyncio.gather(move(a.id, b.id), move(b.id, a.id))

    assert sorted(outcomes, key=str) == sorted([None, ErrorCode.INVALID], key=str)
    async with unit_of_work(session_maker) as session:
        found = await reads.categories_by_ids(session, ids=[a.id, b.id])
    parents = tuple(category.parent_id for category in found if category is not None)
    assert parents in [(b.id, None), (None, a.id)]

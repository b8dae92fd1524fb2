"""Primary-key reads without the ORM's loading: the same objects `session.get` gives."""

from __future__ import annotations

import pytest
from sqlalchemy import Integer, PickleType
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hom.accounts.models import User
from hom.core.db import RequestDatabase, SessionMaker
from hom.core.row_reads import PrimaryKeyRead
from tests.factories import create_user


class _Base(DeclarativeBase):  # its own metadata: not part of the app's schema
    pass


class _Pickled(_Base):
    __tablename__ = "pickled"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[object] = mapped_column(PickleType)


async def test_a_row_comes_back_as_the_orm_would_load_it(session_maker: SessionMaker) -> None:
    user = await create_user(session_maker, full_name="Row Read")
    db = RequestDatabase(session_maker)
    found = await db.get(User, user.id)
    async with session_maker() as session:
        loaded = await session.get(User, user.id)
    assert found is not None
    assert loaded is not None
    assert found.model_dump() == loaded.model_dump()
    await db.close()


async def test_a_missing_row_is_none(session_maker: SessionMaker) -> None:
    db = RequestDatabase(session_maker)
    assert await db.get(User, 2**62) is None
    await db.close()


async def test_the_object_joins_the_requests_identity_map(session_maker: SessionMaker) -> None:
    user = await create_user(session_maker, full_name="Before")
    db = RequestDatabase(session_maker)
    found = await db.get(User, user.id)
    assert await db.get(User, user.id) is found  # the second read asks nobody
    async with db.transaction() as session:
        assert await session.get(User, user.id) is found
        assert found is not None
        found.full_name = "After"  # a persistent object: an UPDATE, not an INSERT
    await db.close()
    async with session_maker() as session:
        reloaded = await session.get(User, user.id)
    assert reloaded is not None
    assert reloaded.full_name == "After"


def test_models_whose_values_sqlalchemy_converts_are_refused() -> None:
    with pytest.raises(TypeError, match="converts"):
        PrimaryKeyRead(_Pickled)  # type: ignore[arg-type]

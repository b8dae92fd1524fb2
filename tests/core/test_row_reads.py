"""Primary-key reads without the ORM's loading: the same objects `session.get` gives."""

from __future__ import annotations

import pytest
from sqlalchemy import Integer, PickleType, inspect
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


async def test_without_a_session_the_row_comes_detached(session_maker: SessionMaker) -> None:
    user = await create_user(session_maker, full_name="Before")
    db = RequestDatabase(session_maker)
    found = await db.get(User, user.id)
    assert found is not None
    assert inspect(found).detached  # a row as loaded, in no session: an UPDATE if added
    async with db.transaction() as session:
        session.add(found)
        found.full_name = "After"
    await db.close()
    assert await full_name(session_maker, user.id) == "After"


async def test_once_the_request_has_a_session_reads_share_its_identity_map(
    session_maker: SessionMaker,
) -> None:
    user = await create_user(session_maker, full_name="Before")
    db = RequestDatabase(session_maker)
    async with db.session() as session:
        read = await session.get(User, user.id)
    assert await db.get(User, user.id) is read  # the second read asks nobody
    async with db.transaction() as session:
        assert await session.get(User, user.id) is read
        assert read is not None
        read.full_name = "After"
    await db.close()
    assert await full_name(session_maker, user.id) == "After"


async def full_name(session_maker: SessionMaker, user_id: int | None) -> str:
    async with session_maker() as session:
        user = await session.get(User, user_id)
    assert user is not None
    return user.full_name


def test_models_whose_values_sqlalchemy_converts_are_refused() -> None:
    with pytest.raises(TypeError, match="converts"):
        PrimaryKeyRead(_Pickled)  # type: ignore[arg-type]

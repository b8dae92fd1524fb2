"""The mutation convention (SPEC §5): one transaction; business failures into `errors`."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.core.errors import DomainError, UserError

ResultT = TypeVar("ResultT")
PayloadT = TypeVar("PayloadT")


@strawberry.type
class Payload:
    """Base of every mutation payload: the changed object (null on failure) and errors."""

    errors: list[UserError] = strawberry.field(default_factory=list)


def object_field(payload: type[Any]) -> str:
    """The payload's object field: the one that is not `errors`."""
    names = [f.name for f in dataclasses.fields(payload) if f.name != "errors"]
    assert len(names) == 1, f"{payload.__name__} must have exactly one object field"
    return names[0]


async def mutate(
    info: strawberry.Info,
    payload: type[PayloadT],
    work: Callable[[AsyncSession], Awaitable[ResultT]],
    convert: Callable[[ResultT], Any],
) -> PayloadT:
    """Run `work` in the request's transaction; a DomainError rolls back into the payload."""
    try:
        async with info.context.db.transaction() as session:
            result = await work(session)
    except DomainError as error:
        return payload(errors=[error.to_user_error()])  # type: ignore[call-arg]
    return payload(**{object_field(payload): convert(result)})


def violated_constraint(error: IntegrityError) -> str | None:
    """The name of the constraint an INSERT/UPDATE broke (asyncpg), if any."""
    cause = getattr(error.orig, "__cause__", None)
    return getattr(cause, "constraint_name", None)

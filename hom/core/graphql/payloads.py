"""The mutation convention (SPEC §5): one transaction; business failures into `errors`."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from functools import cache
from typing import Any, TypeVar

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.core.errors import DomainError, ErrorCode
from hom.core.graphql.cost import estimate
from hom.core.graphql.errors import api_name
from hom.core.graphql.relations import prefetch

ResultT = TypeVar("ResultT")
PayloadT = TypeVar("PayloadT")

strawberry.enum(
    ErrorCode, name="ErrorCode", description="Why a mutation did not do what was asked."
)


@strawberry.type(description="A business rule refused the mutation; nothing was changed.")
class UserError:
    field: str | None = strawberry.field(description="The input field at fault, if any.")
    message: str
    code: ErrorCode

    @classmethod
    def of(cls, error: DomainError) -> UserError:
        return cls(field=api_name(error.field), message=error.message, code=error.code)


@strawberry.type
class Payload:
    """Base of every mutation payload: the changed object (null on failure) and errors."""

    errors: list[UserError] = strawberry.field(default_factory=list, metadata=estimate(1))


class PayloadFields(dict[str, Any]):
    """What a payload with several fields holds (`fields(order=…, cart=…)`)."""


def fields(**values: Any) -> PayloadFields:
    """The values of a payload with more than one field, objects and lists of them alike:
    `convert` returns this where it would return the payload's one object."""
    return PayloadFields(values)


@cache
def object_field(payload: Any) -> str:
    """The payload's object field: the one that is not `errors`."""
    names = [f.name for f in dataclasses.fields(payload) if f.name != "errors"]
    assert len(names) == 1, f"{payload.__name__} has several fields: convert returns fields()"
    return names[0]


async def mutate(
    info: strawberry.Info,
    payload: type[PayloadT],
    work: Callable[[AsyncSession], Awaitable[ResultT]],
    convert: Callable[[ResultT], Any],
) -> PayloadT:
    """Run `work` in the request's transaction; a DomainError rolls back into the payload.

    `convert(result)` is the payload's one object, or `fields(...)` for a payload with
    several (objects or lists of them). The relations that the payload's selection asks
    of them are prefetched, like a list resolver's.
    """
    try:
        async with info.context.db.transaction() as session:
            result = await work(session)
    except DomainError as error:
        return payload(errors=[UserError.of(error)])  # type: ignore[call-arg]
    converted = convert(result)
    values = (
        converted if isinstance(converted, PayloadFields) else {object_field(payload): converted}  # type: ignore[arg-type]
    )
    await asyncio.gather(  # at once: one batch per relation over all the fields
        *(
            prefetch(info, objects, strawberry_name(info, payload, name))
            for name, value in values.items()
            if (objects := [one for one in _listed(value) if dataclasses.is_dataclass(one)])
        )
    )
    return payload(**values)


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def strawberry_name(info: strawberry.Info, payload: type[Any], python_name: str) -> str:
    """The GraphQL name of a payload's field."""
    definition = payload.__strawberry_definition__
    field = next(f for f in definition.fields if f.python_name == python_name)
    return str(info.schema.config.name_converter.get_graphql_name(field))

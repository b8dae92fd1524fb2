"""The common shapes of a root field that reads: one object, a list, a page.

Each runs the domain's read (a service or reads function over a session) on the
request's session, applies the type's rule (`present`) and prefetches the relations
the selection asks for, so a resolver is one call:

    return await read_one(info, ProductType, lambda s: service.product(s, slug=slug))
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.core.graphql.relations import prefetch, present_one, present_page
from hom.core.graphql.relay import Connection
from hom.core.graphql.visibility import present_all
from hom.core.pagination import Page, PageRequest, SortKey, page_request

ObjectT = TypeVar("ObjectT")
PageRead = Callable[[AsyncSession, PageRequest], Awaitable[Page[Any]]]


async def read_one(
    info: strawberry.Info, type_: type[ObjectT], read: Callable[[AsyncSession], Awaitable[Any]]
) -> ObjectT | None:
    """The object `read` finds (None: none, or one the reader may not see)."""
    async with info.context.db.session() as session:
        found = await read(session)
    return await present_one(info, type_, found)


async def read_list(
    info: strawberry.Info,
    type_: type[ObjectT],
    read: Callable[[AsyncSession], Awaitable[Sequence[Any]]],
) -> list[ObjectT]:
    """The objects `read` finds that the reader may see, in its order."""
    async with info.context.db.session() as session:
        found = await read(session)
    shown = present_all(await info.context.reader(), type_, found)
    await prefetch(info, shown)
    return shown


async def read_page(
    info: strawberry.Info,
    type_: type[ObjectT],
    keys: Sequence[SortKey],
    arguments: tuple[int | None, str | None],
    read: PageRead,
) -> Connection[ObjectT]:
    """A page `read` finds with the client's `first`/`after` (checked against `keys`)."""
    request = page_request(*arguments, keys)
    async with info.context.db.session() as session:
        page = await read(session, request)
    connection: Connection[ObjectT] = await present_page(info, type_, page)
    return connection

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
from hom.core.graphql.relay import Connection, Count, CountedConnection
from hom.core.graphql.visibility import present_all
from hom.core.pagination import Page, PageRequest, SortKey, page_request

ObjectT = TypeVar("ObjectT")
PageRead = Callable[[AsyncSession, PageRequest], Awaitable[Page[Any]]]
# A client's `first`, `after`, `last` and `before`, as given.
PageArguments = tuple[int | None, str | None, int | None, str | None]


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
    arguments: PageArguments,
    read: PageRead,
) -> Connection[ObjectT]:
    """A page `read` finds with the client's `first`/`after` or `last`/`before` (checked
    against `keys`)."""
    page = await _read(info, keys, arguments, read)
    connection: Connection[ObjectT] = await present_page(info, type_, page)
    return connection


async def read_counted_page(
    info: strawberry.Info,
    type_: type[ObjectT],
    keys: Sequence[SortKey],
    arguments: PageArguments,
    read: PageRead,
    count: Callable[[AsyncSession], Awaitable[int]],
) -> CountedConnection[ObjectT]:
    """`read_page` of a list that `count` counts (its `totalCount`, run when asked)."""
    page = await _read(info, keys, arguments, read)
    connection: CountedConnection[ObjectT] = await present_page(
        info, type_, page, counted(info, count)
    )
    return connection


async def _read(
    info: strawberry.Info, keys: Sequence[SortKey], arguments: PageArguments, read: PageRead
) -> Page[Any]:
    first, after, last, before = arguments
    request = page_request(first, after, keys, last=last, before=before)
    async with info.context.db.session() as session:
        return await read(session, request)


def counted(info: strawberry.Info, count: Callable[[AsyncSession], Awaitable[int]]) -> Count:
    """A list's size for `totalCount`: read on the request's session when it is asked."""

    async def size() -> int:
        async with info.context.db.session() as session:
            return await count(session)

    return size

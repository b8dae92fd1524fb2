"""Objects of plain leaves, completed in one loop, answer exactly as the executor does: the
same data, errors, paths and response-size refusals, for any selection (aliases,
`__typename`, fragments, directives), and the executor still completes what is not plain."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig

from hom.core.graphql.plain_objects import PlainObjectExecution
from hom.core.graphql.response_size import SizedExecution, sized_execution
from hom.core.graphql.scalars import SCALAR_MAP

START = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Item:
    at: datetime
    name: str
    note: str | None
    colour: Colour
    count: int
    broken: str  # None on some items: a non-null field error

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


def items(n: int = 6) -> list[Item]:
    return [
        Item(
            at=START + timedelta(minutes=30 * i),
            name=f"item {i}",
            note=None if i % 2 else f"note {i}",
            colour=Colour.RED if i % 3 else Colour.BLUE,
            count=i,
            broken=None if i == 4 else "fine",  # type: ignore[arg-type]
        )
        for i in range(n)
    ]


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return items()

    @strawberry.field
    async def later(self) -> list[Item]:
        return items(3)

    @strawberry.field
    def maybe(self) -> list[Item | None]:
        return [*items(2), None]


class Counted(SchemaExtension):
    """A `resolve` hook: every field then goes through it (never the loop)."""

    def resolve(self, _next: Callable[..., Any], root: Any, info: Any, **kwargs: Any) -> Any:
        return _next(root, info, **kwargs)


class Unplain(SizedExecution):
    """The executor's own path for every object: what the loop must match."""

    def _plan(self, *_args: Any) -> None:
        return None


class Counting(SizedExecution):
    looped = 0

    def _complete_plain(self, *args: Any) -> Any:
        completed = super()._complete_plain(*args)
        Counting.looped += completed is not None
        return completed


def schema(execution: type[PlainObjectExecution], *extensions: Any) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        execution_context_class=execution,
        extensions=list(extensions),
    )


PLAIN = {
    "leaves": "{ items { at name note colour count } }",
    "aliases": "{ items { a: at b: at name n: __typename t: __typename } }",
    "typename": "{ items { __typename } }",
    "fragments": "{ items { ...F ... on Item { count at } } } fragment F on Item { name at }",
    "directives": "query($no: Boolean = false) { items { at name @include(if: $no) note } }",
    "awaited list": "{ later { at count } }",
    "nullable items": "{ maybe { at name } }",
}
NOT_PLAIN = {
    "resolver": "{ items { at shout } }",
    "null in non-null": "{ items { at broken } }",
    "only the broken": "{ items { broken } }",
}


@pytest.mark.parametrize("query", [*PLAIN.values(), *NOT_PLAIN.values()], ids=[*PLAIN, *NOT_PLAIN])
async def test_the_loop_answers_as_the_executor(query: str) -> None:
    expected = await schema(Unplain).execute(query)
    found = await schema(SizedExecution).execute(query)
    assert found.data == expected.data
    assert [e.formatted for e in found.errors or ()] == [e.formatted for e in expected.errors or ()]


@pytest.mark.parametrize("query", PLAIN.values(), ids=PLAIN)
async def test_plain_objects_take_the_loop(query: str) -> None:
    Counting.looped = 0
    await schema(Counting).execute(query)
    assert Counting.looped > 0


async def test_an_object_with_a_null_in_a_non_null_field_is_left_to_the_executor() -> None:
    Counting.looped = 0
    result = await schema(Counting).execute("{ items { at broken } }")
    assert Counting.looped == 4  # items 0-3; item 4's error (the executor's) ends the list
    assert [e.path for e in result.errors or ()] == [["items", 4, "broken"]]


async def test_a_resolve_hook_sees_every_field() -> None:
    Counting.looped = 0
    hooked = await schema(Counting, Counted).execute(PLAIN["leaves"])
    assert Counting.looped == 0
    assert hooked.data == (await schema(Unplain).execute(PLAIN["leaves"])).data


@pytest.mark.parametrize("max_bytes", [10, 100, 150, 400, 10_000])
async def test_the_response_size_count_is_the_executors(max_bytes: int) -> None:
    query = "{ items { at name n: __typename } broken: items { at broken } }"

    def unplain(bytes_: int) -> type[PlainObjectExecution]:
        return type("Unplain", (Unplain,), {"max_bytes": bytes_})

    expected = await schema(unplain(max_bytes)).execute(query)
    found = await schema(sized_execution(max_bytes)).execute(query)
    assert found.data == expected.data
    assert [e.formatted for e in found.errors or ()] == [e.formatted for e in expected.errors or ()]

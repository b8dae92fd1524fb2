"""One meaning per field (STYLE rule 3): the declarations both read paths derive from.

The walk over the real schema fails when a declared type loses its rule or a field of
it is left to the executor without saying so; a type declared here, over the real
category table, shows that a computed field and two relations are one declaration
each, answered by the compiled path in one statement and identically by the executor.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import httpx
import pytest
import strawberry
from sqlalchemy import func
from sqlmodel import col, select
from starlette.applications import Starlette
from strawberry import relay

from hom.app import create_app, learn_database_features
from hom.catalog.loaders import category_by_id
from hom.catalog.models import Category
from hom.core.config import Settings
from hom.core.db import SessionMaker
from hom.core.graphql import compiled
from hom.core.graphql.permissions import Public
from hom.core.graphql.relations import computed, nodes_by_id, prefetch, to_many, to_one
from hom.core.graphql.visibility import present_all, rows_of
from hom.core.rules import everyone
from hom.schema import Query, build_schema
from tests.catalog.factories import create_category
from tests.conftest import open_client
from tests.core.declarations import undeclared_fields, unruled_types
from tests.support import GraphQLClient, count_statements


def test_every_declared_type_has_its_rule_and_every_field_its_path() -> None:
    schema = build_schema(Settings())
    assert unruled_types(schema) == []
    assert undeclared_fields(schema) == []


@rows_of(Category, visible=everyone)
@strawberry.type
class Shelf(relay.Node):
    """A type declared as a domain would declare one, over the real category table."""

    shelf_id: relay.NodeID[int]
    name: str
    parent_id: strawberry.Private[int | None]
    letters: int = computed(key="shelf_id", sql=lambda row, _: func.length(row.c.name), default=0)
    above: Shelf | None = to_one(key="parent_id", loader=category_by_id, target=lambda: Shelf)
    below: list[Shelf] = to_many(
        key="shelf_id",
        foreign_key="parent_id",
        order=lambda row: [row.c.name.desc(), row.c.id],
        target=lambda: Shelf,
        estimate=5,
    )

    @classmethod
    def from_model(cls, category: Category) -> Shelf:
        assert category.id is not None
        return cls(shelf_id=category.id, name=category.name, parent_id=category.parent_id)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Shelf | None]:
        return await nodes_by_id(info, cls, category_by_id, node_ids)


def shelves_query(reader: Any, features: Any) -> Any:
    return select(Category).where(col(Category.parent_id).is_(None)).order_by(col(Category.name))


@rows_of(Category, visible=everyone)
@strawberry.type
class Drawer:
    """A declared type with a field nobody declared for the compiled path (a gap)."""

    name: str

    @strawberry.field
    def mood(self) -> str:
        return "tidy"

    @classmethod
    def from_model(cls, category: Category) -> Drawer:
        return cls(name=category.name)


@strawberry.type
class ShelvesQuery(Query):
    @strawberry.field(
        permission_classes=[Public],
        metadata=compiled.source(compiled.ListSource(shelves_query)),
    )
    async def drawers(self, info: strawberry.Info) -> list[Drawer]:
        async with info.context.db.session() as session:
            rows = (await session.exec(shelves_query(None, None))).all()
        return present_all(await info.context.reader(), Drawer, rows)

    @strawberry.field(
        permission_classes=[Public],
        metadata=compiled.source(compiled.ListSource(shelves_query)),
    )
    async def shelves(self, info: strawberry.Info) -> list[Shelf]:
        async with info.context.db.session() as session:
            rows = (await session.exec(shelves_query(None, None))).all()
        found = present_all(await info.context.reader(), Shelf, rows)
        await prefetch(info, found)
        return found


@pytest.fixture
async def shelves(settings: Settings) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    app = create_app(settings, schema=build_schema(settings, query=ShelvesQuery))
    await learn_database_features(app.state.services)
    async with await open_client(app) as http:
        yield app, http
    await app.state.services.close()


async def test_a_computed_field_and_relations_are_one_declaration_each(
    shelves: tuple[Starlette, httpx.AsyncClient],
) -> None:
    app, http = shelves
    maker: SessionMaker = app.state.services.session_maker
    home = await create_category(maker, "Home")
    for name in ("Bath", "Kitchen"):
        await create_category(maker, name, parent=home)
    await create_category(maker, "Garden")
    gql = GraphQLClient(http, app.state.compiled)
    query = "{ shelves { name letters above { name } below { name letters above { name } } } }"
    before = app.state.compiled.answered
    with count_statements(app.state.services.engine) as log:
        body = await gql(query)  # and again of the executor: the answers must be equal
    assert app.state.compiled.answered == before + 1
    assert log.count == 1
    assert body == {
        "data": {
            "shelves": [
                {"name": "Garden", "letters": 6, "above": None, "below": []},
                {
                    "name": "Home",
                    "letters": 4,
                    "above": None,
                    "below": [
                        {"name": "Kitchen", "letters": 7, "above": {"name": "Home"}},
                        {"name": "Bath", "letters": 4, "above": {"name": "Home"}},
                    ],
                },
            ]
        }
    }


@rows_of(Category, visible=everyone)
@strawberry.type
class Leaky:
    name: str
    parent_id: strawberry.Private[int | None]
    mood: str = strawberry.field(resolver=lambda: "happy")
    parent: Shelf | None = to_one(key="parent_id", loader=category_by_id, target=lambda: Shelf)
    person: Leaky2 | None = to_one(key="parent_id", loader=category_by_id, target=lambda: Leaky2)


@strawberry.type
class Leaky2:
    name: str


@strawberry.type
class LeakyQuery(Query):
    leaky: Leaky | None = None


def test_the_walk_finds_an_undeclared_field_and_a_relation_to_an_undeclared_type() -> None:
    schema = build_schema(Settings(), query=LeakyQuery)
    assert [problem.split(":")[0] for problem in undeclared_fields(schema)] == [
        "Leaky.mood",
        "Leaky.person",
    ]


@pytest.mark.compiled_fallback_expected
async def test_a_declared_query_that_falls_back_is_counted_and_kept(
    shelves: tuple[Starlette, httpx.AsyncClient],
) -> None:
    app, http = shelves
    await create_category(app.state.services.session_maker, "Home")
    gql = GraphQLClient(http, app.state.compiled)
    assert await gql("{ drawers { name } }") == {"data": {"drawers": [{"name": "Home"}]}}
    assert list(app.state.compiled.fallbacks) == []
    for _ in range(3):  # planned once: counted once
        assert await gql("{ drawers { name mood } }") == {
            "data": {"drawers": [{"name": "Home", "mood": "tidy"}]}
        }
    assert list(app.state.compiled.fallbacks) == ["Drawer.mood is not a column"]
    metrics = (await http.get("/metrics")).text
    assert 'hom_compiled_fallbacks_total{reason="Drawer.mood is not a column"} 1.0' in metrics

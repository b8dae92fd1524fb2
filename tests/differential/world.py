"""What the differential suite asks its questions of, made once per test process (each
pytest-xdist worker): the seeded dataset, an app with the compiled read path and one
without on the same schema, and each caller's documents. Nothing the suite sends
writes, so every test of the suite can share them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLSchema
from starlette.applications import Starlette

from hom.app import create_app, learn_database_features
from hom.core.config import Settings
from hom.core.graphql.limits import request_documents
from tests.conftest import open_client
from tests.differential.arguments import Rows
from tests.differential.asgi import Answer, payload_bytes, post
from tests.differential.documents import Case, cases, connection_roots, cursor_probe
from tests.differential.seed import Seeds, seed

CALLERS = ("ANONYMOUS", "CUSTOMER", "STAFF", "OPERATOR", "ADMIN")


@dataclass
class World:
    """The apps, the dataset, each caller's documents (`documents[caller]`), and whether
    the executor refused a caller a request (by its body), as far as it was asked."""

    app: Starlette
    executor: Starlette
    seeds: Seeds
    documents: dict[str, list[Case]] = field(default_factory=dict)
    refusals: dict[tuple[str, bytes], bool] = field(default_factory=dict)

    @property
    def schema(self) -> GraphQLSchema:
        schema: GraphQLSchema = self.app.state.compiled.schema._schema
        return schema

    @property
    def rows(self) -> Rows:
        """The dataset's rows, without cursors (as documents of several roots take them)."""
        return Rows(self.seeds.ids, self.seeds.slugs, {})

    async def ask_executor(self, caller: str, body: bytes) -> Answer:
        """The executor's answer to `caller`'s request; whether it refused is remembered."""
        answer = await post(self.executor, body, self.seeds.tokens[caller])
        self.refusals[caller, body] = refused(answer)
        return answer

    async def refuses(self, caller: str, case: Case) -> bool:
        """Whether the executor refuses `caller` this document (asked only once)."""
        body = payload_bytes(case.payload())
        if (caller, body) not in self.refusals:
            with request_documents():
                await self.ask_executor(caller, body)
        return self.refusals[caller, body]


def refused(answer: Answer) -> bool:
    """An error, or no data: the caller may not read (all of) it."""
    _, body = answer
    return not isinstance(body, dict) or bool(body.get("errors")) or body.get("data") is None


async def open_world(settings: Settings, executor_settings: Settings) -> World:
    """The world on the database `settings` name: seeded, each caller's documents made."""
    app = create_app(settings)
    # As when `app` leaves a query to its executor, a document is validated once for both.
    executor = create_app(executor_settings, schema=app.state.compiled.schema)
    world = World(app, executor, Seeds())
    try:
        for application in (app, executor):  # as at start-up (the tests run no lifespan)
            await learn_database_features(application.state.services)
        async with await open_client(app) as client:
            world.seeds = await seed(client, app.state.services.session_maker)
        for caller in CALLERS:
            world.documents[caller] = await documents(world, caller)
    except BaseException:
        await close_world(world)
        raise
    return world


async def close_world(world: World) -> None:
    for application in (world.app, world.executor):
        await application.state.services.close()


async def documents(world: World, caller: str) -> list[Case]:
    """The suite's documents for `caller`, with a real cursor of each connection the
    caller can page."""
    cursors = {}
    for root in connection_roots(world.schema):
        probe = Case("probe", root, cursor_probe(root))
        _, answer = await world.ask_executor(caller, payload_bytes(probe.payload()))
        cursors[root] = end_cursor(answer, root)
    return cases(world.schema, Rows(world.seeds.ids, world.seeds.slugs, cursors))


def end_cursor(body: Any, root: str) -> str | None:
    data = (body.get("data") if isinstance(body, dict) else None) or {}
    cursor: str | None = (data.get(root) or {}).get("pageInfo", {}).get("endCursor")
    return cursor

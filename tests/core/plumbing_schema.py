"""A schema for testing the GraphQL plumbing itself: limits, errors, paging, look-ahead.

It extends the real Query and runs through the real extensions. Its `items`
table lives in a `testing` schema that the models (and autogenerate) never see;
its writers and their audit entries use the real tables, to count statements.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import strawberry
from sqlalchemy import Column, Integer, MetaData, String, Table, func, literal, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.applications import Starlette
from strawberry import relay
from strawberry.dataloader import DataLoader

from hom.accounts.loaders import user_by_id
from hom.accounts.models import User
from hom.accounts.types import PersonType
from hom.app import create_app
from hom.audit import service as audit
from hom.audit.models import AuditEntry
from hom.audit.types import AuditEntryType
from hom.context import Context, session_loader
from hom.core.config import Settings
from hom.core.graphql.payloads import Payload, fields, mutate
from hom.core.graphql.permissions import IsAdmin, Public, require_viewer
from hom.core.graphql.relations import connection, prefetch, present_page, to_many, to_one
from hom.core.graphql.relay import Connection
from hom.core.graphql.visibility import present, present_all
from hom.core.pagination import (
    Page,
    PageRequest,
    SortKey,
    keyset_select,
    make_page,
    page_request,
    pages_by_parent,
)
from hom.core.unit_of_work import after_commit
from hom.schema import Mutation, Query, build_schema
from tests.conftest import open_client

testing = MetaData(schema="testing")
item_table = Table(
    "item",
    testing,
    Column("id", Integer, primary_key=True),
    Column("rank", Integer, nullable=False),
    Column("name", String, nullable=False),
)
CREATE_STATEMENTS = (
    "CREATE SCHEMA IF NOT EXISTS testing",
    "DROP TABLE IF EXISTS testing.item",
    "CREATE TABLE testing.item (id int PRIMARY KEY, rank int NOT NULL, name text NOT NULL)",
)
ITEM_KEYS = [SortKey(item_table.c.rank, descending=True), SortKey(item_table.c.id)]
ENTRY_KEYS = [SortKey(col(AuditEntry.id), descending=True)]
WRITER_KEYS = [SortKey(col(User.id))]


@dataclass
class Counters:
    touched: int = 0
    batches: list[str] = field(default_factory=list)


COUNTERS = Counters()


@strawberry.type
class Nest:
    level: int

    @strawberry.field
    def child(self) -> Nest:
        return Nest(level=self.level + 1)


@strawberry.type
class Item(relay.Node):
    item_id: relay.NodeID[int]
    rank: int
    name: str

    @classmethod
    async def resolve_nodes(
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Item | None]:
        ids = [int(node_id) for node_id in node_ids]
        async with info.context.db.session() as session:
            rows = await session.exec(select(item_table).where(item_table.c.id.in_(ids)))
            found = {row.id: Item(item_id=row.id, rank=row.rank, name=row.name) for row in rows}
        return [found.get(i) for i in ids]


# --- in-memory relations: the order of batches shows when they were loaded -------------------


async def load_authors(names: list[str]) -> list[str]:
    COUNTERS.batches.append(f"authors:{len(names)}")
    return names


async def load_editors(names: list[str]) -> list[str]:
    COUNTERS.batches.append(f"editors:{len(names)}")
    return names


async def load_reviews(titles: list[str]) -> list[list[tuple[int, str]]]:
    COUNTERS.batches.append(f"reviews:{len(titles)}")
    return [[(n + 1, f"R{n}") for n in range(2)] for _ in titles]


def authors(context: Context) -> DataLoader[str, str]:
    return DataLoader(load_fn=load_authors)


def editors(context: Context) -> DataLoader[str, str]:
    return DataLoader(load_fn=load_editors)


def reviews_by_book(context: Context) -> DataLoader[str, list[tuple[int, str]]]:
    return DataLoader(load_fn=load_reviews)


@strawberry.type
class Author:
    name: str

    @classmethod
    def from_model(cls, name: str) -> Author:
        return cls(name=name)


@strawberry.type
class Review:
    stars: int
    reviewer_name: strawberry.Private[str]
    reviewer: Author | None = to_one(key="reviewer_name", loader=authors, target=lambda: Author)

    @classmethod
    def from_model(cls, row: tuple[int, str]) -> Review:
        return cls(stars=row[0], reviewer_name=row[1])


@strawberry.interface
class Work:
    title: str


@strawberry.type
class Book(Work):
    author_name: strawberry.Private[str]
    author: Author | None = to_one(key="author_name", loader=authors, target=lambda: Author)
    reviews: list[Review] = to_many(
        key="title", loader=reviews_by_book, target=lambda: Review, estimate=5
    )


@strawberry.type
class Magazine(Work):
    editor_name: strawberry.Private[str]
    editor: Author | None = to_one(key="editor_name", loader=editors, target=lambda: Author)


BOOKS = [(f"B{n}", f"A{n % 3}") for n in range(50)]
MAGAZINES = [(f"M{n}", f"E{n % 2}") for n in range(4)]


def books() -> list[Book]:
    return [Book(title=title, author_name=author) for title, author in BOOKS]


def magazines() -> list[Magazine]:
    return [Magazine(title=title, editor_name=editor) for title, editor in MAGAZINES]


@strawberry.type
class AddBookPayload(Payload):
    book: Book | None = None


@strawberry.type
class AddShelfPayload(Payload):
    """A payload with more than one field: an object and a list (as checkout's order and
    cart, or a recurring booking's appointments)."""

    first: Book | None = None
    books: list[Book] = strawberry.field(default_factory=list)


# --- database relations: writers (users) and their audit entries ------------------------------


async def entry_pages(
    session: AsyncSession, actor_ids: Sequence[int], request: PageRequest
) -> list[Page[AuditEntry] | None]:
    statement = select(AuditEntry).where(col(AuditEntry.actor_id).in_(actor_ids))
    pages = await pages_by_parent(
        session, AuditEntry, statement, col(AuditEntry.actor_id), ENTRY_KEYS, request
    )
    return [pages.get(actor_id) for actor_id in actor_ids]


def entries_by_actor(
    context: Context, request: PageRequest
) -> DataLoader[int, Page[AuditEntry] | None]:
    return session_loader(context, lambda session, ids: entry_pages(session, ids, request))


@strawberry.type(name="Writer")
class Writer:
    name: str
    user_id: strawberry.Private[int]
    entries: Connection[AuditEntryType] = connection(
        key="user_id",
        loader=entries_by_actor,
        target=lambda: AuditEntryType,
        sort_keys=ENTRY_KEYS,
    )
    person: PersonType | None = to_one(key="user_id", loader=user_by_id, target=lambda: PersonType)

    @classmethod
    def from_model(cls, user: User) -> Writer:
        assert user.id is not None
        return cls(name=user.full_name, user_id=user.id)


def mail_server_on_fire() -> None:
    raise ConnectionRefusedError("mail server on fire")


@strawberry.type
class RecordEntryPayload(Payload):
    entry: AuditEntryType | None = None


async def writers_page(info: strawberry.Info, tag: str, first: int | None) -> Page[User]:
    request = page_request(first, None, WRITER_KEYS)
    statement = select(User).where(col(User.full_name).startswith(f"Writer {tag}"))
    async with info.context.db.session() as session:
        rows = (await session.exec(keyset_select(statement, WRITER_KEYS, request))).scalars().all()
    return make_page(rows, request, lambda user: (user.id,))


@strawberry.type
class PlumbingQuery(Query):
    @strawberry.field(permission_classes=[Public])
    def touch(self) -> int:
        COUNTERS.touched += 1
        return COUNTERS.touched

    @strawberry.field(permission_classes=[Public])
    def boom(self) -> str:
        raise RuntimeError("secret internals: password=hunter2")

    @strawberry.field(permission_classes=[Public])
    async def bad_sql(self, info: strawberry.Info) -> int:
        async with info.context.db.session() as session:
            statement = select(func.length(literal("hunter2")) / 0)  # a parameter, then an error
            return int((await session.exec(statement)).one())

    @strawberry.field(permission_classes=[Public])
    def echo_time(self, at: datetime) -> datetime:
        return at

    @strawberry.field(permission_classes=[Public])
    def nest(self) -> Nest:
        return Nest(level=0)

    @strawberry.field(permission_classes=[Public])
    async def items(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> Connection[Item]:
        request = page_request(first, after, ITEM_KEYS)
        async with info.context.db.session() as session:
            rows = await session.exec(keyset_select(select(item_table), ITEM_KEYS, request))
            page = make_page(rows.all(), request, lambda row: (row.rank, row.id))
        nodes = [Item(item_id=row.id, rank=row.rank, name=row.name) for row in page.rows]
        return Connection.from_page(page, nodes)

    @strawberry.field(permission_classes=[Public])
    async def books(self, info: strawberry.Info) -> list[Book]:
        found = books()
        await prefetch(info, found)
        COUNTERS.batches.append("books returned")
        return found

    @strawberry.field(permission_classes=[Public], description="`books` without its prefetch.")
    def books_unprefetched(self) -> list[Book]:
        COUNTERS.batches.append("books returned")
        return books()

    @strawberry.field(permission_classes=[Public])
    async def works(self, info: strawberry.Info) -> list[Work]:
        found_books, found_magazines = books()[:3], magazines()
        await prefetch(info, found_books, type_name="Book")
        await prefetch(info, found_magazines, type_name="Magazine")
        COUNTERS.batches.append("works returned")
        return [*found_books, *found_magazines]

    @strawberry.field(permission_classes=[Public])
    async def loader_inside_session(self, info: strawberry.Info) -> str:
        async with info.context.db.session():
            name: str = await info.context.loaders.get(authors).load("A1")
        return name

    @strawberry.field(permission_classes=[Public])
    async def session_inside_session(self, info: strawberry.Info) -> int:
        async with info.context.db.session(), info.context.db.session():
            return 1

    @strawberry.field(permission_classes=[IsAdmin])
    async def writers(
        self, info: strawberry.Info, tag: str, first: int | None = None
    ) -> Connection[Writer]:
        page = await writers_page(info, tag, first)
        connection: Connection[Writer] = await present_page(info, Writer, page)
        return connection

    @strawberry.field(permission_classes=[IsAdmin], description="`writers` without prefetch.")
    async def writers_unprefetched(
        self, info: strawberry.Info, tag: str, first: int | None = None
    ) -> Connection[Writer]:
        page = await writers_page(info, tag, first)
        return Connection.from_page(page, [Writer.from_model(user) for user in page.rows])

    @strawberry.field(permission_classes=[Public], description="Everyone's public face.")
    async def people(self, info: strawberry.Info, tag: str) -> list[PersonType]:
        statement = select(User).where(col(User.full_name).startswith(f"Writer {tag}"))
        async with info.context.db.session() as session:
            users = (await session.exec(statement.order_by(col(User.id)))).scalars().all()
        found = present_all(await info.context.reader(), PersonType, users)
        await prefetch(info, found)
        return found


@strawberry.type
class PlumbingMutation(Mutation):
    @strawberry.mutation(permission_classes=[Public])
    async def add_book(self, info: strawberry.Info, title: str, author: str) -> AddBookPayload:
        async def work(session: AsyncSession) -> Book:
            return Book(title=title, author_name=author)

        payload = await mutate(info, AddBookPayload, work, lambda book: book)
        COUNTERS.batches.append("payload returned")
        return payload

    @strawberry.mutation(permission_classes=[Public])
    async def add_shelf(
        self, info: strawberry.Info, titles: list[str], author: str
    ) -> AddShelfPayload:
        async def work(session: AsyncSession) -> list[Book]:
            return [
                Book(title=title, author_name=f"{author} {n % 2}") for n, title in enumerate(titles)
            ]

        payload = await mutate(
            info, AddShelfPayload, work, lambda shelf: fields(first=shelf[0], books=shelf)
        )
        COUNTERS.batches.append("payload returned")
        return payload

    @strawberry.mutation(permission_classes=[IsAdmin])
    async def record_entry(
        self, info: strawberry.Info, action: str, break_after_commit: bool = False
    ) -> RecordEntryPayload:
        viewer = await require_viewer(info)

        async def work(session: AsyncSession) -> AuditEntry:
            if break_after_commit:
                after_commit(session, mail_server_on_fire)
            return await audit.record(
                session, actor=viewer, action=action, entity="Test", entity_id=0, changes={}
            )

        return await mutate(
            info,
            RecordEntryPayload,
            work,
            lambda entry: present(viewer.reader, AuditEntryType, entry),
        )


# Only reachable through the Work interface: Strawberry needs them named.
PLUMBING_TYPES: list[Any] = [Book, Magazine]


async def plumbing_client(settings: Settings) -> tuple[Starlette, httpx.AsyncClient]:
    """The app with the plumbing schema, and an HTTP client for it."""
    schema = build_schema(settings, PlumbingQuery, PlumbingMutation, PLUMBING_TYPES)
    app = create_app(settings, schema=schema)
    return app, await open_client(app)

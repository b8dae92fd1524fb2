"""A schema for testing the GraphQL plumbing itself: limits, errors, paging, look-ahead.

It extends the real Query and runs through the real extensions; its table lives
in a `testing` schema that the models (and autogenerate) never see.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import strawberry
from sqlalchemy import Column, Integer, MetaData, String, Table, select
from strawberry import relay
from strawberry.dataloader import DataLoader

from hom.context import Context
from hom.core.lookahead import Relation, prefetch, selection_of
from hom.core.pagination import SortKey, keyset_select, make_page, page_request
from hom.core.permissions import Public
from hom.core.relay import Connection
from hom.schema import Query

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


@strawberry.type
class Author:
    name: str


@strawberry.type
class Review:
    stars: int
    reviewer_name: strawberry.Private[str]
    reviewer: Author | None = None


@strawberry.type
class Book:
    title: str
    author_name: strawberry.Private[str]
    author: Author | None = None
    reviews: list[Review] = strawberry.field(default_factory=list)


BOOKS = [(f"B{n}", f"A{n % 3}") for n in range(50)]


async def load_authors(names: list[str]) -> list[Author]:
    COUNTERS.batches.append(f"authors:{len(names)}")
    return [Author(name=name) for name in names]


async def load_reviews(titles: list[str]) -> list[list[Review]]:
    COUNTERS.batches.append(f"reviews:{len(titles)}")
    return [[Review(stars=n + 1, reviewer_name=f"R{n}") for n in range(2)] for _ in titles]


def authors(context: Context) -> DataLoader[str, Author]:
    return DataLoader(load_fn=load_authors)


def reviews_by_book(context: Context) -> DataLoader[str, list[Review]]:
    return DataLoader(load_fn=load_reviews)


def book_relations(context: Context) -> list[Relation]:
    reviewer = Relation(
        field="reviewer",
        key=lambda review: review.reviewer_name,
        loader=lambda: context.loaders.get(authors),
        assign=lambda review, author: setattr(review, "reviewer", author),
    )
    return [
        Relation(
            field="author",
            key=lambda book: book.author_name,
            loader=lambda: context.loaders.get(authors),
            assign=lambda book, author: setattr(book, "author", author),
        ),
        Relation(
            field="reviews",
            key=lambda book: book.title,
            loader=lambda: context.loaders.get(reviews_by_book),
            assign=lambda book, found: setattr(book, "reviews", found or []),
            nested=[reviewer],
            children=lambda found: found or [],
        ),
    ]


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
        books = [Book(title=t, author_name=a) for t, a in BOOKS]
        await prefetch(books, selection_of(info), book_relations(info.context))
        return books

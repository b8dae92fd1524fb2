"""Relations never silently null; the look-ahead prefetches what the selection asks for."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from hom.audit.models import AuditEntry
from hom.core.roles import Role
from hom.core.unit_of_work import SessionMaker, unit_of_work
from tests.core.plumbing_schema import COUNTERS
from tests.factories import create_user, signed_in
from tests.support import GraphQLClient, count_statements, error_codes

Plumbing = tuple[Starlette, httpx.AsyncClient]
BOOK_FIELDS = "title author { name } reviews { stars reviewer { name } }"


def batches() -> list[str]:
    found = list(COUNTERS.batches)
    COUNTERS.batches.clear()
    return found


async def test_a_list_prefetches_one_batch_per_relation_and_level(pgql: GraphQLClient) -> None:
    batches()
    body = await pgql(f"{{ books {{ {BOOK_FIELDS} }} }}")
    books = body["data"]["books"]
    assert len(books) == 50
    assert books[4] == {
        "title": "B4",
        "author": {"name": "A1"},
        "reviews": [
            {"stars": 1, "reviewer": {"name": "R0"}},
            {"stars": 2, "reviewer": {"name": "R1"}},
        ],
    }
    loaded = batches()
    # Everything was loaded before the list returned; authors and reviewers share one loader.
    assert loaded[-1] == "books returned"
    assert sorted(loaded[:-1]) == ["authors:2", "authors:3", "reviews:50"]


async def test_without_its_prefetch_a_list_still_answers_the_same(pgql: GraphQLClient) -> None:
    prefetched = await pgql(f"{{ books {{ {BOOK_FIELDS} }} }}")
    batches()
    unprefetched = await pgql(f"{{ booksUnprefetched {{ {BOOK_FIELDS} }} }}")
    assert unprefetched["data"]["booksUnprefetched"] == prefetched["data"]["books"]
    loaded = batches()
    assert loaded[0] == "books returned", "loaded by the fields' own resolvers, afterwards"
    assert sorted(loaded[1:]) == ["authors:2", "authors:3", "reviews:50"]


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"author": False, "reviews": False}, []),
        ({"author": True, "reviews": False}, ["authors:3"]),
        ({"author": False, "reviews": True}, ["reviews:50"]),
    ],
)
async def test_skip_and_include_decide_what_is_prefetched(
    pgql: GraphQLClient, variables: dict[str, bool], expected: list[str]
) -> None:
    query = """query ($author: Boolean!, $reviews: Boolean!) {
      books {
        title
        ... on Book @include(if: $author) { author { name } }
        ...Reviews @skip(if: $reviews)
        reviews @include(if: $reviews) { stars }
      }
    }
    fragment Reviews on Book { title }"""
    batches()
    body = await pgql(query, variables)
    assert "errors" not in body, body
    assert batches() == [*expected, "books returned"]
    assert ("author" in body["data"]["books"][0]) is variables["author"]


async def test_fragments_count_only_for_the_type_they_name(pgql: GraphQLClient) -> None:
    batches()
    only_magazines = await pgql("{ works { title ... on Magazine { editor { name } } } }")
    assert only_magazines["data"]["works"][3] == {"title": "M0", "editor": {"name": "E0"}}
    assert batches() == ["editors:2", "works returned"]

    both = await pgql(
        "{ works { ... on Book { author { name } } ... on Magazine { editor { name } } } }"
    )
    assert both["data"]["works"][0] == {"author": {"name": "A0"}}
    loaded = batches()
    assert sorted(loaded[:-1]) == ["authors:3", "editors:2"]


async def test_a_mutation_payload_prefetches_its_selection(pgql: GraphQLClient) -> None:
    batches()
    mutation = 'mutation { addBook(title: "New", author: "Someone") { book { author { name } } } }'
    body = await pgql(mutation)
    assert body["data"]["addBook"]["book"] == {"author": {"name": "Someone"}}
    assert batches() == ["authors:1", "payload returned"]


async def test_a_payload_with_an_object_and_a_list_prefetches_both(pgql: GraphQLClient) -> None:
    batches()
    mutation = """mutation { addShelf(titles: ["One", "Two", "Three"], author: "A") {
        first { title author { name } } books { title author { name } } errors { code } } }"""
    body = await pgql(mutation)
    assert body["data"]["addShelf"] == {
        "first": {"title": "One", "author": {"name": "A 0"}},
        "books": [
            {"title": "One", "author": {"name": "A 0"}},
            {"title": "Two", "author": {"name": "A 1"}},
            {"title": "Three", "author": {"name": "A 0"}},
        ],
        "errors": [],
    }
    assert batches() == ["authors:2", "payload returned"]  # one batch for both fields


# --- nested connections over the real tables ---------------------------------------------------

WRITERS = """query ($tag: String!, $writers: Int, $entries: Int) {
  writers(tag: $tag, first: $writers) {
    edges { node {
      name
      entries(first: $entries) {
        edges { node { action actor { fullName } } }
        pageInfo { hasNextPage }
      }
    } }
  }
}"""


async def writers_with_entries(session_maker: SessionMaker, writers: int, entries: int) -> str:
    """`writers` users named "Writer <tag> <n>", each the actor of `entries` audit entries."""
    tag = uuid.uuid4().hex[:8]
    users = [
        await create_user(session_maker, full_name=f"Writer {tag} {n}") for n in range(writers)
    ]
    async with unit_of_work(session_maker) as session:
        for user in users:
            for n in range(entries):
                session.add(
                    AuditEntry(actor_id=user.id, action=f"act {n}", entity="T", entity_id="1")
                )
    return tag


def expected_writer(n: int, tag: str, entries: int, total: int) -> dict[str, Any]:
    actions = [f"act {k}" for k in reversed(range(total))][:entries]
    actor = {"fullName": f"Writer {tag} {n}"}
    return {
        "name": f"Writer {tag} {n}",
        "entries": {
            "edges": [{"node": {"action": action, "actor": actor}} for action in actions],
            "pageInfo": {"hasNextPage": entries < total},
        },
    }


async def test_a_nested_connection_costs_the_same_statements_for_any_page_sizes(
    plumbing: Plumbing, pgql: GraphQLClient, session_maker: SessionMaker
) -> None:
    app, http = plumbing
    tag = await writers_with_entries(session_maker, writers=6, entries=6)
    _, admin = await signed_in(http, session_maker, Role.ADMIN)
    counts = {}
    for writers, entries in ((2, 1), (5, 4), (6, 6)):
        variables = {"tag": tag, "writers": writers, "entries": entries}
        with count_statements(app.state.services.engine) as log:
            body = await pgql(WRITERS, variables, token=admin.access_token)
        nodes = [edge["node"] for edge in body["data"]["writers"]["edges"]]
        assert nodes == [expected_writer(n, tag, entries, 6) for n in range(writers)]
        counts[(writers, entries)] = log.count
    # The writers' page, one window over their entries, one batch of actors.
    assert set(counts.values()) == {3}, counts


async def test_aliases_with_their_own_arguments_get_their_own_pages(
    pgql: GraphQLClient, plumbing: Plumbing, session_maker: SessionMaker
) -> None:
    tag = await writers_with_entries(session_maker, writers=2, entries=3)
    _, admin = await signed_in(plumbing[1], session_maker, Role.ADMIN)
    query = """query ($tag: String!) { writers(tag: $tag) { edges { node {
      one: entries(first: 1) { edges { node { action } } }
      all: entries(first: 5) { edges { node { action } } }
    } } } }"""
    body = await pgql(query, {"tag": tag}, token=admin.access_token)
    for edge in body["data"]["writers"]["edges"]:
        assert [e["node"]["action"] for e in edge["node"]["one"]["edges"]] == ["act 2"]
        assert [e["node"]["action"] for e in edge["node"]["all"]["edges"]] == [
            "act 2",
            "act 1",
            "act 0",
        ]


async def test_unprefetched_nested_connections_answer_the_same(
    plumbing: Plumbing, pgql: GraphQLClient, session_maker: SessionMaker
) -> None:
    app, http = plumbing
    tag = await writers_with_entries(session_maker, writers=3, entries=2)
    _, admin = await signed_in(http, session_maker, Role.ADMIN)
    variables = {"tag": tag, "entries": 2}
    prefetched = await pgql(WRITERS, variables, token=admin.access_token)
    with count_statements(app.state.services.engine) as log:
        loaded = await pgql(
            WRITERS.replace("writers(tag", "writersUnprefetched(tag"),
            variables,
            token=admin.access_token,
        )
    assert loaded["data"]["writersUnprefetched"] == prefetched["data"]["writers"]
    assert log.count >= 3


async def test_bad_nested_arguments_are_reported_at_the_nested_field(
    pgql: GraphQLClient, plumbing: Plumbing, session_maker: SessionMaker
) -> None:
    tag = await writers_with_entries(session_maker, writers=2, entries=1)
    _, admin = await signed_in(plumbing[1], session_maker, Role.ADMIN)
    body = await pgql(WRITERS, {"tag": tag, "entries": 101}, token=admin.access_token)
    # The non-null connection's error nulls the list; the first one is reported, where it is.
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "first"}
    assert error["path"] == ["writers", "edges", 0, "node", "entries"]


# --- the request's session is not entered twice ------------------------------------------------


@pytest.mark.parametrize("field", ["loaderInsideSession", "sessionInsideSession"])
async def test_reentering_the_session_is_a_clear_error_not_a_hang(
    pgql: GraphQLClient, field: str
) -> None:
    body = await pgql(f"{{ {field} }}")
    assert error_codes(body) == ["INTERNAL_SERVER_ERROR"]
    assert "would wait for that block forever" in body["errors"][0]["message"]

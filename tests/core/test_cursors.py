"""A crafted cursor is BAD_USER_INPUT on `after` for every connection, on both read
paths, never an internal error (SPEC §5: cursors are opaque)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest

from hom.catalog.listing import ProductFilter, ProductSort, product_sort_keys
from hom.core.pagination import decode_cursor, encode_cursor
from hom.core.roles import Role
from tests.compiled_fixtures import both

pytestmark = pytest.mark.usefixtures("features_learnt")


def packed(value: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(value)).decode().rstrip("=")


def _raw(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).decode().rstrip("=")


# Values that no sort key holds: wrong JSON types, NULL, out of any range.
HOSTILE_VALUES: list[Any] = [
    None,
    True,
    1.5,
    2**63,
    2**64 - 1,
    "1e1000000",
    "NaN",
    "sNaN",
    "Infinity",
    "-Infinity",
    "1" * 201,
    "0." + "0" * 150 + "1",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "2024-01-01T00:00:00",
    "2024-13-45T00:00:00+00:00",
    "a\u0000b",
    "x" * 1000,
    [1],
    {"a": 1},
]
# Whole cursors: not base64, not JSON, not a list, the wrong length, too long.
HOSTILE_CURSORS: list[str] = [
    "nonsense!",
    "a\u0000b",
    "éé",
    "====",
    "x" * 5000,
    packed("x" * 3000),
    _raw(b"\x00\xff\xfe"),
    _raw(b"[1e1000000]"),
    _raw(b"[NaN]"),
    _raw(b"[18446744073709551616, 1]"),
    _raw(b"[-9223372036854775809, 1]"),
    _raw(b"[1e400, 1]"),
    packed(None),
    packed({}),
    packed([]),
    packed([1, 2, 3]),
    packed("[1]"),
    packed(["1"]),
    packed(["1", "1"]),
]


def a_name(value: Any) -> bool:
    """Whether a product name could be `value` (a NAME sort's first key)."""
    return isinstance(value, str) and "\x00" not in value and len(value) <= 200


def hostile_cursors(keys: int, *, by_name: bool = False) -> list[str]:
    """Each hostile value in each position of a list of `keys` values (the others
    plausible); `by_name`: the first key is a name, which any short text may be."""
    return [
        packed([*[1] * position, value, *[1] * (keys - position - 1)])
        for value in HOSTILE_VALUES
        for position in range(keys)
        if not (by_name and position == 0 and a_name(value))
    ]


def hostile_lists(keys: int) -> list[str]:
    """Each hostile value as every one of `keys` values."""
    return [packed([value] * keys) for value in HOSTILE_VALUES]


SELECT = "edges { cursor } pageInfo { endCursor }"
# Each connection: the document (`$after`), how many keys its cursor holds.
CONNECTIONS: list[tuple[str, int]] = [
    (f"query ($after: String) {{ users(after: $after) {{ {SELECT} }} }}", 1),
    (f"query ($after: String) {{ auditLog(after: $after) {{ {SELECT} }} }}", 1),
    (f"query ($after: String) {{ myFavorites(after: $after) {{ {SELECT} }} }}", 2),
    (f"query ($after: String) {{ myCollections(after: $after) {{ {SELECT} }} }}", 1),
    (f"query ($after: String) {{ myRecentlyViewed(after: $after) {{ {SELECT} }} }}", 2),
    (f"query ($after: String) {{ stockLevels(after: $after) {{ {SELECT} }} }}", 1),
    (f"query ($after: String) {{ stockMovements(after: $after) {{ {SELECT} }} }}", 1),
    (f"query ($after: String) {{ inventoryChecks(after: $after) {{ {SELECT} }} }}", 1),
    (f"query ($after: String) {{ myNotifications(after: $after) {{ {SELECT} }} }}", 1),
    (f"query ($after: String) {{ categories {{ products(after: $after) {{ {SELECT} }} }} }}", 2),
    (
        "query ($after: String) { myCollections { edges { node { "
        f"products(after: $after) {{ {SELECT} }} }} }} }} }}",
        2,
    ),
]
SORTS = ["NEWEST", "PRICE_ASC", "PRICE_DESC", "NAME"]
PRODUCTS = (
    "query ($after: String, $sort: ProductSort, $search: String) { products(after: $after, "
    f"sort: $sort, filter: {{search: $search}}) {{ {SELECT} }} }}"
)


def assert_refused(body: dict[str, Any], cursor: str) -> None:
    errors = body.get("errors")
    assert errors, (cursor, body)
    for error in errors:
        assert error["extensions"]["code"] == "BAD_USER_INPUT", (cursor, error)
        named = error["extensions"].get("argument") or error["extensions"].get("variable")
        assert named in ("after", "$after"), (cursor, error)


async def refused_everywhere(
    client: httpx.AsyncClient,
    executor: httpx.AsyncClient,
    query: str,
    cursors: list[str],
    token: str | None,
    **variables: Any,
) -> None:
    for cursor in cursors:
        mine, theirs = await both(client, executor, query, {**variables, "after": cursor}, token)
        assert mine == theirs, cursor
        assert_refused(mine, cursor)


@pytest.mark.usefixtures("catalog")
async def test_crafted_cursors_are_bad_input_on_every_connection(
    client: httpx.AsyncClient, executor: httpx.AsyncClient, tokens: dict[Any, str | None]
) -> None:
    admin = tokens[Role.ADMIN]
    created = await client.post(
        "/graphql",
        json={"query": 'mutation { createCollection(input: {name: "Mine"}) { errors { code } } }'},
        headers={"authorization": f"Bearer {admin}"},
    )
    assert created.json()["data"]["createCollection"]["errors"] == []
    for query, keys in CONNECTIONS:
        await refused_everywhere(client, executor, query, hostile_lists(keys), admin)
    # What is refused before the values are typed needs one connection.
    await refused_everywhere(client, executor, CONNECTIONS[0][0], HOSTILE_CURSORS, admin)


async def product_scope(
    client: httpx.AsyncClient, variables: dict[str, Any], token: str | None
) -> str:
    """The prefix a listing's cursors carry (its sort and search), from a real cursor."""
    body = {"query": PRODUCTS, "variables": {**variables, "after": None}}
    headers = {"authorization": f"Bearer {token}"} if token else {}
    answer = (await client.post("/graphql", json=body, headers=headers)).json()
    cursor = answer["data"]["products"]["pageInfo"]["endCursor"]
    return str(cursor).split(".", 1)[0]


LISTINGS = [{"sort": sort} for sort in SORTS] + [{"sort": "RELEVANCE", "search": "kettle"}]


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize(
    ("role", "listing"),
    [("ANONYMOUS", listing) for listing in LISTINGS] + [(Role.OPERATOR, LISTINGS[0])],
    ids=lambda value: value["sort"] if isinstance(value, dict) else str(value),
)
async def test_crafted_cursors_are_bad_input_on_every_product_sort(
    client: httpx.AsyncClient,
    executor: httpx.AsyncClient,
    tokens: dict[Any, str | None],
    role: Any,
    listing: dict[str, Any],
) -> None:
    scope = await product_scope(client, listing, tokens[role])
    cursors = [
        f"{scope}.{cursor}" for cursor in hostile_cursors(2, by_name=listing["sort"] == "NAME")
    ]
    cursors += [f"{scope}.{cursor}" for cursor in HOSTILE_CURSORS]
    cursors += HOSTILE_CURSORS[:3]  # and with no scope at all
    await refused_everywhere(client, executor, PRODUCTS, cursors, tokens[role], **listing)


def test_cursors_of_every_key_type_survive_the_round_trip() -> None:
    """What the checks accept: every value a sort key holds, at the edges of its range."""
    moment = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    cases = [
        (ProductSort.NEWEST, [moment, 2**63 - 1]),
        (ProductSort.PRICE_ASC, [Decimal("9999999999.99"), 1]),
        (ProductSort.PRICE_DESC, [Decimal("0.00"), 1]),
        (ProductSort.NAME, ['Ünï " 🍵' + "x" * 193, 1]),
        (ProductSort.RELEVANCE, [Decimal("1.234567"), 1]),
    ]
    for sort, values in cases:
        keys = product_sort_keys(sort, filter=ProductFilter(search="kettle"), trigram=True)
        assert decode_cursor(encode_cursor(values), keys) == tuple(values)

"""`products(first, after, filter, sort)` over HTTP: sorts, filters, search, cursors, errors,
visibility, statement counts, the search mode learnt at start-up (SPEC §7 catalog)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from starlette.applications import Starlette
from strawberry.relay import from_base64
from structlog.testing import capture_logs
from syrupy.assertion import SnapshotAssertion

from hom.app import learn_database_features
from hom.catalog import listing
from hom.catalog.listing import ProductFilter, ProductSort, list_products
from hom.core.config import Settings
from hom.core.db import SessionMaker, create_engine
from hom.core.pagination import PageRequest
from hom.core.roles import Role
from hom.core.unit_of_work import unit_of_work
from tests.catalog import factories
from tests.catalog.listing_factories import create_category, create_product, insert_products
from tests.factories import signed_in
from tests.support import GraphQLClient, count_statements, error_codes

LIST = """query ($first: Int, $after: String, $filter: ProductFilter, $sort: ProductSort) {
  products(first: $first, after: $after, filter: $filter, sort: $sort) {
    edges { cursor node { id name } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}"""
DAY = timedelta(days=1)
START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
async def search_mode(app: Starlette) -> bool:
    """What the app's lifespan does at start-up (httpx's transport runs no lifespan)."""
    await learn_database_features(app.state.services)
    known = app.state.services.features.pg_trgm
    assert known is not None
    return bool(known)


@pytest.fixture
def trigram_on(search_mode: bool) -> None:
    if not search_mode:
        pytest.skip("pg_trgm is not installed on this server")


async def products(gql: GraphQLClient, token: str | None = None, **variables: Any) -> Any:
    body = await gql(LIST, variables, token=token)
    assert "errors" not in body, body
    return body["data"]["products"]


async def names(gql: GraphQLClient, token: str | None = None, **variables: Any) -> list[str]:
    connection = await products(gql, token, **variables)
    return [edge["node"]["name"] for edge in connection["edges"]]


@pytest.fixture
async def category_id(session_maker: SessionMaker) -> int:
    category = await create_category(session_maker)
    assert category.id is not None
    return category.id


@pytest.fixture
async def shelf(session_maker: SessionMaker, category_id: int) -> None:
    """Four products with distinct prices, names and creation days."""
    for index, (name, price) in enumerate(
        [("Cup", "5.00"), ("Anvil", "120.00"), ("Bowl", "9.50"), ("Dish", "0.00")]
    ):
        await create_product(
            session_maker,
            category_id=category_id,
            name=name,
            price=price,
            created_at=START + index * DAY,
        )


# --- sorts and filters -------------------------------------------------------------------


@pytest.mark.usefixtures("shelf")
@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (None, ["Dish", "Bowl", "Anvil", "Cup"]),
        ("NEWEST", ["Dish", "Bowl", "Anvil", "Cup"]),
        ("RELEVANCE", ["Dish", "Bowl", "Anvil", "Cup"]),  # without a search: NEWEST
        ("PRICE_ASC", ["Dish", "Cup", "Bowl", "Anvil"]),
        ("PRICE_DESC", ["Anvil", "Bowl", "Cup", "Dish"]),
        ("NAME", ["Anvil", "Bowl", "Cup", "Dish"]),
    ],
)
async def test_each_sort(gql: GraphQLClient, sort: str | None, expected: list[str]) -> None:
    assert await names(gql, sort=sort) == expected


@pytest.mark.usefixtures("shelf")
async def test_price_range_is_inclusive_and_nothing_received_is_not_in_stock(
    gql: GraphQLClient,
) -> None:
    between = {"minPrice": "5", "maxPrice": "9.50"}
    assert await names(gql, sort="PRICE_ASC", filter=between) == ["Cup", "Bowl"]
    assert await names(gql, filter={"maxPrice": 0}) == ["Dish"]
    assert await names(gql, filter={"minPrice": "100"}) == ["Anvil"]
    assert await names(gql, filter={"inStock": True}) == []  # no stock received yet
    assert len(await names(gql, filter={"inStock": False})) == 4


async def test_category_filter_and_search_combine_with_every_filter(
    gql: GraphQLClient, session_maker: SessionMaker, category_id: int
) -> None:
    other = await create_category(session_maker, name="Garden")
    for name, price, category in [
        ("Green teapot", "30.00", category_id),
        ("Red teapot", "20.00", category_id),
        ("Cheap teapot", "2.00", category_id),
        ("Garden teapot", "25.00", other.id),
        ("Red kettle", "21.00", category_id),
    ]:
        await create_product(session_maker, category_id=category or 0, name=name, price=price)
    kitchen = factories.global_id("Category", category_id)
    garden = factories.global_id("Category", other.id)
    assert await names(gql, filter={"categoryId": garden}) == ["Garden teapot"]
    found = await names(
        gql,
        sort="PRICE_DESC",
        filter={"search": "teapot", "categoryId": kitchen, "minPrice": "10", "inStock": False},
    )
    assert found == ["Green teapot", "Red teapot"]
    cheap = {"search": "TEAPOT", "maxPrice": "21"}
    assert await names(gql, sort="NAME", filter=cheap) == ["Cheap teapot", "Red teapot"]


async def test_an_unknown_category_is_an_empty_page(
    gql: GraphQLClient, session_maker: SessionMaker, category_id: int
) -> None:
    await create_product(session_maker, category_id=category_id, name="Pan")
    missing = factories.global_id("Category", 10**12)
    connection = await products(gql, filter={"categoryId": missing})
    assert connection == {
        "edges": [],
        "pageInfo": {"hasNextPage": False, "hasPreviousPage": False, "endCursor": None},
    }


async def test_archived_products_exist_only_for_catalog_editors(
    client: httpx.AsyncClient, gql: GraphQLClient, session_maker: SessionMaker, category_id: int
) -> None:
    await create_product(session_maker, category_id=category_id, name="On", created_at=START)
    await create_product(session_maker, category_id=category_id, name="Off", is_active=False)
    kitchen = factories.global_id("Category", category_id)
    for role in (None, Role.CUSTOMER, Role.STAFF, Role.OPERATOR, Role.ADMIN):
        token = None if role is None else (await signed_in(client, session_maker, role))[1]
        access = None if token is None else token.access_token
        editor = role in (Role.OPERATOR, Role.ADMIN)
        expected = ["Off", "On"] if editor else ["On"]
        assert await names(gql, access, sort="NAME") == expected, role
        assert await names(gql, access, filter={"search": "off"}) == expected[:1] * editor, role
        in_category = {"categoryId": kitchen}
        assert await names(gql, access, sort="NAME", filter=in_category) == expected, role


# --- errors ------------------------------------------------------------------------------


async def first_cursor(gql: GraphQLClient, **variables: Any) -> str:
    cursor: str = (await products(gql, first=1, **variables))["edges"][0]["cursor"]
    return cursor


@pytest.mark.usefixtures("shelf")
@pytest.mark.parametrize(
    ("variables", "argument"),
    [
        ({"filter": {"minPrice": "10", "maxPrice": "9.99"}}, "filter.minPrice"),
        ({"filter": {"minPrice": "-0.01"}}, "filter.minPrice"),
        ({"filter": {"maxPrice": "-1"}}, "filter.maxPrice"),
        ({"filter": {"categoryId": "not-an-id"}}, "filter.categoryId"),
        ({"filter": {"categoryId": factories.global_id("Product", 1)}}, "filter.categoryId"),
        ({"first": 101}, "first"),
        ({"first": -1}, "first"),
        ({"after": "not-a-cursor"}, "after"),
        ({"after": "0123456789ab.WyJ4IiwxXQ"}, "after"),
    ],
    ids=lambda value: str(value)[:40],
)
async def test_bad_arguments_are_bad_user_input(
    gql: GraphQLClient, variables: dict[str, Any], argument: str
) -> None:
    body = await gql(LIST, variables)
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["argument"] == argument
    assert body["data"] is None


@pytest.mark.usefixtures("shelf")
@pytest.mark.parametrize(
    ("made_with", "used_with"),
    [
        ({"sort": "NEWEST"}, {"sort": "PRICE_ASC"}),
        ({"sort": "PRICE_ASC"}, {"sort": "NAME"}),
        ({"sort": "PRICE_ASC"}, {"sort": "PRICE_DESC"}),
        ({"sort": "NAME"}, {"sort": "NEWEST"}),
        ({"filter": {"search": "cup"}}, {"filter": {"search": "bowl"}}),
        ({"filter": {"search": "cup"}}, {"sort": "PRICE_ASC", "filter": {"search": "cup"}}),
        ({"sort": "NAME", "filter": {"search": "cup"}}, {"sort": "NAME"}),
    ],
    ids=str,
)
async def test_a_cursor_of_another_sort_or_search_is_refused(
    gql: GraphQLClient, made_with: dict[str, Any], used_with: dict[str, Any]
) -> None:
    after = await first_cursor(gql, **made_with)
    body = await gql(LIST, {**used_with, "after": after})
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["argument"] == "after"


@pytest.mark.usefixtures("shelf")
async def test_a_cursor_survives_a_change_of_other_filters(gql: GraphQLClient) -> None:
    after = await first_cursor(gql, sort="PRICE_ASC")  # Dish, 0.00
    assert await names(gql, sort="PRICE_ASC", after=after, filter={"maxPrice": "9.50"}) == [
        "Cup",
        "Bowl",
    ]


# --- search ------------------------------------------------------------------------------


async def test_an_exact_name_ranks_above_a_description_match(
    gql: GraphQLClient, session_maker: SessionMaker, category_id: int
) -> None:
    await create_product(
        session_maker, category_id=category_id, name="Steel pot", description="Fits a kettle"
    )
    await create_product(session_maker, category_id=category_id, name="Kettle")
    await create_product(session_maker, category_id=category_id, name="Spoon")
    assert await names(gql, filter={"search": "kettle"}) == ["Kettle", "Steel pot"]
    assert await names(gql, sort="RELEVANCE", filter={"search": "KETTLE"}) == [
        "Kettle",
        "Steel pot",
    ]


async def test_cyrillic_search(
    gql: GraphQLClient, session_maker: SessionMaker, category_id: int
) -> None:
    await create_product(session_maker, category_id=category_id, name="Электрический чайник")
    await create_product(session_maker, category_id=category_id, name="Чашка")
    for search in ("Чайник", "ЧАЙНИК", "чайн", "электрический чайник"):
        assert await names(gql, filter={"search": search}) == ["Электрический чайник"], search


@pytest.mark.usefixtures("trigram_on")
async def test_a_one_letter_typo_finds_the_product_with_pg_trgm(
    gql: GraphQLClient, session_maker: SessionMaker, category_id: int
) -> None:
    await create_product(session_maker, category_id=category_id, name="Электрический чайник")
    await create_product(session_maker, category_id=category_id, name="Чашка")
    await create_product(session_maker, category_id=category_id, name="Teapot")
    assert await names(gql, filter={"search": "чайнек"}) == ["Электрический чайник"]
    assert await names(gql, filter={"search": "teapto"}) == ["Teapot"]


LITERAL_NAMES = [
    "Quote ' OR 1=1 -- mug",
    "Percent 100% cotton",
    "snake_case sticker",
    "Back\\slash tool",
    "a & b | !c board",
    "foo:* label",
    "Paren ( lamp",
    "Arrow <-> sign",
    "Emoji 🍵 cup",
    "Blue teapot",
]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("' OR 1=1 --", ["Quote ' OR 1=1 -- mug"]),
        ("%", []),
        ("_", []),
        ("\\", []),
        ("a & b | !c", ["a & b | !c board"]),
        ("foo:*", ["foo:* label"]),
        ("(", []),
        ("<->", []),
        ("x" * 10_000, []),
        ("🍵", []),
        ("🍵 cup", ["Emoji 🍵 cup"]),
        ("100%", ["Percent 100% cotton"]),
        ("snake_case", ["snake_case sticker"]),
    ],
    ids=lambda value: repr(value)[:20],
)
async def test_any_search_is_literal(
    gql: GraphQLClient,
    session_maker: SessionMaker,
    category_id: int,
    search: str,
    expected: list[str],
) -> None:
    for name in LITERAL_NAMES:
        await create_product(session_maker, category_id=category_id, name=name)
    assert sorted(await names(gql, first=100, filter={"search": search})) == expected
    async with unit_of_work(session_maker) as session:
        assert await session.scalar(text("SELECT count(*) FROM product")) == len(LITERAL_NAMES)


# --- keyset pagination -------------------------------------------------------------------

PAGED = [
    ("NEWEST", None),
    ("PRICE_ASC", None),
    ("PRICE_DESC", None),
    ("NAME", None),
    ("RELEVANCE", "gadget"),
    ("PRICE_ASC", "gadget"),
    ("NAME", "gadget 1"),
]


@pytest.fixture
async def thousand(session_maker: SessionMaker) -> None:
    first = await create_category(session_maker, name="First")
    second = await create_category(session_maker, name="Second")
    await insert_products(session_maker, count=1000, category_ids=(first.id or 0, second.id or 0))


async def full_order(
    session_maker: SessionMaker, sort: str, search: str | None, trigram: bool
) -> list[int | None]:
    async with unit_of_work(session_maker) as session:
        page = await list_products(
            session,
            filter=ProductFilter(search=search),
            sort=ProductSort(sort),
            request=PageRequest(first=5000, after=None),
            trigram=trigram,
        )
    return [product.id for product in page.rows]


@pytest.mark.usefixtures("thousand")
@pytest.mark.parametrize(("sort", "search"), PAGED, ids=str)
async def test_paging_7_at_a_time_sees_every_product_once_under_every_sort(
    gql: GraphQLClient,
    session_maker: SessionMaker,
    search_mode: bool,
    sort: str,
    search: str | None,
) -> None:
    expected = await full_order(session_maker, sort, search, search_mode)
    assert len(expected) > 100
    seen: list[int] = []
    after = None
    while True:
        connection = await products(gql, first=7, after=after, sort=sort, filter={"search": search})
        seen += [int(from_base64(edge["node"]["id"])[1]) for edge in connection["edges"]]
        assert connection["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert len(set(seen)) == len(seen)
    assert seen == expected


# --- statements --------------------------------------------------------------------------

PRICED = """query ($first: Int!) { products(first: $first) { edges { node {
  name price { amount } category { name parent { name } } favoriteCount viewerHasFavorited
} } } }"""
# The compiled path: one statement. The executor: the page, its categories, their
# parents, favorite counts, (signed in) the viewer's favorites.
PRICED_STATEMENTS = {"anonymous": 4, "signed in": 5}


@pytest.mark.parametrize("path", ["compiled", "executor"])
@pytest.mark.parametrize("who", ["anonymous", "signed in"])
async def test_a_products_page_costs_the_same_for_1_20_and_100_products(
    app: Starlette,
    client: httpx.AsyncClient,
    gql: GraphQLClient,
    session_maker: SessionMaker,
    who: str,
    path: str,
) -> None:
    await learn_database_features(app.state.services)
    app.state.compiled.enabled = path == "compiled"
    kitchen = await factories.create_category(session_maker, "Kitchen")
    kettles = await factories.create_category(session_maker, "Kettles", parent=kitchen)
    cups = await factories.create_category(session_maker, "Cups", parent=kitchen)
    made = await factories.create_products(session_maker, kettles, 60)
    made += await factories.create_products(session_maker, cups, 60, start=60)
    token = None
    if who == "signed in":
        user, tokens = await signed_in(client, session_maker)
        await factories.add_favorites(session_maker, user.id, made[::3])
        token = tokens.access_token
    counts = {}
    for first in (1, 20, 100):
        with count_statements(app.state.services.engine) as log:
            body = await gql(PRICED, {"first": first}, token=token)
        assert "errors" not in body, body
        nodes = [edge["node"] for edge in body["data"]["products"]["edges"]]
        assert len(nodes) == first
        newest = nodes[0]  # product 119, in Cups; 119 % 3 != 0
        assert newest["category"] == {"name": "Cups", "parent": {"name": "Kitchen"}}
        assert (newest["favoriteCount"], newest["viewerHasFavorited"]) == (0, False)
        favorited = [node["viewerHasFavorited"] for node in nodes]
        assert any(favorited) is (bool(token) and first > 1)
        counts[first] = log.count
    expected = 1 if path == "compiled" else PRICED_STATEMENTS[who]
    assert set(counts.values()) == {expected}, counts


# --- start-up and connection settings ----------------------------------------------------


async def test_start_up_says_which_search_runs_once(app: Starlette) -> None:
    services = app.state.services
    services.features.pg_trgm = None
    with capture_logs() as logs:
        await learn_database_features(services)
    modes = {listing.TRIGRAM_MODE, listing.FULL_TEXT_MODE}
    assert [entry["event"] for entry in logs if entry["event"] in modes] == [
        listing.TRIGRAM_MODE if services.features.pg_trgm else listing.FULL_TEXT_MODE
    ]


async def test_the_first_search_learns_the_mode_when_start_up_could_not(
    app: Starlette, gql: GraphQLClient, session_maker: SessionMaker, category_id: int
) -> None:
    known = app.state.services.features.pg_trgm
    app.state.services.features.pg_trgm = None
    await create_product(session_maker, category_id=category_id, name="Kettle")
    assert await names(gql, filter={"search": "kettle"}) == ["Kettle"]
    assert app.state.services.features.pg_trgm is known
    with count_statements(app.state.services.engine) as log:
        assert await names(gql, filter={"search": "kettle"}) == ["Kettle"]
    assert log.count == 1


async def show(settings: Settings, url: str, name: str) -> str:
    engine = create_engine(settings, url)
    try:
        async with engine.connect() as connection:
            return str(await connection.scalar(text(f"SELECT current_setting('{name}')")))
    finally:
        await engine.dispose()


async def test_connections_set_the_trigram_threshold_with_or_without_pg_trgm(
    settings: Settings, db_url: str, fresh_db_url: str
) -> None:
    """A fresh database has no pg_trgm: the dotted setting is a placeholder there."""
    threshold = "pg_trgm.word_similarity_threshold"
    for url in (db_url, fresh_db_url):
        assert float(await show(settings, url, threshold)) == listing.TRIGRAM_THRESHOLD
        assert await show(settings, url, "random_page_cost") == "1.1"
    engine = create_engine(settings, fresh_db_url)
    try:
        async with engine.connect() as connection:
            assert not await listing.trigram_available(connection=connection)
    finally:
        await engine.dispose()


# --- snapshot ----------------------------------------------------------------------------

SHOWCASE = """query ($filter: ProductFilter, $sort: ProductSort) {
  products(first: 3, filter: $filter, sort: $sort) {
    edges { node {
      sku slug name description price { amount currency } isActive createdAt
      category { slug parent { slug } } availableQuantity favoriteCount viewCount
      viewerHasFavorited
    } }
    pageInfo { hasNextPage hasPreviousPage }
  }
}"""


async def test_a_price_sorted_search_page(
    gql: GraphQLClient, session_maker: SessionMaker, snapshot: SnapshotAssertion
) -> None:
    kitchen = await factories.create_category(session_maker, "Kitchen")
    kettles = await factories.create_category(session_maker, "Kettles", parent=kitchen)
    made = await factories.create_products(session_maker, kettles, 5)
    await factories.create_products(session_maker, kettles, 1, start=9, is_active=False)
    await factories.add_views(session_maker, made[3], 3)
    variables = {"filter": {"search": "kettles", "maxPrice": "13.90"}, "sort": "PRICE_DESC"}
    assert await gql(SHOWCASE, variables) == snapshot


def test_the_listing_and_the_connections_agree_on_the_threshold() -> None:
    from hom.core.db import SERVER_SETTINGS

    assert float(SERVER_SETTINGS["pg_trgm.word_similarity_threshold"]) == (
        listing.TRIGRAM_THRESHOLD
    )
    assert Decimal(SERVER_SETTINGS["random_page_cost"]) == Decimal("1.1")

"""hom/catalog/listing.py on the real database: sorts, filters, search, cursors, statements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlmodel import col
from starlette.applications import Starlette
from structlog.testing import capture_logs

from hom.catalog import listing
from hom.catalog.listing import ProductFilter, ProductSort, list_products, product_sort_keys
from hom.catalog.models import Product
from hom.core.db import SessionMaker
from hom.core.errors import DomainError, ErrorCode
from hom.core.pagination import Page, PageRequest, decode_cursor, page_request
from hom.core.unit_of_work import unit_of_work
from tests.catalog.listing_factories import create_category, create_product, insert_products
from tests.support import count_statements

BOTH_MODES = pytest.mark.parametrize("trigram", [True, False], ids=["trigram", "full-text"])
EVERYTHING = PageRequest(first=5000, after=None)
DAY = timedelta(days=1)
START = datetime(2026, 1, 1, tzinfo=UTC)


async def products(
    session_maker: SessionMaker,
    sort: ProductSort | None = None,
    *,
    trigram: bool = True,
    request: PageRequest = EVERYTHING,
    **filters: Any,
) -> Page[Product]:
    async with unit_of_work(session_maker) as session:
        return await list_products(
            session,
            filter=ProductFilter(**filters),
            sort=sort,
            request=request,
            trigram=trigram,
        )


async def names(session_maker: SessionMaker, *args: Any, **kwargs: Any) -> list[str]:
    return [product.name for product in (await products(session_maker, *args, **kwargs)).rows]


@pytest.fixture
async def category_id(session_maker: SessionMaker) -> int:
    category = await create_category(session_maker)
    assert category.id is not None
    return category.id


@pytest.fixture
async def trigram_on(session_maker: SessionMaker) -> None:
    async with unit_of_work(session_maker) as session:
        if not await listing.trigram_available(connection=session):
            pytest.skip("pg_trgm is not installed on this server")


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


# --- sorts -------------------------------------------------------------------------------


@pytest.mark.usefixtures("shelf")
@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (None, ["Dish", "Bowl", "Anvil", "Cup"]),
        (ProductSort.NEWEST, ["Dish", "Bowl", "Anvil", "Cup"]),
        (ProductSort.RELEVANCE, ["Dish", "Bowl", "Anvil", "Cup"]),  # no search: NEWEST
        (ProductSort.PRICE_ASC, ["Dish", "Cup", "Bowl", "Anvil"]),
        (ProductSort.PRICE_DESC, ["Anvil", "Bowl", "Cup", "Dish"]),
        (ProductSort.NAME, ["Anvil", "Bowl", "Cup", "Dish"]),
    ],
)
async def test_each_sort_orders_products(
    session_maker: SessionMaker, sort: ProductSort | None, expected: list[str]
) -> None:
    assert await names(session_maker, sort) == expected


def test_relevance_is_the_default_only_when_searching() -> None:
    assert listing.effective_sort(None, ProductFilter(search="cup")) is ProductSort.RELEVANCE
    assert listing.effective_sort(None, ProductFilter()) is ProductSort.NEWEST
    assert listing.effective_sort(None, ProductFilter(search="  ")) is ProductSort.NEWEST
    no_search = ProductFilter(search=None)
    assert listing.effective_sort(ProductSort.RELEVANCE, no_search) is ProductSort.NEWEST
    assert listing.effective_sort(ProductSort.NAME, ProductFilter(search="x")) is ProductSort.NAME


# --- filters -----------------------------------------------------------------------------


async def test_category_filter(session_maker: SessionMaker, category_id: int) -> None:
    other = await create_category(session_maker, name="Garden")
    await create_product(session_maker, category_id=category_id, name="Pan")
    await create_product(session_maker, category_id=other.id or 0, name="Rake")
    assert await names(session_maker, category_id=other.id) == ["Rake"]
    assert await names(session_maker, category_id=category_id) == ["Pan"]


@pytest.mark.usefixtures("shelf")
async def test_price_range_is_inclusive(session_maker: SessionMaker) -> None:
    found = await names(
        session_maker, ProductSort.PRICE_ASC, min_price=Decimal("5"), max_price=Decimal("9.50")
    )
    assert found == ["Cup", "Bowl"]
    assert await names(session_maker, ProductSort.PRICE_ASC, max_price=Decimal(0)) == ["Dish"]
    assert await names(session_maker, ProductSort.PRICE_ASC, min_price=Decimal(100)) == ["Anvil"]


@pytest.mark.parametrize(
    ("bounds", "field"),
    [
        ({"min_price": Decimal("10"), "max_price": Decimal("9.99")}, "min_price"),
        ({"min_price": Decimal("-0.01")}, "min_price"),
        ({"max_price": Decimal("-1")}, "max_price"),
        ({"min_price": Decimal("NaN")}, "min_price"),
    ],
)
async def test_bad_price_bounds_are_invalid(
    session_maker: SessionMaker, bounds: dict[str, Decimal], field: str
) -> None:
    with pytest.raises(DomainError) as raised:
        await products(session_maker, **bounds)
    assert (raised.value.code, raised.value.field) == (ErrorCode.INVALID, field)


async def test_inactive_products_only_when_asked(
    session_maker: SessionMaker, category_id: int
) -> None:
    await create_product(session_maker, category_id=category_id, name="On", created_at=START)
    await create_product(session_maker, category_id=category_id, name="Off", is_active=False)
    assert await names(session_maker) == ["On"]
    assert await names(session_maker, ProductSort.NAME, include_inactive=True) == ["Off", "On"]


@pytest.mark.usefixtures("shelf")
async def test_in_stock_asks_the_stock_condition(
    session_maker: SessionMaker,
) -> None:
    assert await names(session_maker, in_stock=True) == []
    assert len(await names(session_maker, in_stock=False)) == 4
    async with unit_of_work(session_maker) as session:
        page = await list_products(
            session,
            filter=ProductFilter(in_stock=True),
            sort=ProductSort.NAME,
            request=EVERYTHING,
            trigram=False,
            stock=lambda: col(Product.price) > 9,  # any condition on `product`
        )
    assert [product.name for product in page.rows] == ["Anvil", "Bowl"]


async def test_search_combines_with_every_filter_and_sort(
    session_maker: SessionMaker, category_id: int
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
    found = await names(
        session_maker,
        ProductSort.PRICE_DESC,
        search="teapot",
        category_id=category_id,
        min_price=Decimal(10),
        in_stock=False,
    )
    assert found == ["Green teapot", "Red teapot"]
    assert await names(session_maker, ProductSort.NAME, search="TEAPOT", max_price=Decimal(21)) == [
        "Cheap teapot",
        "Red teapot",
    ]
    assert await names(session_maker, search="teapot", in_stock=True) == []


# --- search and ranking ------------------------------------------------------------------


@BOTH_MODES
async def test_name_match_ranks_above_description_match(
    session_maker: SessionMaker, category_id: int, trigram: bool
) -> None:
    await create_product(
        session_maker, category_id=category_id, name="Steel pot", description="Fits a kettle"
    )
    await create_product(session_maker, category_id=category_id, name="Kettle")
    await create_product(session_maker, category_id=category_id, name="Spoon")
    assert await names(session_maker, search="kettle", trigram=trigram) == ["Kettle", "Steel pot"]


@BOTH_MODES
async def test_sku_is_searched_like_the_name(
    session_maker: SessionMaker, category_id: int, trigram: bool
) -> None:
    await create_product(session_maker, category_id=category_id, name="Lamp", sku="ZX-4471")
    await create_product(
        session_maker, category_id=category_id, name="Shade", description="for lamp zx"
    )
    for search in ("ZX-4471", "zx 4471", "zx-44"):
        assert await names(session_maker, search=search, trigram=trigram) == ["Lamp"], search
    assert await names(session_maker, search="zx", trigram=trigram) == ["Lamp", "Shade"]


@BOTH_MODES
async def test_cyrillic_search(
    session_maker: SessionMaker, category_id: int, trigram: bool
) -> None:
    await create_product(session_maker, category_id=category_id, name="Электрический чайник")
    await create_product(session_maker, category_id=category_id, name="Чашка")
    for search in ("Чайник", "ЧАЙНИК", "чайн", "электрический  чайник", "Чайник\x00"):
        found = await names(session_maker, search=search, trigram=trigram)
        assert found == ["Электрический чайник"], search


@pytest.mark.usefixtures("trigram_on")
async def test_a_typo_is_found_with_trigrams_only(
    session_maker: SessionMaker, category_id: int
) -> None:
    await create_product(session_maker, category_id=category_id, name="Электрический чайник")
    await create_product(session_maker, category_id=category_id, name="Чашка")
    await create_product(session_maker, category_id=category_id, name="Teapot")
    assert await names(session_maker, search="чайнек") == ["Электрический чайник"]
    assert await names(session_maker, search="электрическй чайник") == ["Электрический чайник"]
    assert await names(session_maker, search="teapto") == ["Teapot"]
    assert await names(session_maker, search="чайнек", trigram=False) == []
    assert await names(session_maker, search="чайник", trigram=False) == ["Электрический чайник"]


@pytest.mark.usefixtures("trigram_on")
async def test_an_exact_match_ranks_above_a_typo_match(
    session_maker: SessionMaker, category_id: int
) -> None:
    await create_product(session_maker, category_id=category_id, name="Teapots")
    await create_product(session_maker, category_id=category_id, name="Teapot")
    await create_product(session_maker, category_id=category_id, name="Tempo")
    assert await names(session_maker, search="teapot") == ["Teapot", "Teapots"]


@BOTH_MODES
async def test_a_name_holding_the_word_ranks_above_one_that_only_starts_with_it(
    session_maker: SessionMaker, category_id: int, trigram: bool
) -> None:
    # Made first so that the tie-break (newest id first) would put it on top.
    await create_product(session_maker, category_id=category_id, name="Compact kettle")
    for name in ("Folding kettlebell Nord", "Steel kettlebell 2000"):
        await create_product(session_maker, category_id=category_id, name=name)
    found = await names(session_maker, search="kettle", trigram=trigram)
    assert found[0] == "Compact kettle", found
    assert sorted(found[1:]) == ["Folding kettlebell Nord", "Steel kettlebell 2000"]


@pytest.mark.usefixtures("trigram_on")
async def test_a_typo_finds_the_whole_word_before_a_longer_one(
    session_maker: SessionMaker, category_id: int
) -> None:
    await create_product(session_maker, category_id=category_id, name="Compact kettle")
    await create_product(session_maker, category_id=category_id, name="Folding kettlebell Nord")
    await create_product(session_maker, category_id=category_id, name="Электрический чайник")
    await create_product(session_maker, category_id=category_id, name="Чайниковый набор")
    found = await names(session_maker, search="ketle")
    assert found == ["Compact kettle", "Folding kettlebell Nord"]
    assert (await names(session_maker, search="чайнек"))[0] == "Электрический чайник"


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
    "Электрический чайник",
    "Blue teapot",
]
TEN_KB = "x" * 10_000


@BOTH_MODES
@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("' OR 1=1 --", ["Quote ' OR 1=1 -- mug"]),
        ("%", []),
        ("_", []),
        ("\\", []),
        ("\\\\", []),
        ("a & b | !c", ["a & b | !c board"]),
        ("foo:*", ["foo:* label"]),
        ("(", []),
        ("<->", []),
        ("\x00", []),
        ("\x00\x00 teapot", ["Blue teapot"]),
        (TEN_KB, []),
        ("teapot " * 2000, ["Blue teapot"]),
        ("🍵", []),
        ("🍵 cup", ["Emoji 🍵 cup"]),
        ("%' --", []),
        ("100%", ["Percent 100% cotton"]),
        ("snake_case", ["snake_case sticker"]),
        ("'teapot':*", ["Blue teapot"]),
        ("teapot & !blue", ["Blue teapot"]),
        ("$1; DROP TABLE product", []),
        ("\ud800 teapot", ["Blue teapot"]),
        ("sign<->arrow", ["Arrow <-> sign"]),
    ],
    ids=lambda value: repr(value)[:24],
)
async def test_any_input_is_a_literal_search(
    session_maker: SessionMaker, category_id: int, trigram: bool, search: str, expected: list[str]
) -> None:
    for name in LITERAL_NAMES:
        await create_product(session_maker, category_id=category_id, name=name)
    assert sorted(await names(session_maker, search=search, trigram=trigram)) == expected
    async with unit_of_work(session_maker) as session:
        assert await session.scalar(text("SELECT count(*) FROM product")) == len(LITERAL_NAMES)


def test_search_words_are_letters_and_digits_capped() -> None:
    assert listing.search_terms(None) is None
    assert listing.search_terms(" \t\n ") is None
    assert listing.search_terms("%") == listing.SearchTerms(())
    assert listing.search_terms("a:*&b|c") == listing.SearchTerms(("a", "b", "c"))
    long = listing.search_terms("w " * 100)
    assert long is not None
    assert len(long.words) == listing.MAX_SEARCH_WORDS
    huge = listing.search_terms(TEN_KB)
    assert huge is not None
    assert huge.words == ("x" * listing.MAX_SEARCH_LENGTH,)
    terms = listing.search_terms("Чайнек")
    assert terms is not None
    assert terms.trigrams == ["чай", "айн", "йне", "нек"]


async def test_a_search_without_words_sends_no_statement(
    app: Starlette, session_maker: SessionMaker
) -> None:
    async with unit_of_work(session_maker) as session:
        with count_statements(app.state.services.engine) as log:
            page = await list_products(
                session,
                filter=ProductFilter(search="%"),
                sort=None,
                request=EVERYTHING,
                trigram=True,
            )
    assert (page.rows, log.count) == ([], 0)


# --- keyset pagination -------------------------------------------------------------------

PAGED = [
    (ProductSort.NEWEST, None),
    (ProductSort.PRICE_ASC, None),
    (ProductSort.PRICE_DESC, None),
    (ProductSort.NAME, None),
    (ProductSort.RELEVANCE, "gadget"),
    (ProductSort.NEWEST, "gadget"),
    (ProductSort.PRICE_ASC, "gadget"),
    (ProductSort.PRICE_DESC, "gadget 1"),
    (ProductSort.NAME, "gadget"),
]


@pytest.fixture
async def thousand(session_maker: SessionMaker) -> None:
    first = await create_category(session_maker, name="First")
    second = await create_category(session_maker, name="Second")
    await insert_products(session_maker, count=1000, category_ids=(first.id or 0, second.id or 0))


@pytest.mark.usefixtures("thousand")
@pytest.mark.parametrize(("sort", "search"), PAGED, ids=lambda value: str(value))
async def test_keyset_pages_are_stable_under_every_sort(
    app: Starlette, session_maker: SessionMaker, sort: ProductSort, search: str | None
) -> None:
    filter = ProductFilter(search=search)
    expected = [product.id for product in (await products(session_maker, sort, search=search)).rows]
    assert len(expected) > 100
    keys = product_sort_keys(sort, filter=filter, trigram=True)
    seen: list[int | None] = []
    after: str | None = None
    async with unit_of_work(session_maker) as session:
        while True:
            request = page_request(7, after, keys)
            with count_statements(app.state.services.engine) as log:
                page = await list_products(
                    session, filter=filter, sort=sort, request=request, trigram=True
                )
            assert log.count == 1
            seen += [product.id for product in page.rows]
            if not page.has_next_page:
                break
            after = page.cursors[-1]
    assert seen == expected
    assert len(set(seen)) == len(seen)


@pytest.mark.usefixtures("thousand")
@pytest.mark.parametrize("sort", [s for s in ProductSort if s is not ProductSort.RELEVANCE])
async def test_the_full_order_is_the_sort_with_id_tie_break(
    session_maker: SessionMaker, sort: ProductSort
) -> None:
    rows = (await products(session_maker, sort)).rows
    assert len(rows) == 1000
    attribute, descending = {
        ProductSort.NEWEST: ("created_at", True),
        ProductSort.PRICE_ASC: ("price", False),
        ProductSort.PRICE_DESC: ("price", True),
        ProductSort.NAME: ("name", False),
    }[sort]
    keys = [(getattr(row, attribute), row.id) for row in rows]
    assert keys == sorted(keys, reverse=descending)


@pytest.mark.usefixtures("thousand")
async def test_relevance_order_is_rank_then_id(session_maker: SessionMaker) -> None:
    filter = ProductFilter(search="gadget")
    page = await products(session_maker, ProductSort.RELEVANCE, search="gadget")
    keys = product_sort_keys(ProductSort.RELEVANCE, filter=filter, trigram=True)
    ranks = [decode_cursor(cursor, keys) for cursor in page.cursors]
    assert all(isinstance(rank, Decimal) for rank, _ in ranks)
    assert len({rank for rank, _ in ranks}) > 1  # description mentions rank higher
    assert ranks == sorted(ranks, reverse=True)


# --- plans and start-up ------------------------------------------------------------------


def compiled(statement: Any) -> str:
    dialect = asyncpg_dialect()  # no doubled `%` (`<%`) for text() on asyncpg
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


async def plan(session_maker: SessionMaker, sort: ProductSort, **filters: Any) -> str:
    filter = ProductFilter(**filters)
    keys = product_sort_keys(sort, filter=filter, trigram=True)
    statement = listing.products_statement(filter, keys, PageRequest(20, None), trigram=True)
    async with unit_of_work(session_maker) as session:
        connection = await session.connection()
        await connection.execute(text("ANALYZE product"))
        await connection.execute(text("SET LOCAL enable_seqscan = off"))
        result = await connection.execute(text("EXPLAIN " + compiled(statement)))
        return "\n".join(row[0] for row in result)


@pytest.mark.usefixtures("thousand", "trigram_on")
@pytest.mark.parametrize(
    ("sort", "filters", "index"),
    [
        (ProductSort.NEWEST, {}, "ix_product_created_at_id"),
        (ProductSort.PRICE_ASC, {}, "ix_product_price_id"),
        (ProductSort.PRICE_DESC, {}, "ix_product_price_id"),
        (ProductSort.NAME, {}, "ix_product_name_id"),
        # One category in each sort's order (migration 0008).
        (ProductSort.NEWEST, {"category_id": 1}, "ix_product_category_id_created_at_id"),
        (ProductSort.PRICE_ASC, {"category_id": 1}, "ix_product_category_id_price_id"),
        (ProductSort.PRICE_DESC, {"category_id": 1}, "ix_product_category_id_price_id"),
        (ProductSort.NAME, {"category_id": 1}, "ix_product_category_id_name_id"),
        (ProductSort.RELEVANCE, {"search": "gadget"}, "ix_product_search_document"),
        (ProductSort.RELEVANCE, {"search": "gadget"}, "ix_product_name_trgm"),
    ],
)
async def test_the_listing_queries_use_their_indexes(
    session_maker: SessionMaker, sort: ProductSort, filters: dict[str, Any], index: str
) -> None:
    assert index in await plan(session_maker, sort, **filters)


async def test_search_mode_names_the_running_mode(session_maker: SessionMaker) -> None:
    async with unit_of_work(session_maker) as session:
        available = await listing.trigram_available(connection=session)
        expected = listing.TRIGRAM_MODE if available else listing.FULL_TEXT_MODE
        assert await listing.search_mode(connection=session) == expected
        connection = await session.connection()
        await connection.execute(text("DROP EXTENSION IF EXISTS pg_trgm CASCADE"))
    async with unit_of_work(session_maker) as session:
        with capture_logs() as logs:
            assert await listing.log_search_mode(connection=session) is False
    assert [entry["event"] for entry in logs] == [listing.FULL_TEXT_MODE]

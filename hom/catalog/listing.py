"""The products listing: filters, sorts with keyset cursors, and search (SPEC §7 catalog).

Plain async functions over a session; no strawberry. A resolver calls
`products_page` (client arguments: `first`/`after` checked, cursors bound to their sort
and search); `product_sort_keys` and `list_products` are its parts, sharing one sort and
filter so the cursor and the page agree.

Search, in short:
- The input is cut to its words (Unicode letters and digits; NULs, punctuation,
  operators and emoji are separators), at most `MAX_SEARCH_LENGTH` characters and
  `MAX_SEARCH_WORDS` words. Only those words reach the database, always as bound
  parameters: any input is literal. Blank input is no search; input with no words
  (`%`, `' --`) is a search that matches nothing (an empty page, no statement).
- Full-text: every word is a prefix lexeme (`'word':*`), all of them must match
  `product.search_document` (config 'simple', so Cyrillic and Latin alike).
- Trigram (when pg_trgm is installed and the caller says so): the name is also a
  match when `lower(words) <% lower(name)`, i.e. its word similarity reaches
  `pg_trgm.word_similarity_threshold`, which every pooled connection sets to
  `TRIGRAM_THRESHOLD` (hom.core.db.SERVER_SETTINGS): a one-letter typo. The operator
  (unlike a `word_similarity(...) >= x` call) is indexable (`ix_product_name_trgm`)
  and estimated, so the planner does not seq-scan every product to rank a search.
- Rank: `ts_rank_cd` (weight A, name and sku = 1.0; weight B, description = 0.4) of
  the prefix query, plus that of the whole words (so a name holding the word comes
  before one that only starts with it: "kettle" before "kettlebell"), plus, in trigram
  mode, the name's `strict_word_similarity` (0..1, against whole words, so "ketle" too
  finds the kettle first); rounded to six places so a cursor holds it exactly; ties are
  broken by id.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

import structlog
from sqlalchemy import Numeric, cast, func, literal_column, not_, or_, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import Mapped
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.catalog.models import Product
from hom.catalog.tree import in_subtree
from hom.core.errors import DomainError, ErrorCode, InvalidInput
from hom.core.pagination import (
    EMPTY_PAGE,
    Page,
    PageQuery,
    PageRequest,
    SortKey,
    keyset_select,
    page_direction,
    page_request,
    read_keys,
)
from hom.core.services import DatabaseFeatures
from hom.inventory.service import in_stock_condition

MAX_SEARCH_LENGTH = 200  # characters of input looked at; the rest is ignored
MAX_SEARCH_WORDS = 10
MIN_TRIGRAM_LENGTH = 4  # shorter queries are prefixes already; trigrams would match too much
MAX_TRIGRAMS = 64
# One wrong letter in a 5+ letter word still matches; the connections' setting
# (hom.core.db.SERVER_SETTINGS) says the same, and a test checks they agree.
TRIGRAM_THRESHOLD = 0.5
RANK_PLACES = 6
TRIGRAM_MODE = "search: full-text + trigram (pg_trgm)"
FULL_TEXT_MODE = "search: full-text only; pg_trgm is not installed, typos will not match"

_WORD = re.compile(r"[^\W_]+")
_SIMPLE: ColumnElement[Any] = literal_column("'simple'::regconfig")
log = structlog.get_logger("hom.catalog")

# A SQL condition on `product` that is true when it has stock available: by default the
# inventory's (something available in an active warehouse); tests may hand in another.
StockCondition = Callable[[], ColumnElement[bool]]


class ProductSort(StrEnum):
    RELEVANCE = "RELEVANCE"
    NEWEST = "NEWEST"
    PRICE_ASC = "PRICE_ASC"
    PRICE_DESC = "PRICE_DESC"
    NAME = "NAME"


@dataclass(frozen=True)
class ProductFilter:
    """`category_id` is that category and every category below it; prices are inclusive;
    `in_stock` asks the stock condition (`hom.inventory.service.in_stock_condition`)."""

    search: str | None = None
    category_id: int | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool | None = None
    include_inactive: bool = False


@dataclass(frozen=True)
class SearchTerms:
    """The words of a search, the only part of the input that reaches SQL (as parameters)."""

    words: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.words)

    @property
    def tsquery_text(self) -> str:
        # Words are letters and digits only, so quoting them cannot be escaped from.
        return " & ".join(_lexeme(word) for word in self.words)

    @property
    def exact_tsquery_text(self) -> str:
        """Any of the words as a whole lexeme: what ranks `kettle` above `kettlebell`."""
        return " | ".join(f"'{word}'" for word in self.words)

    @property
    def fuzzy(self) -> bool:
        return len(self.text) >= MIN_TRIGRAM_LENGTH and bool(self.trigrams)

    @property
    def trigrams(self) -> list[str]:
        """The distinct three-character runs inside the (lower-cased) words."""
        found: dict[str, None] = {}
        for word in self.text.lower().split():
            for start in range(len(word) - 2):
                found.setdefault(word[start : start + 3])
        return list(found)[:MAX_TRIGRAMS]


def _lexeme(word: str) -> str:
    """`'word':*`; a number also as the parser reads it after a hyphen (`ZX-4471` → '-4471')."""
    if word.isdigit():
        return f"('{word}':* | '-{word}':*)"
    return f"'{word}':*"


def search_terms(search: str | None) -> SearchTerms | None:
    """None when there is no search (None or whitespace); else its words (maybe none: `%`)."""
    if search is None or not search.strip():
        return None
    # NUL (which PostgreSQL refuses in text) is a separator like any other non-word character.
    cleaned = unicodedata.normalize("NFC", search[:MAX_SEARCH_LENGTH].replace("\x00", " "))
    words = _WORD.findall(cleaned)
    return SearchTerms(words=tuple(words[:MAX_SEARCH_WORDS]))


def effective_sort(sort: ProductSort | None, filter: ProductFilter) -> ProductSort:
    """RELEVANCE by default when searching, else NEWEST; RELEVANCE without a search is NEWEST."""
    searching = search_terms(filter.search) is not None
    if sort is None:
        return ProductSort.RELEVANCE if searching else ProductSort.NEWEST
    if sort is ProductSort.RELEVANCE and not searching:
        return ProductSort.NEWEST
    return sort


def product_sort_keys(
    sort: ProductSort | None, *, filter: ProductFilter, trigram: bool
) -> list[SortKey]:
    """The keyset of a sort (what `page_request` decodes `after` with); the last key is the id."""
    match effective_sort(sort, filter):
        case ProductSort.RELEVANCE:
            rank = relevance(search_terms(filter.search) or SearchTerms(()), trigram=trigram)
            return [SortKey(rank, descending=True), SortKey(col(Product.id), descending=True)]
        case ProductSort.NEWEST:
            return _keys(col(Product.created_at), descending=True)
        case ProductSort.PRICE_ASC:
            return _keys(col(Product.price), descending=False)
        case ProductSort.PRICE_DESC:
            return _keys(col(Product.price), descending=True)
        case ProductSort.NAME:
            return _keys(col(Product.name), descending=False)


def _keys(column: ColumnElement[Any] | Mapped[Any], *, descending: bool) -> list[SortKey]:
    return [SortKey(column, descending=descending), SortKey(col(Product.id), descending=descending)]


def tsquery(terms: SearchTerms) -> ColumnElement[Any]:
    return func.to_tsquery(_SIMPLE, terms.tsquery_text)


def relevance(terms: SearchTerms, *, trigram: bool) -> ColumnElement[Decimal]:
    """The rank, rounded so a cursor holds it exactly (the same expression every time)."""
    if not terms.words:
        return cast(literal_column("0"), Numeric)
    document = col(Product.search_document)
    exact = func.to_tsquery(_SIMPLE, terms.exact_tsquery_text)
    rank: ColumnElement[Any] = func.ts_rank_cd(document, tsquery(terms))
    rank = rank + func.ts_rank_cd(document, exact)
    if trigram and terms.fuzzy:
        # Strict: against whole words of the name, so a typo of "kettle" is nearer
        # "kettle" than "kettlebell" (plain word_similarity, which matches, ties them).
        rank = rank + func.strict_word_similarity(terms.text, func.lower(col(Product.name)))
    return func.round(cast(rank, Numeric), RANK_PLACES, type_=Numeric(asdecimal=True))


def search_condition(terms: SearchTerms, *, trigram: bool) -> ColumnElement[bool]:
    """Full-text on the search document, or (with pg_trgm) a name within one typo."""
    full_text = col(Product.search_document).bool_op("@@")(tsquery(terms))
    if not (trigram and terms.fuzzy):
        return full_text
    similar = func.lower(terms.text).op("<%", is_comparison=True)(func.lower(col(Product.name)))
    return or_(full_text, similar)


def check_filter(filter: ProductFilter) -> None:
    for field in ("min_price", "max_price"):
        value = getattr(filter, field)
        if value is not None and (not value.is_finite() or value < 0):
            raise DomainError(ErrorCode.INVALID, "A price cannot be negative", field)
    if (
        filter.min_price is not None
        and filter.max_price is not None
        and filter.min_price > filter.max_price
    ):
        raise DomainError(ErrorCode.INVALID, "The minimum price is above the maximum", "min_price")


def filter_conditions(
    filter: ProductFilter, *, trigram: bool, stock: StockCondition
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if not filter.include_inactive:
        conditions.append(col(Product.is_active).is_(True))
    if filter.min_price is not None:
        conditions.append(col(Product.price) >= filter.min_price)
    if filter.max_price is not None:
        conditions.append(col(Product.price) <= filter.max_price)
    if filter.in_stock is not None:
        conditions.append(stock() if filter.in_stock else not_(stock()))
    terms = search_terms(filter.search)
    if terms is not None:
        conditions.append(search_condition(terms, trigram=trigram))
    return conditions


def products_query(
    *,
    filter: ProductFilter,
    sort: ProductSort | None,
    request: PageRequest,
    trigram: bool,
    stock: StockCondition = in_stock_condition,
    cursor_prefix: str = "",
) -> PageQuery | None:
    """One page of products as one statement of (product, first sort key) rows; None when
    the search has no words (an empty page, no statement)."""
    check_filter(filter)
    terms = search_terms(filter.search)
    if terms is not None and not terms.words:
        return None
    keys = product_sort_keys(sort, filter=filter, trigram=trigram)
    statement = products_statement(filter, keys, request, trigram=trigram, stock=stock)
    return PageQuery(statement, keys, request, cursor_prefix)


async def list_products(
    session: AsyncSession,
    *,
    filter: ProductFilter,
    sort: ProductSort | None,
    request: PageRequest,
    trigram: bool,
    stock: StockCondition = in_stock_condition,
    cursor_prefix: str = "",
) -> Page[Product]:
    """One page of products in one statement (none when the search has no words)."""
    query = products_query(
        filter=filter,
        sort=sort,
        request=request,
        trigram=trigram,
        stock=stock,
        cursor_prefix=cursor_prefix,
    )
    return await run_products_query(session, query=query)


def products_statement(
    filter: ProductFilter,
    keys: Sequence[SortKey],
    request: PageRequest,
    *,
    trigram: bool,
    stock: StockCondition = in_stock_condition,
) -> Any:
    """The page's SELECT: (product, first sort key) rows, one more than asked for; in a
    category, among the pages of its subtree's categories."""
    conditions = [
        *filter_conditions(filter, trigram=trigram, stock=stock),
        *_leading_bound(keys, request),
    ]
    if filter.category_id is not None:
        conditions.append(in_subtree(filter.category_id, conditions, keys, request))
    statement = select(Product, keys[0].column).where(*conditions)
    return keyset_select(statement, keys, request)  # type: ignore[type-var]


def _leading_bound(keys: Sequence[SortKey], request: PageRequest) -> list[ColumnElement[bool]]:
    """`after` as a range on the first key too, so the sort's index starts at the cursor."""
    if request.after is None or request.after[0] is None:
        return []
    leading = read_keys(keys, request)[0]
    first: ColumnElement[Any] = leading.column  # type: ignore[assignment]
    value = request.after[0]
    return [first <= value if leading.descending else first >= value]


def client_products_query(
    *,
    filter: ProductFilter,
    sort: ProductSort | None,
    first: int | None,
    after: str | None,
    trigram: bool,
    stock: StockCondition = in_stock_condition,
    last: int | None = None,
    before: str | None = None,
) -> PageQuery | None:
    """`products_query` for a client's arguments: `first`/`after` or `last`/`before`
    checked (InvalidInput), and cursors bound to their listing, so one from another sort
    or search is refused, not misread."""
    page_direction(first, after, last, before)  # a mix is refused before any cursor is read
    scope = cursor_scope(sort, filter, trigram=trigram)
    keys = product_sort_keys(sort, filter=filter, trigram=trigram)
    request = page_request(
        first,
        _unscoped(after, scope, "after") if after else after,
        keys,
        last=last,
        before=_unscoped(before, scope, "before") if before else before,
    )
    return products_query(
        filter=filter,
        sort=sort,
        request=request,
        trigram=trigram,
        stock=stock,
        cursor_prefix=f"{scope}.",
    )


async def products_page(
    session: AsyncSession,
    *,
    filter: ProductFilter,
    sort: ProductSort | None,
    first: int | None,
    after: str | None,
    trigram: bool,
    stock: StockCondition = in_stock_condition,
) -> Page[Product]:
    """A page of `client_products_query`, run."""
    query = client_products_query(
        filter=filter, sort=sort, first=first, after=after, trigram=trigram, stock=stock
    )
    return await run_products_query(session, query=query)


async def run_client_products_query(
    session: AsyncSession,
    *,
    features: DatabaseFeatures,
    query: Callable[[], PageQuery | None],
) -> Page[Product]:
    """The page of a client's `query`, built once the search mode is known: learnt at
    start-up, or here, once for the process, when the database was away then."""
    if features.pg_trgm is None:
        features.pg_trgm = await log_search_mode(connection=session)
    return await run_products_query(session, query=query())


async def run_products_query(session: AsyncSession, *, query: PageQuery | None) -> Page[Product]:
    """The page of products a query selects (of `Product` rows)."""
    if query is None:
        return EMPTY_PAGE
    rows = (await session.exec(query.statement)).all()  # type: ignore[call-overload]
    page = query.page(rows, lambda row: (row[1], row[0].id))
    return replace(page, rows=[product for product, _ in page.rows])


def cursor_scope(sort: ProductSort | None, filter: ProductFilter, *, trigram: bool) -> str:
    """What a position is in: the sort and the search's words (and, for RELEVANCE, the
    mode: a rank belongs to one search in one mode). Other filters keep their cursors."""
    effective = effective_sort(sort, filter)
    terms = search_terms(filter.search)
    words = " ".join(terms.words).lower() if terms is not None else ""
    mode = str(trigram) if effective is ProductSort.RELEVANCE else ""
    scope = "\x1f".join((effective.value, words, mode)).encode()
    return hashlib.blake2b(scope, digest_size=6).hexdigest()


def _unscoped(cursor: str, scope: str, argument: str) -> str:
    given, _, inner = cursor.partition(".")
    if given != scope:
        message = f"`{argument}` is not a cursor of this list (another sort or search)"
        raise InvalidInput(message, argument)
    return inner


async def trigram_available(
    *,
    connection: AsyncSession | AsyncConnection | AsyncEngine,
) -> bool:
    """Whether pg_trgm is installed in this database (SPEC §1: optional)."""
    statement = text("SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_trgm')")
    if isinstance(connection, AsyncEngine):
        async with connection.connect() as opened:
            return bool(await opened.scalar(statement))
    return bool(await connection.scalar(statement))


async def search_mode(*, connection: AsyncSession | AsyncConnection | AsyncEngine) -> str:
    """The start-up line saying which search runs."""
    return TRIGRAM_MODE if await trigram_available(connection=connection) else FULL_TEXT_MODE


async def log_search_mode(*, connection: AsyncSession | AsyncConnection | AsyncEngine) -> bool:
    """Log the search mode once (at start-up); returns whether trigram search is on."""
    available = await trigram_available(connection=connection)
    log.info(TRIGRAM_MODE if available else FULL_TEXT_MODE)
    return available

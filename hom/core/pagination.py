"""Keyset pagination: opaque cursors over the sort key, `first`/`after` and
`last`/`before` checked (SPEC §5).

One page of a list (`keyset_select` + `make_page`), or one page per parent in a
single statement (`pages_by_parent`: a nested connection under a list). A backward
page (`last`/`before`) is a forward page over the reversed keys (`read_keys`), put
back in the list's order by `make_page`: every keyset list pages both ways. A list's
size (`count_select`) is its own statement without the cursor, order and limit.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

import orjson
from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    Numeric,
    Select,
    SmallInteger,
    String,
    and_,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.core.errors import InvalidInput

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# A cursor holds a few sort-key values (the longest: a 200-character name, UTF-8, base64).
MAX_CURSOR_LENGTH = 2048
MAX_CURSOR_TEXT = 1024
MAX_CURSOR_DIGITS = 100  # of an unconstrained numeric key (a search rank: 0 < rank < 10)
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")

RowT = TypeVar("RowT")
StatementT = TypeVar("StatementT", bound=Select[Any])


@dataclass(frozen=True)
class SortKey:
    """One column of a keyset ordering; the last key must be unique (usually the id)."""

    column: ColumnElement[Any] | Mapped[Any]
    descending: bool = False


@dataclass(frozen=True)
class PageRequest:
    """`first` rows after the position `after`, in the read order: the list's own
    order, or its reverse when `backward` (the client's `last` and `before`)."""

    first: int
    after: tuple[Any, ...] | None
    backward: bool = False


@dataclass(frozen=True)
class Page(Generic[RowT]):
    rows: list[RowT]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool
    total: int | None = None  # the whole list's size, where it was read with the page


EMPTY_PAGE: Page[Any] = Page(rows=[], cursors=[], has_next_page=False, has_previous_page=False)


@dataclass(frozen=True)
class PageQuery:
    """One page's statement before it runs (whoever runs it chooses its columns);
    `page(rows, key_values)` cuts the fetched rows to the page, cursors prefixed."""

    statement: Select[Any]
    keys: Sequence[SortKey]
    request: PageRequest
    cursor_prefix: str = ""
    # The list's size (`count_select` of its statement without cursor, order and limit):
    # what lets the compiled read path answer a counted connection's `totalCount`.
    count: Select[Any] | None = None

    @property
    def read_keys(self) -> list[SortKey]:
        """The keys in the order the statement reads its rows."""
        return read_keys(self.keys, self.request)

    def page(self, rows: Sequence[RowT], key_values: Any, *, cursors: bool = True) -> Page[RowT]:
        """`cursors=False`: nobody reads them (empty strings, not computed)."""
        page = make_page(rows, self.request, key_values if cursors else _no_cursor)
        if self.cursor_prefix:
            page.cursors[:] = [self.cursor_prefix + cursor for cursor in page.cursors]
        return page


def page_request(
    first: int | None,
    after: str | None,
    keys: Sequence[SortKey],
    *,
    last: int | None = None,
    before: str | None = None,
) -> PageRequest:
    """Check the client's arguments; a bad one is BAD_USER_INPUT, never a silent clamp.
    `first`/`after` page forward, `last`/`before` backward; one direction per request."""
    backward = page_direction(first, after, last, before)
    size_name, size = ("last", last) if backward else ("first", first)
    size = DEFAULT_PAGE_SIZE if size is None else size
    if size < 0 or size > MAX_PAGE_SIZE:
        raise InvalidInput(f"`{size_name}` must be between 0 and {MAX_PAGE_SIZE}", size_name)
    cursor_name, cursor = ("before", before) if backward else ("after", after)
    position = decode_cursor(cursor, keys, cursor_name) if cursor else None
    return PageRequest(first=size, after=position, backward=backward)


def page_direction(
    first: int | None, after: str | None, last: int | None, before: str | None
) -> bool:
    """Whether the arguments page backward; refuses a mix of the two directions."""
    if first is not None and last is not None:
        raise InvalidInput("Give `first` or `last`, not both", "last")
    if after is not None and before is not None:
        raise InvalidInput("Give `after` or `before`, not both", "before")
    if first is not None and before is not None:
        raise InvalidInput("`before` pages backward: give it with `last`, not `first`", "first")
    if last is not None and after is not None:
        raise InvalidInput("`after` pages forward: give it with `first`, not `last`", "last")
    return last is not None or before is not None


def encode_cursor(values: Sequence[Any]) -> str:
    raw = orjson.dumps([_plain(value) for value in values], default=str)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, keys: Sequence[SortKey], argument: str = "after") -> tuple[Any, ...]:
    """The sort-key values inside a cursor, typed like their columns and checked against
    what PostgreSQL holds in them: a crafted cursor is refused here, never sent to SQL."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH or not _BASE64URL.fullmatch(cursor):
            raise ValueError("cursor text")
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(values, list) or len(values) != len(keys):
            raise ValueError("cursor shape")
        return tuple(_typed(key, value) for key, value in zip(keys, values, strict=True))
    except (ValueError, TypeError, UnicodeError, binascii.Error, ArithmeticError):
        raise InvalidInput(f"`{argument}` is not a cursor of this list", argument) from None


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _typed(key: SortKey, value: Any) -> Any:
    """`value` as the column's Python type, or ValueError: sort keys are never NULL, and
    a value the column could not hold is not a position in it."""
    column_type = key.column.type  # type: ignore[union-attr]
    if isinstance(column_type, Integer):
        return _integer(value, column_type)
    if isinstance(column_type, DateTime):
        return _moment(value, aware=bool(column_type.timezone))
    if isinstance(column_type, Numeric):
        return _decimal(value, column_type)
    if isinstance(column_type, String):
        return _text(value, column_type.length)
    raise ValueError("a sort key of a type cursors do not hold")


def _integer(value: Any, column_type: Integer) -> int:
    bits = (
        64
        if isinstance(column_type, BigInteger)
        else 16
        if isinstance(column_type, SmallInteger)
        else 32
    )
    if type(value) is not int or not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
        raise ValueError("cursor integer")
    return value


def _moment(value: Any, *, aware: bool) -> datetime:
    if not isinstance(value, str) or len(value) > MAX_CURSOR_TEXT:
        raise ValueError("cursor date-time")
    moment = datetime.fromisoformat(value)
    if (moment.tzinfo is not None) != aware:
        raise ValueError("cursor date-time offset")
    return moment.astimezone(UTC) if aware else moment  # OverflowError past year 1..9999


def _decimal(value: Any, column_type: Numeric[Any]) -> Decimal:
    if not isinstance(value, str) or len(value) > MAX_CURSOR_TEXT:
        raise ValueError("cursor decimal")
    number = Decimal(value)
    if not number.is_finite() or not _fits(number, column_type.precision, column_type.scale):
        raise ValueError("cursor decimal range")
    return number


def _fits(number: Decimal, precision: int | None, scale: int | None) -> bool:
    """Whether numeric(precision, scale) (or an unconstrained numeric, within
    MAX_CURSOR_DIGITS of the point) holds `number` exactly."""
    places = max(0, -number.as_tuple().exponent)  # type: ignore[operator]
    if precision is None:
        return places <= MAX_CURSOR_DIGITS and number.adjusted() < MAX_CURSOR_DIGITS
    whole = precision - (scale or 0)
    return places <= (scale or 0) and (number == 0 or number.adjusted() < whole)


def _text(value: Any, length: int | None) -> str:
    if not isinstance(value, str) or "\x00" in value or len(value) > (length or MAX_CURSOR_TEXT):
        raise ValueError("cursor text value")
    return value


def after_condition(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in the key order (mixed directions allowed)."""
    alternatives = []
    for index, key in enumerate(keys):
        equal = [keys[i].column == values[i] for i in range(index)]
        beyond = key.column < values[index] if key.descending else key.column > values[index]
        alternatives.append(and_(*equal, beyond))
    return or_(*alternatives)


def order_by_keys(keys: Sequence[SortKey]) -> list[ColumnElement[Any]]:
    return [k.column.desc() if k.descending else k.column.asc() for k in keys]


def read_keys(keys: Sequence[SortKey], request: PageRequest) -> list[SortKey]:
    """The keys in the order a page's statement reads (reversed for a backward page)."""
    if not request.backward:
        return list(keys)
    return [SortKey(key.column, descending=not key.descending) for key in keys]


def keyset_select(stmt: StatementT, keys: Sequence[SortKey], request: PageRequest) -> StatementT:
    """The statement for one page: one extra row tells whether there is a further page."""
    keys = read_keys(keys, request)
    ordered = stmt.order_by(*order_by_keys(keys))
    if request.after is not None:
        ordered = ordered.where(after_condition(keys, request.after))
    return ordered.limit(page_limit(request.first + 1))


def page_limit(count: int) -> ColumnElement[int]:
    """A page's LIMIT written into the SQL, not bound. asyncpg prepares every statement,
    and PostgreSQL's generic plan for `LIMIT $1` assumes a tenth of the table: costed
    that way it never wins, so each run was planned anew (~0.5 ms for the catalog page).
    Page sizes are bounded integers, so this adds at most a hundred statement texts."""
    return literal_column(str(int(count)), Integer)


def _no_cursor(row: Any) -> None:
    return None


def make_page(rows: Sequence[RowT], request: PageRequest, key_values: Any) -> Page[RowT]:
    """Cut the extra row off, put a backward page in the list's order and compute the
    cursors; `key_values(row)` gives the sort key. Past the cursor there is always a
    page (the cursor's row), as Relay lets a server answer without another read."""
    visible = list(rows[: request.first])
    if request.backward:
        visible.reverse()
    further, behind = len(rows) > request.first, request.after is not None
    return Page(
        rows=visible,
        cursors=[
            "" if (values := key_values(row)) is None else encode_cursor(values) for row in visible
        ],
        has_next_page=behind if request.backward else further,
        has_previous_page=further if request.backward else behind,
    )


def count_select(statement: Select[Any]) -> Select[Any]:
    """How many rows the list's statement (without cursor, order or limit) selects: the
    same WHERE as its pages, never a second copy of it."""
    return select(func.count()).select_from(statement.order_by(None).subquery("listed"))


async def count_rows(session: AsyncSession, statement: Select[Any]) -> int:
    return int(await session.scalar(count_select(statement)) or 0)


async def pages_by_parent(
    session: AsyncSession,
    model: type[RowT],
    stmt: Select[Any],
    parent: ColumnElement[Any] | Mapped[Any],
    keys: Sequence[SortKey],
    request: PageRequest,
) -> dict[Any, Page[RowT]]:
    """A page of `model` rows for each parent in ONE statement (a window over the parent key).

    `stmt` selects `model` restricted to the parents wanted; the result maps each
    parent key that has rows to its page (in key order, with cursors).
    """
    read = read_keys(keys, request)
    if request.after is not None:
        stmt = stmt.where(after_condition(read, request.after))
    position = func.row_number().over(partition_by=parent, order_by=order_by_keys(read))
    ranked = stmt.add_columns(position.label("page_position")).subquery()
    rows_of = aliased(model, ranked)
    paged = (
        select(rows_of, ranked.c[_column_name(parent)])
        .where(ranked.c.page_position <= request.first + 1)
        .order_by(ranked.c[_column_name(parent)], ranked.c.page_position)
    )
    grouped: dict[Any, list[RowT]] = {}
    for row, parent_key in (await session.exec(paged)).all():  # type: ignore[call-overload]
        grouped.setdefault(parent_key, []).append(row)
    return {key: make_page(rows, request, _key_values(keys)) for key, rows in grouped.items()}


def _column_name(column: ColumnElement[Any] | Mapped[Any]) -> str:
    return str(column.key)  # type: ignore[union-attr]


def _key_values(keys: Sequence[SortKey]) -> Any:
    names = [_column_name(key.column) for key in keys]
    return lambda row: tuple(getattr(row, name) for name in names)

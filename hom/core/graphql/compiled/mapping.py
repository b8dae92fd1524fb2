"""What a type declares to be compiled: its table, and how fields that are not plain
columns are found.

A Strawberry type opts in once, next to its definition:

    compiled.table(ProductType, Product, visible=..., fields={"category": ToOne("category_id")})

A field without a resolver reads the column of its Python name (the relay id reads
the primary key); a field with a resolver, or one with no such column, must be named
in `fields`, or any selection of it goes through the normal executor. Root fields opt
in through their `metadata` (`source(...)`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, FromClause, bindparam
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from hom.core.pagination import PageQuery
from hom.core.viewer import Reader

SOURCE = "hom_compiled_source"
_TABLE = "__hom_table__"
VIEWER_ID = "hom_viewer_id"

# `visible(reader, row)`: None (every row), or a condition on `row` that may use only
# the reader's role (the compiled SQL is shared by every reader of one role) and
# `viewer_id()` for the reader's own id.
SqlRule = Callable[[Reader, FromClause], ColumnElement[bool] | None]
# `of(row, reader)`: may use the reader's role (and `viewer_id()`), as `visible` may.
RowExpression = Callable[[FromClause, Reader], ColumnElement[Any]]


def viewer_id() -> BindParameter[int]:
    """The reader's user id as a parameter (null when signed out), filled in per request."""
    return bindparam(VIEWER_ID, type_=BigInteger, required=False)


@dataclass(frozen=True)
class Expression:
    """A scalar field computed from the row (`available`: on hand minus reserved), which
    may depend on the reader's role."""

    of: RowExpression


@dataclass(frozen=True)
class Embedded:
    """An object field built from the same row: each of its fields is a column name."""

    columns: Mapping[str, str]


@dataclass(frozen=True)
class ToOne:
    """The row of the field's type whose primary key is this row's `key` column."""

    key: str


@dataclass(frozen=True)
class Ordered:
    """A to-many order that reads other tables: `columns` of the `joins` (inner joins,
    each a table and its ON condition), joined once for the order and nothing else."""

    columns: Sequence[ColumnElement[Any]]
    joins: Sequence[tuple[FromClause, ColumnElement[bool]]] = ()


@dataclass(frozen=True)
class ToMany:
    """The rows of the field's type whose `key` column is this row's primary key, in
    `order_by(row)` order (columns of the row, or an `Ordered`)."""

    key: str
    order_by: Callable[[FromClause], Sequence[ColumnElement[Any]] | Ordered]


FieldMapping = Expression | Embedded | ToOne | ToMany


@dataclass
class TableMapping:
    model: Any
    visible: SqlRule | None = None
    fields: dict[str, FieldMapping] = field(default_factory=dict)

    @property
    def table(self) -> Any:
        return self.model.__table__

    @property
    def primary_key(self) -> str:
        [column] = self.table.primary_key.columns
        return str(column.name)


def table(
    type_: type[Any],
    model: Any,
    *,
    visible: SqlRule | None = None,
    fields: Mapping[str, FieldMapping] | None = None,
) -> None:
    """Declare that `type_`'s objects are rows of `model`'s table (see the module doc).

    `visible` is the SQL form of the type's `@visible_to` rule; the differential tests
    hold the two to the same answers.
    """
    setattr(type_, _TABLE, TableMapping(model, visible, dict(fields or {})))


def add_fields(type_: type[Any], fields: Mapping[str, FieldMapping]) -> None:
    """More fields of an already declared type, from the domain that owns their data."""
    mapping_of(type_).fields.update(fields)  # type: ignore[union-attr]


def mapping_of(type_: Any) -> TableMapping | None:
    found = vars(type_).get(_TABLE) if isinstance(type_, type) else None
    return found if isinstance(found, TableMapping) else None


@dataclass(frozen=True)
class ConnectionSource:
    """A root connection: `query(reader, features, **arguments)` with the field's Python
    arguments is its page's statement (over the node type's table, not an alias); None
    when there is nothing to select (an empty page)."""

    query: Callable[..., PageQuery | None]


@dataclass(frozen=True)
class RowSource:
    """A root object: `query(reader, features, **arguments)` with the field's Python
    arguments selects its row (from the type's table, not an alias); None: no row. A
    non-null field whose row is missing is left to the executor (its error)."""

    query: Callable[..., Any]


@dataclass(frozen=True)
class ListSource:
    """A root list: `query(reader, features, **arguments)` selects its rows in order
    (from the item type's table, not an alias)."""

    query: Callable[..., Any]


@dataclass(frozen=True)
class StaticSource:
    """A root object known without the database: `values(settings)` by Python name."""

    values: Callable[[Any], Mapping[str, Any]]


Source = ConnectionSource | ListSource | RowSource | StaticSource


def source(root: Source) -> dict[str, Any]:
    """`metadata=` for a root field that the compiled path may answer."""
    return {SOURCE: root}

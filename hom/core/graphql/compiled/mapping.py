"""What the compiled read path knows of a type and its fields, all declared on the type.

A type says once that its objects are rows of a table, and who may read which rows
(`hom.core.graphql.visibility.rows_of`). A field without a resolver reads the column of
its Python name (the relay id reads the primary key); a relation or computed field
carries its meaning in its Strawberry metadata (`compiled_as(...)`, set by the helpers
of `hom.core.graphql.relations`), from the same declaration its executor resolver and
loader are derived from; a field neither can answer says so with `executor_only(reason)`.
Root fields opt in through their `metadata` (`source(...)`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import FromClause
from sqlalchemy.sql.elements import ColumnElement

from hom.core.batch_reads import Order, Ordered, Through
from hom.core.pagination import PageQuery
from hom.core.rules import VIEWER_ID, Rule, viewer_id
from hom.core.viewer import Reader

__all__ = ["VIEWER_ID", "Ordered", "viewer_id"]

SOURCE = "hom_compiled_source"
FIELD = "hom_compiled_field"
EXECUTOR_ONLY = "hom_executor_only"
_TABLE = "__hom_table__"

# `of(row, reader)`: may use the reader's role (and `viewer_id()`): the compiled SQL is
# shared by every reader of one role.
RowExpression = Callable[[FromClause, Reader], ColumnElement[Any]]


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
class ToMany:
    """The rows of the field's type whose `key` column is this row's primary key (or,
    `through` a link table, that are linked to it), in `order_by(row)` order (columns of
    the row, or an `Ordered`)."""

    key: str | None
    order_by: Order
    through: Through | None = None


FieldMapping = Expression | Embedded | ToOne | ToMany


def compiled_as(mapping: FieldMapping) -> dict[str, Any]:
    """Strawberry `metadata` of a field the compiled path answers by `mapping`."""
    return {FIELD: mapping}


def executor_only(reason: str) -> dict[str, Any]:
    """Strawberry `metadata` of a field only the executor answers, and why."""
    return {EXECUTOR_ONLY: reason}


@dataclass(frozen=True)
class TableMapping:
    """A type's objects are rows of `model`'s table; `rule` says who may read which."""

    model: Any
    rule: Rule

    @property
    def table(self) -> Any:
        return self.model.__table__

    @property
    def primary_key(self) -> str:
        [column] = self.table.primary_key.columns
        return str(column.name)


def declare_table(type_: type[Any], model: Any, rule: Rule) -> None:
    setattr(type_, _TABLE, TableMapping(model, rule))


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


@dataclass(frozen=True)
class ComputedSource:
    """A root field whose value Python computes from what it reads:
    `await compute(driver, settings, **arguments)` with asyncpg's connection (pooled, no
    transaction around it) and the field's Python arguments returns plain values (objects
    with attributes by the fields' Python names, or a list of them), which the selection
    shapes (hom.core.graphql.compiled.values). The executor's resolver calls the same
    function; any exception it raises (a refusal) leaves the request to the executor,
    which answers with its error."""

    compute: Callable[..., Awaitable[Any]]


Source = ComputedSource | ConnectionSource | ListSource | RowSource | StaticSource


def source(root: Source) -> dict[str, Any]:
    """`metadata=` for a root field that the compiled path may answer."""
    return {SOURCE: root}

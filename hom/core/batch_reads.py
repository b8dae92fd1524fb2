"""The batch reads that declared relations derive their loaders from: one statement per
batch, answers in the order of the keys asked, the reader's rule applied in SQL.

The same `Ordered` and row expressions build the compiled read path's SQL, so a
relation's order and a computed field's value are written once (on the type).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import FromClause
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession


@dataclass(frozen=True)
class Ordered:
    """A to-many order: `columns`, reading the row and the `joins` (inner joins, each a
    table and its ON condition) that are joined for the order and nothing else."""

    columns: Sequence[ColumnElement[Any]]
    joins: Sequence[tuple[FromClause, ColumnElement[bool]]] = ()


# `order(row)`: the order of a to-many relation's rows, as columns of `row` or an `Ordered`.
Order = Callable[[FromClause], Sequence[ColumnElement[Any]] | Ordered]


@dataclass(frozen=True)
class Through:
    """A many-to-many relation's link table: the target rows whose primary key is in
    `table`'s `target` column on the link rows whose `parent` column is the parent's key;
    `where(row)`, when given, a condition on the target rows the relation keeps (`Service.staff`:
    the people linked who still give appointments)."""

    table: Any
    parent: str
    target: str
    where: Callable[[FromClause], ColumnElement[bool]] | None = None

    def linked(self, row: FromClause, primary_key: str) -> tuple[FromClause, ColumnElement[bool]]:
        """A fresh alias of the link table, and its ON condition to the target's `row`."""
        link = self.table.alias()
        condition = link.c[self.target] == row.c[primary_key]
        if self.where is not None:
            condition = condition & self.where(row)
        return link, condition


def ordered(order: Order, row: FromClause) -> Ordered:
    found = order(row)
    return found if isinstance(found, Ordered) else Ordered(found)


async def rows_by_parent(
    session: AsyncSession,
    model: Any,
    *,
    foreign_key: str | None,
    order: Order,
    where: ColumnElement[bool] | None,
    parameters: dict[str, Any],
    parent_ids: Sequence[Any],
    through: Through | None = None,
) -> list[list[Any]]:
    """The rows of `model` whose `foreign_key` is each parent id (or, `through` a link
    table, that are linked to it), in `order`."""
    row = model.__table__
    shape = ordered(order, row)
    if through is None:
        assert foreign_key is not None, "a to-many relation needs a foreign key or a link"
        parent = row.c[foreign_key]
        statement = select(model, parent)
    else:
        [key] = list(row.primary_key)
        link, condition = through.linked(row, key.name)
        parent = link.c[through.parent]
        statement = select(model, parent).join(link, condition)
    statement = statement.where(parent.in_(parent_ids))
    for joined, on in shape.joins:
        statement = statement.join(joined, on)
    if where is not None:
        statement = statement.where(where)
    statement = statement.order_by(*shape.columns)
    grouped: dict[Any, list[Any]] = {}
    for found, parent_id in (await session.exec(statement, params=parameters)).all():
        grouped.setdefault(parent_id, []).append(found)
    return [grouped.get(parent_id, []) for parent_id in parent_ids]


async def values_by_key(
    session: AsyncSession,
    table: FromClause,
    value: ColumnElement[Any],
    *,
    parameters: dict[str, Any],
    ids: Sequence[Any],
    default: Any,
) -> list[Any]:
    """`value` (an expression over `table`'s row) for each primary key in `ids`."""
    [key] = list(table.primary_key)
    statement = select(key, value).where(key.in_(ids))
    found = dict((await session.exec(statement, params=parameters)).all())
    return [found.get(one, default) for one in ids]


async def rows_by_ids(session: AsyncSession, model: Any, ids: Sequence[Any]) -> list[Any]:
    """The rows of `model` with these primary keys, in the order asked (None: no such row)."""
    [key] = list(model.__table__.primary_key)
    found = (await session.exec(select(model).where(key.in_(ids)))).all()
    by_key = {getattr(row, key.name): row for row in found}
    return [by_key.get(one) for one in ids]

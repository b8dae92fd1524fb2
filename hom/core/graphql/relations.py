"""Relation fields: never silently null, prefetched when a list asks for them.

A relation field answers with the value a list resolver prefetched for it and,
when nobody did, through the request's DataLoader: a forgotten prefetch costs
statements (which the statement-count tests catch), never correctness. Its
resolver is synchronous, so a prefetched value costs no coroutine per object.

`prefetch(info, objects, *path)` walks the selection under the current field
and loads every relation it names, one batch per relation and level, nested
connections (with their own `first`/`after`) included.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from operator import attrgetter
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLField
from sqlalchemy.sql.elements import False_, True_
from strawberry.dataloader import DataLoader

from hom.core.batch_reads import Order, Through, rows_by_ids, rows_by_parent, values_by_key
from hom.core.errors import InvalidInput
from hom.core.graphql.compiled.mapping import (
    Embedded,
    Expression,
    FieldMapping,
    RowExpression,
    ToMany,
    ToOne,
    compiled_as,
    executor_only,
    mapping_of,
)
from hom.core.graphql.cost import estimate as cost_estimate
from hom.core.graphql.relay import Connection, Count, CountedConnection
from hom.core.graphql.selection import SelectedField, Selection, selection_of
from hom.core.graphql.visibility import PERSONAL, bound_to_table, present, present_all
from hom.core.pagination import Page, PageRequest, SortKey, make_page, page_request
from hom.core.rules import viewer_parameters
from hom.core.viewer import Reader

_RELATION = "hom_relation"
_PREFETCHED = "_hom_prefetched"
_BACKREF = "strawberry-definition"  # where Strawberry keeps its field on graphql-core's
_MISSING = object()
ObjectT = TypeVar("ObjectT")
Key = str | Callable[[Any], Hashable | None]  # an attribute name, or a function of the object
LoaderFactory = Callable[[Any], DataLoader[Any, Any]]
NESTED_CONNECTIONS = "a connection under an object: pages per parent are not compiled yet"
# Where a connection's selection asks for its nodes' fields.
CONNECTION_NODES = (("edges", "node"), ("nodes",))


@dataclass(frozen=True, eq=False)
class Relation:
    """How one relation field finds its value.

    `key(root)` is the loader key (None: nothing related), `loader(context, args)`
    the request's DataLoader for the field's arguments, `convert(reader, loaded,
    args)` the API value, `children(value)` the objects below it whose own
    relations the selection at `child_paths` may ask for.
    """

    key: Callable[[Any], Hashable | None]
    loader: Callable[[Any, Any], DataLoader[Any, Any]]
    convert: Callable[[Reader, Any, Any], Any]
    children: Callable[[Any], Iterable[Any]]
    arguments: Callable[[dict[str, Any]], Any] = lambda arguments: None
    child_paths: tuple[tuple[str, ...], ...] = ((),)

    def resolve(self, root: Any, info: strawberry.Info, arguments: dict[str, Any]) -> Any:
        args = self.arguments(arguments)
        stored = vars(root).get(_PREFETCHED, {}).get((id(self), args), _MISSING)
        return self._load(root, info.context, args) if stored is _MISSING else stored

    async def _load(self, root: Any, context: Any, args: Any) -> Any:
        key = self.key(root)
        loaded = None if key is None else await self.loader(context, args).load(key)
        return self.convert(await context.reader(), loaded, args)

    def store(self, root: Any, args: Any, value: Any) -> None:
        vars(root).setdefault(_PREFETCHED, {})[(id(self), args)] = value


def _key_of(key: Key) -> Callable[[Any], Hashable | None]:
    return attrgetter(key) if isinstance(key, str) else key


def _field(
    relation: Relation,
    resolver: Callable[..., Any],
    description: str | None,
    metadata: dict[str, Any] | None = None,
) -> Any:
    return strawberry.field(
        resolver=resolver,
        description=description,
        metadata={_RELATION: relation, **(metadata or {})},
    )


def _without_arguments(
    relation: Relation, description: str | None, metadata: dict[str, Any] | None = None
) -> Any:
    def resolve(root: Any, info: strawberry.Info) -> Any:
        return relation.resolve(root, info, {})

    return _field(relation, resolve, description, metadata)


def _compiled(mapping: FieldMapping | None) -> dict[str, Any] | None:
    return None if mapping is None else compiled_as(mapping)


@cache
def by_id_loader(model: Any) -> LoaderFactory:
    """The request's loader of `model`'s rows by primary key: one per model, so that every
    relation and `node(id:)` pointing at those rows shares its batches."""

    def factory(context: Any) -> DataLoader[Any, Any]:
        async def load(ids: Sequence[Any]) -> list[Any]:
            async with context.db.session() as session:
                return await rows_by_ids(session, model, ids)

        return DataLoader(load_fn=load)

    factory.__qualname__ = factory.__name__ = f"{model.__name__.lower()}_by_id"
    return factory


def _table_model(target: type[Any]) -> Any:
    mapping = mapping_of(target)
    assert mapping is not None, f"{target} declares no table (rows_of): give to_one a loader"
    return mapping.model


def to_one(
    *,
    key: Key,
    target: Callable[[], type[Any]],
    loader: LoaderFactory | None = None,
    column: str | None = None,
    description: str | None = None,
) -> Any:
    """A field for one related object (`entry.actor`): `key` names the attribute holding
    its id, and `column` (default: the same name) the column the compiled path joins the
    target's table on. The target's rows are loaded by id (`by_id_loader`) unless a
    `loader` is given (for objects that are not rows)."""

    def load(context: Any, args: Any) -> DataLoader[Any, Any]:
        found: DataLoader[Any, Any] = context.loaders.get(
            loader or by_id_loader(_table_model(target()))
        )
        return found

    relation = Relation(
        key=_key_of(key),
        loader=load,
        convert=lambda reader, model, args: present(reader, target(), model),
        children=lambda value: () if value is None else (value,),
    )
    join_on = column or (key if isinstance(key, str) else None)
    mapping = None if join_on is None else ToOne(join_on)
    return _without_arguments(relation, description, _compiled(mapping))


def to_many(
    *,
    key: Key,
    target: Callable[[], type[Any]],
    foreign_key: str | None = None,
    order: Order | None = None,
    estimate: int,
    loader: LoaderFactory | None = None,
    through: Through | None = None,
    description: str | None = None,
) -> Any:
    """A field for a short, unpaged list of related objects (`category.children`);
    `estimate` is how many it usually holds, what the query cost counts per parent.

    Declared (both paths derive from it): the rows of the target's table whose
    `foreign_key` column is this object's `key` (or that a link table links to it:
    `through`, for a many-to-many relation), in `order`, as the target's rule lets the
    reader see them. Or, for objects that are not rows, a `loader` of its own.
    """
    linked = foreign_key is not None or through is not None
    if loader is None:
        if not linked or order is None:
            raise TypeError("to_many needs a loader, or a foreign_key (or through) and an order")
        loader = _rows_by_parent_loader(target, foreign_key, order, through)
    relation = Relation(
        key=_key_of(key),
        loader=lambda context, args: context.loaders.get(loader),
        convert=lambda reader, models, args: present_all(reader, target(), models or ()),
        children=lambda value: value,
    )
    mapping = None if not linked or order is None else ToMany(foreign_key, order, through)
    metadata = {**(_compiled(mapping) or {}), **cost_estimate(estimate)}
    return _without_arguments(relation, description, metadata)


def _rows_by_parent_loader(
    target: Callable[[], type[Any]],
    foreign_key: str | None,
    order: Order,
    through: Through | None = None,
) -> LoaderFactory:
    """The batch loader of a declared to-many relation (one per declaration)."""

    def factory(context: Any) -> DataLoader[Any, list[Any]]:
        async def load(parent_ids: Sequence[Any]) -> list[list[Any]]:
            reader = await context.reader()
            mapping = mapping_of(target())
            assert mapping is not None, f"{target()} declares no table (rows_of)"
            where = mapping.rule.where(reader, mapping.table)
            if mapping.rule.constant(reader) is False:
                return [[] for _ in parent_ids]  # none of them for this reader: no query
            async with context.db.session() as session:
                return await rows_by_parent(
                    session,
                    mapping.model,
                    foreign_key=foreign_key,
                    order=order,
                    where=where,
                    parameters=viewer_parameters(reader),
                    parent_ids=parent_ids,
                    through=through,
                )

        return DataLoader(load_fn=load)

    return factory


def computed(
    *,
    key: Key,
    sql: RowExpression,
    default: Any = None,
    description: str | None = None,
    personal: bool = False,
) -> Any:
    """A value computed per object in SQL (`product.favoriteCount`): `sql(row, reader)`
    over a row of the type's table. The compiled path writes it into its statement; the
    executor loads it for a batch of objects (`key`: the primary key attribute) in one
    statement, `default` for rows that are gone; an expression that is a constant for
    the reader (`false()` when signed out) costs no query. `personal`: it holds personal
    data (see `hom.core.graphql.visibility.personal`)."""
    table: dict[str, Any] = {}

    def factory(context: Any) -> DataLoader[Any, Any]:
        async def load(ids: Sequence[Any]) -> list[Any]:
            reader, row = await context.reader(), table["model"].__table__
            value = sql(row, reader)
            if isinstance(value, False_ | True_):  # known for this reader: no query
                return [isinstance(value, True_)] * len(ids)
            async with context.db.session() as session:
                return await values_by_key(
                    session,
                    row,
                    value,
                    parameters=viewer_parameters(reader),
                    ids=ids,
                    default=default,
                )

        return DataLoader(load_fn=load)

    relation = Relation(
        key=_key_of(key),
        loader=lambda context, args: context.loaders.get(factory),
        convert=lambda reader, value, args: value,
        children=lambda value: (),
    )
    bind = bound_to_table(lambda model: table.setdefault("model", model))
    metadata = {**compiled_as(Expression(sql)), **bind, PERSONAL: personal}
    return _without_arguments(relation, description, metadata)


def derived(
    *,
    python: Callable[[Any], Any],
    sql: RowExpression,
    description: str | None = None,
    personal: bool = False,
) -> Any:
    """A value of the object's own columns (`level.available`), in Python from the object's
    fields and in SQL from its row for the compiled path (the differential tests hold the
    two to one answer). No loader: nothing else is read."""

    def resolve(root: Any) -> Any:
        return python(root)

    metadata = {**compiled_as(Expression(sql)), PERSONAL: personal}
    return strawberry.field(resolver=resolve, description=description, metadata=metadata)


def embedded(target: Callable[..., Any], *, description: str | None = None, **columns: str) -> Any:
    """An object made of the same row's columns (`price: Money` of `price` and
    `currency`): `target(field=value of its column, …)` from the row the object was made
    of (the type keeps it as `row`), and the same columns in the compiled path's JSON."""

    def resolve(root: Any) -> Any:
        return target(**{name: getattr(root.row, column) for name, column in columns.items()})

    metadata = compiled_as(Embedded(columns))
    return strawberry.field(resolver=resolve, description=description, metadata=metadata)


def to_value(
    *,
    key: Key,
    loader: LoaderFactory,
    description: str | None = None,
) -> Any:
    """A value a loader computes per object, for objects that are not rows (the compiled
    path cannot answer it): batched and prefetched like a relation."""
    relation = Relation(
        key=_key_of(key),
        loader=lambda context, args: context.loaders.get(loader),
        convert=lambda reader, value, args: value,
        children=lambda value: (),
    )
    return _without_arguments(relation, description)


def connection(
    *,
    key: Key,
    loader: Callable[[Any, PageRequest], DataLoader[Any, Page[Any] | None]],
    target: Callable[[], type[Any]],
    sort_keys: Sequence[SortKey],
    count: LoaderFactory | None = None,
    description: str | None = None,
) -> Any:
    """A paged list under each object (`category.products(first:, after:)`), both ways.

    `loader(context, request)` loads a page per parent key for one page request
    (in one statement: `pages_by_parent`); each distinct page request is its own
    batch. With `count` (a loader of each parent's list size, the same rows and rule
    as its pages) it is a CountedConnection.
    """
    relation = Relation(
        key=_key_of(key),
        loader=lambda context, request: context.loaders.get(loader, request),
        convert=lambda reader, page, request: _connection(reader, target(), page, request),
        children=lambda value: value.nodes,
        arguments=lambda arguments: page_request(
            arguments.get("first"),
            arguments.get("after"),
            sort_keys,
            last=arguments.get("last"),
            before=arguments.get("before"),
        ),
        child_paths=CONNECTION_NODES,
    )
    counted = _counted(relation, count)

    def resolve(
        root: Any,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Any:
        found = relation.resolve(
            root, info, {"first": first, "after": after, "last": last, "before": before}
        )
        return found if counted is None else counted(root, info, found)

    reason = executor_only(NESTED_CONNECTIONS)
    return _field(relation, resolve, description, reason)


def _counted(relation: Relation, count: LoaderFactory | None) -> Any:
    """What makes a nested page a CountedConnection: its parent's size, loaded (one batch
    per level) only when `totalCount` is asked."""
    if count is None:
        return None

    def size(root: Any, context: Any) -> Count:
        async def load() -> int:
            key = relation.key(root)
            found = 0 if key is None else await context.loaders.get(count).load(key)
            return int(found)

        return load

    def with_size(root: Any, context: Any, page: Connection[Any]) -> CountedConnection[Any]:
        return CountedConnection(
            edges=page.edges, nodes=page.nodes, page_info=page.page_info, count=size(root, context)
        )

    def counted(root: Any, info: strawberry.Info, found: Any) -> Any:
        if not inspect.isawaitable(found):  # prefetched: no coroutine per parent
            return with_size(root, info.context, found)

        async def loaded() -> CountedConnection[Any]:
            return with_size(root, info.context, await found)

        return loaded()

    return counted


def _connection(reader: Reader, target: Any, page: Page[Any] | None, request: PageRequest) -> Any:
    page = page or make_page([], request, lambda row: None)
    return Connection.from_page(page, [present(reader, target, row) for row in page.rows])


async def prefetch(
    info: strawberry.Info, objects: Sequence[Any], *path: str, type_name: str | None = None
) -> None:
    """Load the relations the selection (along `path` under the current field) asks of `objects`.

    `objects` are of one type; `type_name` names it when the field's type is abstract
    (`node(id:)`).
    """
    if not objects:
        return
    selection = selection_of(info, None if path else type_name)
    if path:
        selection = selection.at(*path, type_name=type_name)
    await prefetch_selection(info.context, await info.context.reader(), objects, selection)


async def prefetch_selection(
    context: Any, reader: Reader, objects: Sequence[Any], selection: Selection
) -> None:
    """One batch per relation the selection names, then the same for their objects."""
    jobs = [
        _prefetch_relation(context, reader, objects, relation, field)
        for field in selection.fields
        if (relation := relation_of(field.definition)) is not None
    ]
    await asyncio.gather(*jobs)


async def _prefetch_relation(
    context: Any, reader: Reader, objects: Sequence[Any], relation: Relation, field: SelectedField
) -> None:
    try:
        args = relation.arguments(field.arguments)
    except InvalidInput:
        return  # the field's own resolver reports it, at the field's path
    keys = [relation.key(root) for root in objects]
    wanted = list(dict.fromkeys(key for key in keys if key is not None))
    loaded = await relation.loader(context, args).load_many(wanted) if wanted else []
    values = {
        key: relation.convert(reader, value, args)
        for key, value in zip(wanted, loaded, strict=True)
    }
    nothing = relation.convert(reader, None, args) if None in keys else None
    for root, key in zip(objects, keys, strict=True):
        relation.store(root, args, nothing if key is None else values[key])
    children = [child for value in values.values() for child in relation.children(value)]
    if children:
        nested = field.selection().along(relation.child_paths)
        await prefetch_selection(context, reader, children, nested)


async def present_one(info: strawberry.Info, type_: type[ObjectT], model: Any) -> ObjectT | None:
    """One object for the current field: visibility applied, its relations prefetched."""
    shown = present(await info.context.reader(), type_, model)
    if shown is not None:
        await prefetch(info, [shown])
    return shown


async def present_page(
    info: strawberry.Info, type_: Any, page: Page[Any], count: Count | None = None
) -> Any:
    """A connection for the current field: visibility applied, the nodes' relations
    prefetched; with `count` (its list's size, run when asked) a CountedConnection."""
    reader = await info.context.reader()
    nodes = [present(reader, type_, row) for row in page.rows]
    shown = [node for node in nodes if node is not None]
    if shown:
        selection = selection_of(info).along(CONNECTION_NODES)
        await prefetch_selection(info.context, reader, shown, selection)
    if count is None:
        return Connection.from_page(page, nodes)
    return CountedConnection.from_page(page, nodes, count=count)


async def nodes_by_id(
    info: strawberry.Info, type_: type[ObjectT], loader: LoaderFactory, node_ids: Iterable[str]
) -> list[ObjectT | None]:
    """`resolve_nodes` for a type its loader finds by id: visible ones, relations prefetched."""
    reader = await info.context.reader()
    found = await info.context.loaders.get(loader).load_many([int(i) for i in node_ids])
    nodes = [present(reader, type_, model) for model in found]
    type_name = type_.__strawberry_definition__.name  # type: ignore[attr-defined]
    await prefetch(info, [node for node in nodes if node is not None], type_name=type_name)
    return nodes


def relation_of(definition: GraphQLField) -> Relation | None:
    field = (definition.extensions or {}).get(_BACKREF)
    relation = getattr(field, "metadata", {}).get(_RELATION) if field is not None else None
    return relation if isinstance(relation, Relation) else None

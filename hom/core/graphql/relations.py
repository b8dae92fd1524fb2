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
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLField
from strawberry.dataloader import DataLoader

from hom.core.errors import InvalidInput
from hom.core.graphql.cost import estimate as cost_estimate
from hom.core.graphql.relay import Connection
from hom.core.graphql.selection import SelectedField, Selection, selection_of
from hom.core.graphql.visibility import present, present_all
from hom.core.pagination import Page, PageRequest, SortKey, page_request
from hom.core.viewer import Reader

_RELATION = "hom_relation"
_PREFETCHED = "_hom_prefetched"
_BACKREF = "strawberry-definition"  # where Strawberry keeps its field on graphql-core's
_MISSING = object()
ObjectT = TypeVar("ObjectT")
Key = str | Callable[[Any], Hashable | None]  # an attribute name, or a function of the object
LoaderFactory = Callable[[Any], DataLoader[Any, Any]]


@dataclass(frozen=True, eq=False)
class Relation:
    """How one relation field finds its value.

    `key(root)` is the loader key (None: nothing related), `loader(context, args)`
    the request's DataLoader for the field's arguments, `convert(reader, loaded,
    args)` the API value, `children(value)` the objects below it whose own
    relations the selection at `child_path` may ask for.
    """

    key: Callable[[Any], Hashable | None]
    loader: Callable[[Any, Any], DataLoader[Any, Any]]
    convert: Callable[[Reader, Any, Any], Any]
    children: Callable[[Any], Iterable[Any]]
    arguments: Callable[[dict[str, Any]], Any] = lambda arguments: None
    child_path: tuple[str, ...] = ()

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


def to_one(
    *,
    key: Key,
    loader: LoaderFactory,
    target: Callable[[], type[Any]],
    description: str | None = None,
) -> Any:
    """A field for one related object (`entry.actor`): `key` names the foreign key attribute."""
    relation = Relation(
        key=_key_of(key),
        loader=lambda context, args: context.loaders.get(loader),
        convert=lambda reader, model, args: present(reader, target(), model),
        children=lambda value: () if value is None else (value,),
    )
    return _without_arguments(relation, description)


def to_many(
    *,
    key: Key,
    loader: LoaderFactory,
    target: Callable[[], type[Any]],
    estimate: int,
    description: str | None = None,
) -> Any:
    """A field for a short, unpaged list of related objects (`category.children`);
    `estimate` is how many it usually holds, what the query cost counts per parent."""
    relation = Relation(
        key=_key_of(key),
        loader=lambda context, args: context.loaders.get(loader),
        convert=lambda reader, models, args: present_all(reader, target(), models or ()),
        children=lambda value: value,
    )
    return _without_arguments(relation, description, cost_estimate(estimate))


def to_value(
    *,
    key: Key,
    loader: LoaderFactory,
    description: str | None = None,
) -> Any:
    """A value a loader computes per object (`product.favoriteCount`): batched and
    prefetched like a relation; the loader answers for every key (a count of 0, a flag)."""
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
    description: str | None = None,
) -> Any:
    """A paged list under each object (`category.products(first:, after:)`).

    `loader(context, request)` loads a page per parent key for one page request
    (in one statement: `pages_by_parent`); each distinct `first`/`after` is its
    own batch.
    """
    relation = Relation(
        key=_key_of(key),
        loader=lambda context, request: context.loaders.get(loader, request),
        convert=lambda reader, page, request: _connection(reader, target(), page, request),
        children=lambda value: [edge.node for edge in value.edges],
        arguments=lambda arguments: page_request(
            arguments.get("first"), arguments.get("after"), sort_keys
        ),
        child_path=("edges", "node"),
    )

    def resolve(
        root: Any, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> Any:
        return relation.resolve(root, info, {"first": first, "after": after})

    return _field(relation, resolve, description)


def _connection(reader: Reader, target: Any, page: Page[Any] | None, request: PageRequest) -> Any:
    page = page or Page(rows=[], cursors=[], has_next_page=False, has_previous_page=False)
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
        nested = field.selection().at(*relation.child_path)
        await prefetch_selection(context, reader, children, nested)


async def present_one(info: strawberry.Info, type_: type[ObjectT], model: Any) -> ObjectT | None:
    """One object for the current field: visibility applied, its relations prefetched."""
    shown = present(await info.context.reader(), type_, model)
    if shown is not None:
        await prefetch(info, [shown])
    return shown


async def present_page(info: strawberry.Info, type_: Any, page: Page[Any]) -> Any:
    """A connection for the current field: visibility applied, the nodes' relations prefetched."""
    reader = await info.context.reader()
    nodes = [present(reader, type_, row) for row in page.rows]
    await prefetch(info, [node for node in nodes if node is not None], "edges", "node")
    return Connection.from_page(page, nodes)


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

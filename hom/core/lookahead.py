"""Look-ahead: what a list resolver's selection asks for, and prefetching it in batches.

A list resolver loads the relations its selection names through the request's
DataLoaders (one batch per relation) and stores them on the objects, so nested
fields complete as plain attributes instead of one async resolver per object.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection


@dataclass
class SelectionTree:
    """Field names (GraphQL spelling) selected under a field, fragments merged."""

    children: dict[str, SelectionTree] = field(default_factory=dict)

    def __contains__(self, name: str) -> bool:
        return name in self.children

    def at(self, *path: str) -> SelectionTree:
        """The subtree along `path` (`at("edges", "node")`); empty when not selected."""
        tree = self
        for name in path:
            tree = tree.children.get(name, EMPTY_SELECTION)
        return tree

    def merge(self, selections: Iterable[Selection]) -> SelectionTree:
        for selection in selections:
            if isinstance(selection, SelectedField):
                child = self.children.setdefault(selection.name, SelectionTree())
                child.merge(selection.selections)
            elif isinstance(selection, FragmentSpread | InlineFragment):
                self.merge(selection.selections)
        return self


EMPTY_SELECTION = SelectionTree()


def selection_of(info: strawberry.Info) -> SelectionTree:
    """The selection under the field being resolved."""
    tree = SelectionTree()
    for selected in info.selected_fields:
        tree.merge(selected.selections)
    return tree


@dataclass(frozen=True)
class Relation:
    """How to fetch one relation of a parent object for look-ahead prefetching.

    `key(parent)` gives the loader key (None: nothing to load), `loader()` the
    request's DataLoader, `assign(parent, value)` stores the loaded value, and
    `children(value)` lists the loaded objects for nested prefetching.
    """

    field: str
    key: Callable[[Any], Hashable | None]
    loader: Callable[[], DataLoader[Any, Any]]
    assign: Callable[[Any, Any], None]
    nested: Sequence[Relation] = ()
    children: Callable[[Any], Iterable[Any]] = lambda value: () if value is None else [value]


async def prefetch(
    parents: Sequence[Any], selection: SelectionTree, relations: Sequence[Relation]
) -> None:
    """Load every selected relation of `parents`, one batch per relation and level."""
    wanted = [relation for relation in relations if relation.field in selection]
    await asyncio.gather(*(_prefetch_one(parents, selection, r) for r in wanted))


async def _prefetch_one(
    parents: Sequence[Any], selection: SelectionTree, relation: Relation
) -> None:
    keys = [relation.key(parent) for parent in parents]
    unique = list(dict.fromkeys(key for key in keys if key is not None))
    loaded = dict(zip(unique, await relation.loader().load_many(unique), strict=True))
    children: list[Any] = []
    for parent, key in zip(parents, keys, strict=True):
        value = loaded.get(key) if key is not None else None
        relation.assign(parent, value)
        children.extend(relation.children(value))
    if relation.nested and children:
        await prefetch(children, selection.at(relation.field), relation.nested)

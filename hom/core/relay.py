"""Relay: the `Node` interface, global ids and generic cursor connections (SPEC §5)."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import strawberry
from strawberry import relay
from strawberry.relay import GlobalID, GlobalIDValueError, PageInfo

from hom.core.errors import bad_user_input
from hom.core.pagination import Page

NodeT = TypeVar("NodeT")

Node = relay.Node


@strawberry.type(description="An object in a list, with the cursor that points at it.")
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type(description="One page of a list, with `first`/`after` keyset paging.")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: Page[Any], nodes: list[NodeT]) -> Connection[NodeT]:
        """Wrap already converted nodes (in page order) with their cursors."""
        edges = [Edge(cursor=c, node=n) for c, n in zip(page.cursors, nodes, strict=True)]
        info = PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        )
        return cls(edges=edges, page_info=info)


def parse_global_id(value: str, argument: str = "id") -> GlobalID:
    """Decode an opaque id; garbage is BAD_USER_INPUT."""
    try:
        return GlobalID.from_id(value)
    except GlobalIDValueError:
        raise bad_user_input(f"`{argument}` is not a valid id", argument) from None


async def resolve_node(info: strawberry.Info, value: str) -> Node | None:
    """The object a global id names, or null when no such type or object exists."""
    global_id = parse_global_id(value)
    type_def = info.schema.get_type_by_name(global_id.type_name)
    if type_def is None or not _implements_node(type_def):
        return None
    node: Node | None = await global_id.resolve_node(info, required=False)
    return node


def _implements_node(type_def: Any) -> bool:
    origin = getattr(type_def, "origin", None)
    return isinstance(origin, type) and issubclass(origin, Node)

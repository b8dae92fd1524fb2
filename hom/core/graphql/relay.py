"""Relay: the `Node` interface, global ids decoded in one place, cursor connections (SPEC §5)."""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from typing import Any, Generic, Self, TypeVar

import strawberry
from strawberry import relay
from strawberry.relay import GlobalID, GlobalIDValueError, PageInfo

from hom.core.graphql.cost import estimate
from hom.core.graphql.errors import bad_user_input
from hom.core.pagination import Page

NodeT = TypeVar("NodeT")

Node = relay.Node
# Database ids are bigint identities: 1 … 2^63 - 1, written without sign or leading zeros.
_DATABASE_ID = re.compile(r"[1-9][0-9]{0,18}")
_MAX_DATABASE_ID = 2**63 - 1


@strawberry.type(description="An object in a list, with the cursor that points at it.")
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type(
    description=(
        "One page of a list, with keyset paging: `first`/`after` forward, `last`/`before` "
        "backward. `nodes` are the edges' nodes, for clients that need no cursor per object."
    )
)
class Connection(Generic[NodeT]):
    # The connection's `first` (or `last`) already multiplies what is below it
    # (hom.core.graphql.cost).
    edges: list[Edge[NodeT]] = strawberry.field(metadata=estimate(1))
    nodes: list[NodeT] = strawberry.field(metadata=estimate(1))
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: Page[Any], nodes: list[NodeT | None], **more: Any) -> Self:
        """Wrap converted nodes (in page order) with their cursors; None nodes are left out."""
        pairs = zip(page.cursors, nodes, strict=True)
        edges = [Edge(cursor=cursor, node=node) for cursor, node in pairs if node is not None]
        info = PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        )
        shown = [edge.node for edge in edges]
        return cls(edges=edges, nodes=shown, page_info=info, **more)


Count = Callable[[], Awaitable[int]]


@strawberry.type(
    description=(
        "One page of a list, paged like any connection, that also says how long the whole "
        "list is: offered where counting it is cheap (a user's own lists, a category's or "
        "a collection's products, stock-takes), never for the whole catalog or a ledger."
    )
)
class CountedConnection(Connection[NodeT]):
    count: strawberry.Private[Count]

    @strawberry.field(
        description="How many objects the whole list holds (every page of it, with the "
        "same filters and what the reader may see), counted when asked."
    )
    async def total_count(self) -> int:
        return await self.count()


def database_id(global_id: str, *type_names: str) -> int | None:
    """The database id inside an opaque id of one of `type_names`; None for anything else."""
    try:
        decoded = GlobalID.from_id(global_id)
    except GlobalIDValueError:
        return None
    if decoded.type_name not in type_names or not _DATABASE_ID.fullmatch(decoded.node_id):
        return None
    number = int(decoded.node_id)
    return number if number <= _MAX_DATABASE_ID else None


def decode_id(global_id: str, *type_names: str, argument: str = "id") -> int:
    """The database id an argument names; a malformed or foreign id is BAD_USER_INPUT."""
    number = database_id(global_id, *type_names)
    if number is None:
        names = " or ".join(type_names)
        article = "an" if names[0] in "AEIOU" else "a"
        raise bad_user_input(f"`{argument}` is not an id of {article} {names}", argument)
    return number


async def resolve_node(info: strawberry.Info, global_id: str) -> Node | None:
    """The object a global id names, or null when no such type, object, or id shape exists."""
    try:
        type_name = GlobalID.from_id(global_id).type_name
    except GlobalIDValueError:
        return None
    node_type = _node_type(info, type_name)
    number = database_id(global_id, type_name)
    if node_type is None or number is None:
        return None
    found = node_type.resolve_nodes(info=info, node_ids=[str(number)], required=False)
    nodes = await found if inspect.isawaitable(found) else found
    return next(iter(nodes), None)


def _node_type(info: strawberry.Info, type_name: str) -> type[Node] | None:
    type_def = info.schema.get_type_by_name(type_name)
    origin = getattr(type_def, "origin", None)
    return origin if isinstance(origin, type) and issubclass(origin, Node) else None

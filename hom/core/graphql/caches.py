"""Caches of what request texts become (parsed documents, validations, plans), bounded
in bytes as well as in entries: a cache keyed by client text must not be a way to fill
a worker's memory (200 distinct 950 KB documents once took ~400 MB)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

from graphql import DocumentNode

KeyT = TypeVar("KeyT", bound=Hashable)
ValueT = TypeVar("ValueT")

CACHE_ENTRIES = 512
CACHE_BYTES = 32 * 1024 * 1024  # per cache; the catalog page weighs 18 KB
# Heavier entries are computed every time, not kept: a document of more than ~1 100
# tokens, or one padded with half a megabyte of comments.
ENTRY_BYTES = 512 * 1024
# What a parsed token keeps alive (its Token, its share of the nodes and locations):
# 438-464 bytes by tracemalloc, on the catalog page and on a 5.4 KB document.
BYTES_PER_TOKEN = 450


class Lru(Generic[KeyT, ValueT]):
    """A least-recently-used map bounded by entries and by the total weight (bytes) of
    its values; unlike functools.lru_cache, its misses may be computed by async code
    and failures cached as None."""

    def __init__(
        self,
        size: int = CACHE_ENTRIES,
        max_bytes: int = CACHE_BYTES,
        max_entry_bytes: int = ENTRY_BYTES,
    ) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes
        self.bytes = 0
        self._items: OrderedDict[KeyT, tuple[ValueT, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: KeyT) -> ValueT | None:
        found = self._items.get(key)
        if found is None:
            return None
        self._items.move_to_end(key)
        return found[0]

    def put(self, key: KeyT, value: ValueT, weight: int) -> ValueT:
        """Keep `value` (unless it weighs more than one entry may) and return it."""
        if weight > self.max_entry_bytes:
            return value
        previous = self._items.pop(key, None)
        if previous is not None:
            self.bytes -= previous[1]
        self._items[key] = (value, weight)
        self.bytes += weight
        while len(self._items) > self.size or self.bytes > self.max_bytes:
            self.bytes -= self._items.popitem(last=False)[1][1]
        return value


def document_weight(text: str, document: DocumentNode | None = None) -> int:
    """About the bytes a cached document costs: its text and what its tokens keep alive."""
    tokens = 0
    token = document.loc.start_token if document is not None and document.loc else None
    while token is not None:
        tokens += 1
        token = token.next
    return len(text) + BYTES_PER_TOKEN * tokens

"""Which warehouses a reservation draws from: the one rule, in one place.

The rule: a line draws from the active warehouse with the most available
first (ties: the lower warehouse id), then from the next, until it is covered;
so an order usually ships from one warehouse, and splits only when no single
warehouse has it all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    """What one warehouse has available of a product."""

    warehouse_id: int
    available: int


def choose_warehouses(sources: Sequence[Source], quantity: int) -> list[tuple[int, int]] | None:
    """(warehouse_id, quantity) pairs covering `quantity`, or None when all together fall short."""
    taken: list[tuple[int, int]] = []
    remaining = quantity
    for source in sorted(sources, key=lambda s: (-s.available, s.warehouse_id)):
        if remaining == 0 or source.available <= 0:
            break
        part = min(source.available, remaining)
        taken.append((source.warehouse_id, part))
        remaining -= part
    return taken if remaining == 0 else None

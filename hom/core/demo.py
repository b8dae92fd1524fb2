"""`hom seed-demo`'s shared parts: what was asked for, and the report every domain adds to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from sqlmodel.ext.asyncio.session import AsyncSession


@dataclass
class SeedCount:
    """Rows of one kind the demo wants: how many it made, how many were there already."""

    created: int = 0
    existing: int = 0

    def add(self, *, wanted: int, created: int) -> None:
        self.created += created
        self.existing += wanted - created


@dataclass
class SeedReport:
    counts: dict[str, SeedCount] = field(default_factory=dict)

    def count(self, kind: str) -> SeedCount:
        return self.counts.setdefault(kind, SeedCount())

    def summary(self) -> str:
        return ", ".join(
            f"{kind} {c.created} created / {c.existing} existing" for kind, c in self.counts.items()
        )


@dataclass
class DemoRun:
    """One `hom seed-demo`: how many products, who hears of progress, what was done."""

    products: int
    progress: Callable[[int], object] | None = None
    report: SeedReport = field(default_factory=SeedReport)


class DemoSeeder(Protocol):
    """A domain's demo data, idempotent; it may rely on the domains listed before it."""

    async def __call__(self, session: AsyncSession, *, run: DemoRun) -> None: ...

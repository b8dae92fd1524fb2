"""A budget of metric label values, shared by every worker process of one server.

With `hom serve --workers N` the workers count into one multiprocess directory, so
a bound kept per process would allow N times as many values. The admitted names
live in a file there, read and appended under an exclusive lock. A name this
process already admitted costs no I/O, and once the budget is spent no name does.
"""

from __future__ import annotations

import fcntl
import threading
from pathlib import Path

# Not `*.db`: prometheus_client reads every such file in the directory as its own.
BUDGET_FILE_SUFFIX = ".labels"


class LabelBudget:
    """Admits at most `limit` distinct names: in this process, or in every process sharing
    `directory`. Names must contain no whitespace."""

    def __init__(self, limit: int, directory: Path | None, name: str) -> None:
        self.limit = limit
        self.path = directory / f"{name}{BUDGET_FILE_SUFFIX}" if directory else None
        self.admitted: frozenset[str] = frozenset()
        self.spent = False
        self._lock = threading.Lock()

    def admit(self, name: str) -> bool:
        if name in self.admitted:
            return True
        if self.spent:
            return False
        with self._lock:
            names = self._admit_shared(name) if self.path else self._admit_here(name)
            self.admitted = frozenset(names)
            self.spent = len(names) >= self.limit
        return name in self.admitted

    def _admit_here(self, name: str) -> set[str]:
        names = set(self.admitted)
        return names | {name} if len(names) < self.limit else names

    def _admit_shared(self, name: str) -> set[str]:
        """Every name admitted by any process so far, `name` too if the budget allows."""
        assert self.path is not None
        with self.path.open("a+", encoding="utf-8") as budget:
            fcntl.flock(budget, fcntl.LOCK_EX)  # released when the file closes
            budget.seek(0)
            names = budget.read().split()[: self.limit]
            if name not in names and len(names) < self.limit:
                budget.write(f"{name}\n")
                names.append(name)
        return set(names)

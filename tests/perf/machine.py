"""CPU accounting on Linux (/proc): who used the cores during a load run.

`CpuMeter(server_pgid, database)` snapshots the machine's busy time and the CPU
time of the server's process group, of the PostgreSQL backends of the benchmark's
database and of redis-server; the load generator is our own process plus the
children we reaped (wrk). "other" is whatever is left of the machine's busy time:
work that is not ours (other benchmarks or test runs on a shared machine) plus
short-lived PostgreSQL backends that exited before the second snapshot, and the
kernel's interrupt time. "foreign" is the part of it measured directly: live processes
that are not ours.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1
PROC = Path("/proc")


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    fields = [int(v) for v in (PROC / "stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])  # user nice system idle iowait irq softirq steal
    return total - idle, total


def busy_cores(seconds: float = 1.0) -> float:
    """How many cores were busy (0 … CORES) over the next `seconds`."""
    busy0, total0 = machine_ticks()
    time.sleep(seconds)
    busy1, total1 = machine_ticks()
    return CORES * (busy1 - busy0) / max(total1 - total0, 1)


def wait_for_idle(max_seconds: float, threshold_cores: float = 0.4) -> float:
    """Wait (up to `max_seconds`) until the machine is nearly idle; returns the last reading."""
    deadline = time.monotonic() + max_seconds
    while True:
        busy = busy_cores(1.0)
        if busy < threshold_cores or time.monotonic() >= deadline:
            return busy


def load_average() -> str:
    return " ".join((PROC / "loadavg").read_text().split()[:3])


KTHREADD = 2  # the parent of every kernel thread


def _process_ticks(server_pgid: int | None, database: str) -> dict[str, dict[int, int]]:
    found: dict[str, dict[int, int]] = {"server": {}, "pg": {}, "redis": {}, "foreign": {}}
    marker = f" {database} ".encode()
    own = os.getpid()
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
            comm = raw[raw.index("(") + 1 : raw.rindex(")")]
            rest = raw[raw.rindex(")") + 2 :].split()
            ticks = int(rest[11]) + int(rest[12])  # utime + stime
            pid, parent = int(entry.name), int(rest[1])
            if server_pgid is not None and int(rest[2]) == server_pgid:
                found["server"][pid] = ticks
            elif comm == "postgres" and marker in (entry / "cmdline").read_bytes():
                found["pg"][pid] = ticks
            elif comm == "redis-server":
                found["redis"][pid] = ticks
            elif pid not in (own, KTHREADD) and parent not in (own, KTHREADD):
                found["foreign"][pid] = ticks
        except (OSError, ValueError, IndexError):
            continue
    return found


def worker_rss_mb(server_pgid: int) -> dict[int, float]:
    """Resident memory (MB) of each process in the server's group but its leader (the
    uvicorn supervisor) and multiprocessing's resource tracker: the workers, by pid."""
    found: dict[int, float] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == server_pgid:
            continue
        try:
            raw = (entry / "stat").read_text()
            if int(raw[raw.rindex(")") + 2 :].split()[2]) != server_pgid:
                continue
            if b"resource_tracker" in (entry / "cmdline").read_bytes():
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    found[int(entry.name)] = int(line.split()[1]) / 1024
        except (OSError, ValueError, IndexError):
            continue
    return found


def _own_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + reaped.ru_utime + reaped.ru_stime


@dataclass(frozen=True)
class CpuUse:
    """Average busy cores over a run, by consumer."""

    total: float
    server: float
    pg: float
    redis: float
    loadgen: float
    # Live processes that are not ours (nor kernel threads) alone: other people's work. Unlike
    # `other`, it leaves out interrupt time, which grows with our own request rate.
    foreign: float = 0.0
    # The server's processes, busiest first: one worker at ~1 and the other idle means one
    # of them took every connection.
    server_processes: tuple[float, ...] = ()

    @property
    def other(self) -> float:
        return max(self.total - self.server - self.pg - self.redis - self.loadgen, 0.0)

    def brief(self) -> str:
        return (
            f"{self.total:.2f}: srv {self.server:.2f} pg {self.pg:.2f} "
            f"gen {self.loadgen:.2f} redis {self.redis:.2f} other {self.other:.2f}"
        )


class CpuMeter:
    def __init__(self, server_pgid: int | None, database: str) -> None:
        self.server_pgid = server_pgid
        self.database = database
        self._start = time.monotonic()
        self._machine = machine_ticks()
        self._procs = _process_ticks(server_pgid, database)
        self._own = _own_seconds()

    def stop(self) -> CpuUse:
        wall = max(time.monotonic() - self._start, 1e-6)
        busy, _ = machine_ticks()
        procs = _process_ticks(self.server_pgid, self.database)

        def each(kind: str) -> list[float]:
            before = self._procs[kind]
            return [(now - before.get(pid, 0)) / TICK / wall for pid, now in procs[kind].items()]

        def cores(kind: str) -> float:
            return sum(each(kind))

        return CpuUse(
            total=(busy - self._machine[0]) / TICK / wall,
            server=cores("server"),
            pg=cores("pg"),
            redis=cores("redis"),
            loadgen=(_own_seconds() - self._own) / wall,
            foreign=cores("foreign"),
            server_processes=tuple(sorted(each("server"), reverse=True)),
        )

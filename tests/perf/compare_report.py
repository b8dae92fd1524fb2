"""tests/perf/compare.py's numbers: one load run, the statements one request sends, and the
medians over rounds as a markdown table."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from tests.perf.compare_queries import Case
from tests.perf.load import LoadResult
from tests.perf.machine import CpuUse
from tests.perf.pgwire import Recording, is_query


@dataclass(frozen=True)
class Run:
    """One measured load run of a case."""

    case: str
    round: int
    load: LoadResult
    cpu: CpuUse  # average busy cores, by consumer
    idle_before: float  # busy cores just before it (after waiting for an idle machine)
    new_connections: int = 0  # PostgreSQL connections the server opened during it

    def per_request_ms(self, cores: float) -> float:
        return cores * 1000 / self.load.rps if self.load.rps else float("nan")

    @property
    def server_ms(self) -> float:
        return self.per_request_ms(self.cpu.server)

    @property
    def pg_ms(self) -> float:
        return self.per_request_ms(self.cpu.pg)

    @property
    def errors(self) -> int:
        return self.load.errors + self.load.status_errors

    def line(self) -> str:
        load = self.load
        return (
            f"round {self.round} {self.case:<19} {load.rps:7.0f} req/s  p50 {load.p50_ms:6.1f}  "
            f"p99 {load.p99_ms:6.1f} ms  CPU ms/req srv {self.server_ms:.2f} pg {self.pg_ms:.2f}  "
            f"errors {self.errors}  PG conns {self.new_connections}  "
            f"idle {self.idle_before:.2f}  cpu {self.cpu.brief()} "
            f"(foreign {self.cpu.foreign:.2f}; server processes {self._split()})"
        )

    def _split(self) -> str:
        return "/".join(f"{cores:.2f}" for cores in self.cpu.server_processes if cores >= 0.01)


@dataclass(frozen=True)
class Count:
    """SQL one request sends (requests one at a time, through the wire proxy)."""

    requests: int
    statements: float  # per request: everything
    queries: float  # per request: without transaction control and the pool's pre-ping
    sequence: list[str]  # the statements of the most common request, in order, shortened
    texts: list[str]  # the same in full

    @classmethod
    def of(cls, recordings: list[Recording]) -> Count:
        statements = [s for r in recordings for s in r.statements]
        n = len(recordings)
        common = Counter(r.sequence() for r in recordings).most_common(1)[0][0]
        texts = next(r.statements for r in recordings if r.sequence() == common)
        queries = sum(map(is_query, statements))
        return cls(n, len(statements) / n, queries / n, list(common), texts)


@dataclass(frozen=True)
class Summary:
    """One case over all rounds: medians."""

    case: Case
    runs: list[Run]
    count: Count | None

    def median(self, value: Callable[[Run], float]) -> float:
        return statistics.median(value(run) for run in self.runs) if self.runs else float("nan")

    @property
    def rps(self) -> float:
        return self.median(lambda run: run.load.rps)


def summarise(cases: Iterable[Case], runs: list[Run], counts: dict[str, Count]) -> list[Summary]:
    return [
        Summary(case, [run for run in runs if run.case == case.name], counts.get(case.name))
        for case in cases
    ]


def ratio(summary: Summary, summaries: list[Summary]) -> float | None:
    """Its req/s over its baseline's (medians): PostGraphile's, in compare.py."""
    baseline = next((s for s in summaries if s.case.name == summary.case.baseline), None)
    if baseline is None or not baseline.rps:
        return None
    return summary.rps / baseline.rps


HEADER = (
    "| target | req/s | p50 ms | p99 ms | server CPU ms/req | PG CPU ms/req | SQL/req "
    "| {ratio} | PG conns | other cores (foreign) |"
)


def markdown_table(summaries: list[Summary], ratio: str = "H.O.M / PostGraphile") -> str:
    """The table; `ratio` heads the column of each case's req/s over its baseline's."""
    header = HEADER.format(ratio=ratio)
    return "\n".join([header, "|---|---|---|---|---|---|---|---|---|---|", *_rows(summaries)])


def _rows(summaries: list[Summary]) -> Iterator[str]:
    for s in summaries:
        each = [run.load.rps for run in s.runs]
        rps = f"{s.rps:.0f}" + (f" ({min(each):.0f}-{max(each):.0f})" if len(each) > 1 else "")
        errors = sum(run.errors for run in s.runs)
        if errors:
            rps += f", {errors} errors"
        cells = [
            s.case.title,
            rps,
            f"{s.median(lambda run: run.load.p50_ms):.1f}",
            f"{s.median(lambda run: run.load.p99_ms):.1f}",
            f"{s.median(lambda run: run.server_ms):.2f}",
            f"{s.median(lambda run: run.pg_ms):.2f}",
            _sql(s.count),
            _ratio(s, summaries),
            f"{s.median(lambda run: run.new_connections):.0f}",
            f"{s.median(lambda run: run.cpu.other):.2f} "
            f"({s.median(lambda run: run.cpu.foreign):.2f})",
        ]
        yield "| " + " | ".join(cells) + " |"


def _sql(count: Count | None) -> str:
    if count is None:
        return "-"
    return f"{count.queries:g} ({count.statements:g})"


def _ratio(summary: Summary, summaries: list[Summary]) -> str:
    value = ratio(summary, summaries)
    if value is None:
        return "-"
    text = f"{value:.2f}"
    if summary.case.baseline != summary.case.name.replace("hom-", "pg-"):
        text += f" (of {summary.case.baseline})"
    if summary.case.goal is not None:
        text += f", goal {summary.case.goal:g}"
    return text

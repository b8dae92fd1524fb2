"""Prometheus metrics: per HTTP route and per GraphQL operation, with bounded labels."""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from hom.core.batched_metrics import (
    BatchedCounter,
    BatchedHistogram,
    GaugeValue,
    flush,
)
from hom.core.label_budget import LabelBudget

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# Changed by every request: counted in batches (see batched_metrics).
HTTP_REQUESTS = BatchedCounter(
    Counter(
        "hom_http_requests_total",
        "HTTP requests by route and status. A websocket (method WS) counts when it ends: "
        "101 when it ends normally (a close 1000/1001, or the client leaving); a "
        "graphql-transport-ws close for the client's fault as that code less 4000 (4400 "
        "malformed message -> 400, 4401 subscribe before init -> 401, 4403 refused -> 403, "
        "4406 unknown subprotocol -> 406, 4429 -> 429); 500 when the server failed (1011)",
        ["method", "route", "status"],
    )
)
HTTP_LATENCY = BatchedHistogram(
    Histogram(
        "hom_http_request_duration_seconds",
        "HTTP request latency by route",
        ["method", "route"],
        buckets=LATENCY_BUCKETS,
    )
)
GRAPHQL_OPERATIONS = BatchedCounter(
    Counter("hom_graphql_operations_total", "GraphQL operations", ["operation", "type"])
)
GRAPHQL_LATENCY = BatchedHistogram(
    Histogram(
        "hom_graphql_operation_duration_seconds",
        "GraphQL operation latency",
        ["operation", "type"],
        buckets=LATENCY_BUCKETS,
    )
)
GRAPHQL_ERRORS = BatchedCounter(
    Counter(
        "hom_graphql_errors_total", "GraphQL errors by operation and code", ["operation", "code"]
    )
)
# Job names are defined in code, so they are bounded labels.
# Once per plan (plans are cached): a query the compiled path could not plan although no
# field of it says it is executor-only. The reasons are made from schema names: bounded.
COMPILED_FALLBACKS = Counter(
    "hom_compiled_fallbacks_total",
    "Queries the compiled read path left to the executor though they were declared plannable",
    ["reason"],
)
PERIODIC_JOB_RUNS = Counter(
    "hom_periodic_job_runs_total", "Periodic job runs by job and outcome", ["job", "outcome"]
)
PERIODIC_JOB_DURATION = Histogram(
    "hom_periodic_job_duration_seconds",
    "Periodic job run time by job",
    ["job"],
    buckets=(*LATENCY_BUCKETS, 30.0, 60.0, 300.0, 900.0),
)
# Gauges say how to combine worker processes in multiprocess mode (`hom serve --workers N`).
HTTP_IN_PROGRESS = GaugeValue(
    Gauge(
        "hom_http_requests_in_progress",
        "HTTP requests being handled (websockets not included)",
        multiprocess_mode="livesum",
    )
)
DB_POOL_CHECKED_OUT = Gauge(
    "hom_db_pool_checked_out", "Database connections in use", multiprocess_mode="livesum"
)
DB_POOL_SIZE = Gauge(
    "hom_db_pool_size", "Database connections held by the pools", multiprocess_mode="livesum"
)
DEPENDENCY_UP = Gauge(
    "hom_dependency_up",
    "1 when the last health check passed (the worst worker counts)",
    ["dependency"],
    multiprocess_mode="livemin",
)

OTHER = "other"
ANONYMOUS = "anonymous"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


class BoundedLabels:
    """Keeps the first `limit` distinct names as labels; the rest fold into `other`.

    With a `directory` (the multiprocess one), the limit holds for all workers together.
    """

    def __init__(self, limit: int, directory: Path | None = None, name: str = "labels") -> None:
        self._budget = LabelBudget(limit, directory, name)

    def __call__(self, name: str | None) -> str:
        if not name:
            return ANONYMOUS
        if not _NAME.fullmatch(name):
            return OTHER
        return name if self._budget.admit(name) else OTHER


# Every operation label value counts, `other` and `anonymous` included.
MAX_OPERATION_LABELS = 100


@functools.cache
def operation_labels(multiprocess_dir: Path | None) -> BoundedLabels:
    """The process's one labeller for GraphQL operation names (metrics are process-wide)."""
    limit = MAX_OPERATION_LABELS - len((OTHER, ANONYMOUS))
    return BoundedLabels(limit, multiprocess_dir, name="operation")


def exposition(multiprocess_dir: Path | None) -> bytes:
    """The Prometheus text: this process's metrics, or every worker's summed up."""
    flush()
    if multiprocess_dir is None:
        return generate_latest()
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(multiprocess_dir))  # type: ignore[no-untyped-call]
    return generate_latest(registry)


def forget_this_worker(multiprocess_dir: Path | None) -> None:
    """Drop this process's live gauges when it exits (its counters stay counted)."""
    flush()
    if multiprocess_dir is not None:
        multiprocess.mark_process_dead(os.getpid(), path=str(multiprocess_dir))  # type: ignore[no-untyped-call]

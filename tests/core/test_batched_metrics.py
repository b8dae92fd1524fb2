"""Batched request metrics: the same numbers prometheus_client would hold, written later."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from hom.core import batched_metrics
from hom.core.batched_metrics import BatchedCounter, BatchedHistogram, GaugeValue, flush

BUCKETS = (0.01, 0.1, 1.0)
VALUES = (0.001, 0.01, 0.05, 0.1, 0.5, 3.0, 0.01)


def samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in registry.collect()
        for sample in family.samples
        if not sample.name.endswith("_created")
    }


def test_a_flushed_histogram_equals_one_observed_directly() -> None:
    direct, batched = CollectorRegistry(), CollectorRegistry()
    reference = Histogram("latency", "", ["route"], buckets=BUCKETS, registry=direct)
    histogram = BatchedHistogram(
        Histogram("latency", "", ["route"], buckets=BUCKETS, registry=batched)
    )
    for value in VALUES:
        reference.labels("/graphql").observe(value)
        histogram.labels("/graphql").observe(value)
    flush()
    assert samples(batched) == samples(direct)


async def test_changes_are_written_a_moment_later(monkeypatch: pytest.MonkeyPatch) -> None:
    flush()  # a timer another test left on this loop would fire FLUSH_SECONDS=0.5 after it began
    monkeypatch.setattr(batched_metrics, "FLUSH_SECONDS", 0.01)
    registry = CollectorRegistry()
    counter = BatchedCounter(Counter("requests", "", ["status"], registry=registry))
    in_progress = GaugeValue(Gauge("in_progress", "", registry=registry))
    counter.labels("200").inc()
    counter.labels("200").inc(2)
    in_progress.inc()
    assert registry.get_sample_value("requests_total", {"status": "200"}) == 0
    for _ in range(500):  # a loaded machine may run the timer late, never early
        await asyncio.sleep(0.01)
        if registry.get_sample_value("requests_total", {"status": "200"}):
            break
    assert registry.get_sample_value("requests_total", {"status": "200"}) == 3
    assert registry.get_sample_value("in_progress") == 1
    in_progress.dec()
    flush()  # what /metrics does first
    assert registry.get_sample_value("in_progress") == 0


def test_without_an_event_loop_changes_are_written_at_once() -> None:
    registry = CollectorRegistry()
    counter = BatchedCounter(Counter("jobs", "", ["job"], registry=registry))
    counter.labels("mail").inc()
    assert registry.get_sample_value("jobs_total", {"job": "mail"}) == 1


def test_a_timer_left_in_a_closed_loop_does_not_stop_the_writing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry = CollectorRegistry()
    counter = BatchedCounter(Counter("ticks", "", ["kind"], registry=registry))

    async def tick(wait: float) -> None:
        counter.labels("a").inc()
        await asyncio.sleep(wait)

    monkeypatch.setattr(batched_metrics, "FLUSH_SECONDS", 60.0)
    asyncio.run(tick(0))  # its timer never fires: the loop is gone
    monkeypatch.setattr(batched_metrics, "FLUSH_SECONDS", 0.01)
    asyncio.run(tick(0.1))
    assert registry.get_sample_value("ticks_total", {"kind": "a"}) == 2

"""Request-path metrics counted in plain numbers, written to prometheus_client in batches.

In multiprocess mode (`hom serve --workers N`) every change of a prometheus_client value
takes a lock, checks the pid and writes an mmap file, and `labels()` takes a lock to
find the child: some 15 µs for the handful of changes one request makes. Here a change
is an addition to a number of the child found in a dict (the event loop is the only
writer); what changed is written FLUSH_SECONDS later, before every exposition
(`flush()`), and when the process shuts down. Scrapes see every request; another
worker's last FLUSH_SECONDS at worst a moment later.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_left
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

FLUSH_SECONDS = 0.5


class _Pending:
    """The children with unwritten changes, and the timer that will write them."""

    def __init__(self) -> None:
        self.children: list[_Child] = []
        self.timer: asyncio.TimerHandle | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def add(self, child: _Child) -> None:
        self.children.append(child)

    def schedule(self) -> None:
        """A write FLUSH_SECONDS from now, unless one is due on this loop already."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop here: write at once
            flush()
            return
        if self.timer is None or loop is not self.loop:  # a closed loop's timer never fires
            self.loop, self.timer = loop, loop.call_later(FLUSH_SECONDS, flush)

    def flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        children, self.children = self.children, []
        for child in children:
            child.write()


_PENDING = _Pending()


def flush() -> None:
    """Write every pending change to prometheus_client (before reading its values)."""
    _PENDING.flush()


class _Child:
    __slots__ = ("dirty",)

    def __init__(self) -> None:
        self.dirty = False

    def changed(self) -> None:
        if not self.dirty:
            self.dirty = True
            _PENDING.add(self)
        _PENDING.schedule()

    def write(self) -> None:
        self.dirty = False
        self._write()

    def _write(self) -> None:
        raise NotImplementedError


class CounterChild(_Child):
    __slots__ = ("_delta", "_target")

    def __init__(self, target: Any) -> None:
        super().__init__()
        self._target = target
        self._delta = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self._delta += amount
        self.changed()

    def _write(self) -> None:
        delta, self._delta = self._delta, 0.0
        self._target.inc(delta)


class HistogramChild(_Child):
    __slots__ = ("_bounds", "_counts", "_sum", "_target")

    def __init__(self, target: Any) -> None:
        super().__init__()
        self._target = target
        self._bounds: list[float] = list(target._upper_bounds)  # the last one is +Inf
        self._counts = [0] * len(self._bounds)
        self._sum = 0.0

    def observe(self, value: float) -> None:
        self._counts[bisect_left(self._bounds, value)] += 1  # the first bound >= value
        self._sum += value
        self.changed()

    def _write(self) -> None:
        # What Histogram.observe writes, added up: its buckets are not cumulative.
        counts, self._counts = self._counts, [0] * len(self._bounds)
        total, self._sum = self._sum, 0.0
        self._target._sum.inc(total)
        for bucket, count in zip(self._target._buckets, counts, strict=True):
            if count:
                bucket.inc(count)


class GaugeValue(_Child):
    """A gauge this process moves up and down (no labels); written as its current value."""

    __slots__ = ("_target", "value")

    def __init__(self, target: Gauge) -> None:
        super().__init__()
        self._target = target
        self.value = 0.0

    def inc(self) -> None:
        self.value += 1
        self.changed()

    def dec(self) -> None:
        self.value -= 1
        self.changed()

    def _write(self) -> None:
        self._target.set(self.value)


class _Family:
    """`metric.labels(*values)` with each child made once and kept."""

    def __init__(self, metric: Counter | Histogram) -> None:
        self.metric = metric
        self._children: dict[tuple[str, ...], Any] = {}

    def _child(self, values: tuple[str, ...], make: Any) -> Any:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = make(self.metric.labels(*values))
        return child


class BatchedCounter(_Family):
    def labels(self, *values: str) -> CounterChild:
        child: CounterChild = self._child(values, CounterChild)
        return child


class BatchedHistogram(_Family):
    def labels(self, *values: str) -> HistogramChild:
        child: HistogramChild = self._child(values, HistogramChild)
        return child

"""The cyclic garbage collector in the test processes, kept out of the tests' way.

A test process builds an app (a schema, an engine, a Redis pool) for most tests, and its
heap grows to about a million objects. A full collection walks them all, and one that
lands inside a request stalls the event loop for a second: long enough for a connect
timeout to fire (a Redis client's is 1 s) and a test to fail that did nothing wrong.
Every few tests, between them, what survives is collected once and frozen, so the
collections during a test walk only what was made since (`main_app` freezes what a
worker's start-up built for the same reason). A test that makes thousands of requests
(the differential suite) settles now and then itself.
"""

from __future__ import annotations

import gc
import itertools

import pytest

EVERY = 10  # tests between freezes: each costs one collection of the unfrozen objects
finished = itertools.count(1)


@pytest.hookimpl(trylast=True)
def pytest_runtest_logfinish(nodeid: str, location: tuple[str, int | None, str]) -> None:
    if next(finished) % EVERY == 0:
        settle()


def settle() -> None:
    """Collects what is garbage now and freezes the rest (freed still when unreferenced)."""
    gc.collect()
    gc.freeze()

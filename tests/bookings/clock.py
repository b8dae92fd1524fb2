"""A fixed clock for the bookings' rules: the modules that read the time read this one
(a mail worker is given it with `worker.clock = clock`)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hom.bookings import availability, booking, lifecycle, notices

# The modules whose `utcnow` the clock replaces.
READERS = (availability, booking, lifecycle, notices)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def fixed_clock(
    monkeypatch: pytest.MonkeyPatch, now: datetime = datetime(2030, 1, 1, tzinfo=UTC)
) -> Clock:
    clock = Clock(now)
    for module in READERS:
        monkeypatch.setattr(module, "utcnow", clock)
    return clock

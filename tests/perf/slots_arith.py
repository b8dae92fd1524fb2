"""The slot arithmetic alone (`hom.bookings.slots.available_slots`), in process, on the
bookings benchmark's shape (tests/perf/bookings_data.py): 31 days of a staff member in
Europe/Berlin working Monday to Saturday 08:00-12:00 and 13:00-19:00, 300 half-hour
appointments and time off, half-hour slots on a 15-minute grid, from the day after tomorrow
(271 slots). No database: CPU time per call, the best of a few rounds (the machine is shared).

    uv run python -m tests.perf.slots_arith [--calls 2000] [--rounds 7] [--busy-zone Europe/Berlin]

The busy intervals are made as `availability.load_calendar` makes them, from UTC datetimes
(`datetime.UTC`, what asyncpg returns for timestamptz); `--busy-zone Europe/Berlin` gives
them in Berlin time instead. The second figure adds making those 302 `Busy`, which a
request pays as well.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from hom.bookings import slots
from tests.perf.bookings_data import (
    BERLIN,
    BUSY_WEEK,
    MINUTES,
    RANGE,
    appointment_starts,
    first_day,
    time_off,
)

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)  # a fixed clock: the same days on every run
NOTICE = timedelta(hours=2)
GRID = timedelta(minutes=15)


def case(busy_zone: tzinfo) -> tuple[Callable[[], object], Callable[[], object]]:
    """The call to time, alone and with making its busy intervals."""
    first = first_day(NOW, BERLIN)
    hours = [slots.WeeklyHours(day, a, b) for day, ranges in BUSY_WEEK.items() for a, b in ranges]
    length = timedelta(minutes=MINUTES)
    rows = [
        (a.astimezone(busy_zone), b.astimezone(busy_zone))
        for a, b in [*time_off(first), *((s, s + length) for s in appointment_starts(first, 300))]
    ]
    start = datetime.combine(first, datetime.min.time(), tzinfo=BERLIN)

    def available(busy: list[slots.Busy]) -> list[slots.Slot]:
        return slots.available_slots(
            hours=hours,
            zone=BERLIN,
            busy=busy,
            duration=length,
            grid=GRID,
            start=start,
            end=start + RANGE,
            earliest=NOW + NOTICE,
        )

    busy = [slots.Busy(a, b) for a, b in rows]
    return (lambda: available(busy)), (lambda: available([slots.Busy(a, b) for a, b in rows]))


def cpu_per_call(call: Callable[[], object], calls: int, rounds: int) -> float:
    """The best round's CPU seconds per call."""
    best = float("inf")
    for _ in range(rounds):
        began = time.process_time()
        for _ in range(calls):
            call()
        best = min(best, (time.process_time() - began) / calls)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--busy-zone", default="UTC", choices=["UTC", "Europe/Berlin"])
    args = parser.parse_args()
    alone, with_busy = case(UTC if args.busy_zone == "UTC" else ZoneInfo(args.busy_zone))
    found = alone()
    assert isinstance(found, list)
    print(f"{len(found)} slots, busy in {args.busy_zone}, CPU per call (best of {args.rounds}):")
    for name, call in (("available_slots", alone), ("Busy x302 + available_slots", with_busy)):
        print(f"  {name}: {cpu_per_call(call, args.calls, args.rounds) * 1e6:.0f} µs")


if __name__ == "__main__":
    main()

"""Availability as a pure function: working hours in the staff member's zone (clock changes
included), busy time, minimum notice and the query range make the slots; no database."""

from __future__ import annotations

import functools
import itertools
import os
import time as clock
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import IO, NamedTuple
from zoneinfo import ZoneInfo
from zoneinfo import _common as zoneinfo_common  # the TZif reader: lists a zone's changes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hom.bookings.slots import (
    MAX_RANGE,
    Busy,
    Slot,
    WeeklyHours,
    available_slots,
    check_range,
    weekly,
    within_working_hours,
    working_intervals,
)

UTC_ZONE = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
HAVANA = ZoneInfo("America/Havana")  # skips midnight
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")  # moves its clock by half an hour
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
MONDAY = date(2026, 3, 2)


def z(text: str) -> datetime:
    """An instant in UTC from '2026-03-29T07:00'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def local(text: str, zone: ZoneInfo) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


def hm(text: str) -> time:
    return time.fromisoformat(text)


def daily(*ranges: tuple[str, str]) -> list[WeeklyHours]:
    """The same ranges on every day of the week."""
    return [WeeklyHours(day, hm(a), hm(b)) for day in range(7) for a, b in ranges]


def on(day: date, *ranges: tuple[str, str]) -> list[WeeklyHours]:
    """Ranges on the weekday of `day`."""
    return [WeeklyHours(day.weekday(), hm(a), hm(b)) for a, b in ranges]


def day_slots(
    hours: Sequence[WeeklyHours],
    day: date,
    *,
    zone: ZoneInfo = UTC_ZONE,
    busy: Sequence[Busy] = (),
    minutes: int = 30,
    grid: int = 15,
    earliest: datetime = LONG_AGO,
) -> list[Slot]:
    """The slots starting on one local day (its local midnight to the next)."""
    return available_slots(
        hours=hours,
        zone=zone,
        busy=busy,
        duration=timedelta(minutes=minutes),
        grid=timedelta(minutes=grid),
        start=datetime.combine(day, time(), tzinfo=zone),
        end=datetime.combine(day + timedelta(days=1), time(), tzinfo=zone),
        earliest=earliest,
    )


def wall(slots: Sequence[Slot], zone: ZoneInfo = UTC_ZONE) -> list[str]:
    """The slots' starts as the staff member's clock shows them."""
    return [slot.starts_at.astimezone(zone).strftime("%H:%M") for slot in slots]


def quarter_hours(first: str, last: str) -> list[str]:
    """'09:00', '09:15', … up to `last`, as a clock shows them."""
    start, stop = (hm(text).hour * 60 + hm(text).minute for text in (first, last))
    return [f"{minute // 60:02}:{minute % 60:02}" for minute in range(start, stop + 1, 15)]


def busy(start: str, end: str) -> Busy:
    return Busy(z(start), z(end))


# --- a plain day ---------------------------------------------------------------------------


def test_a_plain_day_gives_every_quarter_hour_the_service_fits() -> None:
    slots = day_slots(daily(("09:00", "12:00")), MONDAY)

    assert slots == [
        Slot(z(f"2026-03-02T{start}"), z(f"2026-03-02T{start}") + timedelta(minutes=30))
        for start in quarter_hours("09:00", "11:30")
    ]
    assert wall(slots) == [
        "09:00", "09:15", "09:30", "09:45", "10:00", "10:15",
        "10:30", "10:45", "11:00", "11:15", "11:30",
    ]  # fmt: skip


def test_the_slots_are_in_utc() -> None:
    slots = day_slots(daily(("09:00", "10:00")), MONDAY, zone=BERLIN)

    assert {slot.starts_at.tzinfo for slot in slots} == {UTC}
    assert {slot.ends_at.tzinfo for slot in slots} == {UTC}
    assert slots[0].starts_at == z("2026-03-02T08:00")  # 09:00 CET


def test_the_grid_starts_where_the_working_range_starts() -> None:
    slots = day_slots(daily(("09:10", "10:30")), MONDAY)

    assert wall(slots) == ["09:10", "09:25", "09:40", "09:55"]


def test_the_grid_and_the_service_length_are_separate() -> None:
    assert wall(day_slots(daily(("09:00", "11:00")), MONDAY, minutes=45, grid=30)) == [
        "09:00", "09:30", "10:00",
    ]  # fmt: skip
    assert wall(day_slots(daily(("09:00", "10:00")), MONDAY, minutes=10, grid=20)) == [
        "09:00", "09:20", "09:40",
    ]  # fmt: skip


def test_a_service_as_long_as_the_range_fits_once_and_a_longer_one_not_at_all() -> None:
    hours = daily(("09:00", "10:00"))

    assert wall(day_slots(hours, MONDAY, minutes=60)) == ["09:00"]
    assert day_slots(hours, MONDAY, minutes=75) == []


def test_several_ranges_a_day_and_no_slot_across_the_pause() -> None:
    slots = day_slots(daily(("09:00", "12:00"), ("13:00", "17:00")), MONDAY, minutes=60)

    assert wall(slots) == quarter_hours("09:00", "11:00") + quarter_hours("13:00", "16:00")


def test_ranges_given_out_of_order_give_sorted_slots() -> None:
    hours = on(MONDAY, ("13:00", "14:00"), ("09:00", "10:00"))

    assert wall(day_slots(hours, MONDAY, minutes=60)) == ["09:00", "13:00"]


def test_touching_ranges_are_one_stretch_of_work() -> None:
    slots = day_slots(on(MONDAY, ("09:00", "12:00"), ("12:00", "13:00")), MONDAY, minutes=60)

    assert wall(slots) == quarter_hours("09:00", "12:00")  # 11:15-12:15 and so on included


def test_overlapping_ranges_give_each_slot_once() -> None:
    slots = day_slots(on(MONDAY, ("09:00", "11:00"), ("10:00", "12:00")), MONDAY, minutes=60)

    assert wall(slots) == quarter_hours("09:00", "11:00")


def test_days_without_hours_have_no_slots() -> None:
    hours = [WeeklyHours(0, hm("09:00"), hm("10:00")), WeeklyHours(3, hm("14:00"), hm("15:00"))]
    slots = available_slots(
        hours=hours,
        zone=UTC_ZONE,
        busy=[],
        duration=timedelta(minutes=60),
        grid=timedelta(minutes=15),
        start=z("2026-03-02T00:00"),  # Monday
        end=z("2026-03-16T00:00"),
        earliest=LONG_AGO,
    )

    assert [slot.starts_at for slot in slots] == [
        z("2026-03-02T09:00"),  # Monday
        z("2026-03-05T14:00"),  # Thursday
        z("2026-03-09T09:00"),
        z("2026-03-12T14:00"),
    ]


def test_no_hours_at_all_means_no_slots() -> None:
    assert day_slots([], MONDAY) == []


# --- busy time -----------------------------------------------------------------------------


def test_an_appointment_takes_the_slots_it_overlaps_and_leaves_its_neighbours() -> None:
    appointment = busy("2026-03-02T10:00", "2026-03-02T10:30")

    slots = day_slots(daily(("09:00", "12:00")), MONDAY, busy=[appointment])

    # 09:30 ends as it starts, 10:30 starts as it ends: both stay.
    assert wall(slots) == ["09:00", "09:15", "09:30", "10:30", "10:45", "11:00", "11:15", "11:30"]


def test_an_appointment_off_the_grid_frees_the_next_grid_point_after_it() -> None:
    appointment = busy("2026-03-02T09:05", "2026-03-02T10:20")

    slots = day_slots(daily(("09:00", "12:00")), MONDAY, busy=[appointment])

    assert wall(slots) == quarter_hours("10:30", "11:30")


def test_busy_time_in_another_offset_is_the_same_instant() -> None:
    appointment = Busy(local("2026-03-02T11:00", BERLIN), local("2026-03-02T12:00", BERLIN))

    slots = day_slots(daily(("09:00", "12:00")), MONDAY, busy=[appointment], minutes=60)

    assert wall(slots) == ["09:00", "11:00"]  # 11:00-12:00 in Berlin is 10:00-11:00Z


def test_overlapping_and_unsorted_busy_intervals() -> None:
    taken = [
        busy("2026-03-02T11:00", "2026-03-02T11:30"),
        busy("2026-03-02T09:30", "2026-03-02T10:15"),
        busy("2026-03-02T09:45", "2026-03-02T10:00"),  # inside the one before
        busy("2026-03-02T10:00", "2026-03-02T10:30"),  # touches and extends it
    ]

    slots = day_slots(daily(("09:00", "12:00")), MONDAY, busy=taken)

    assert wall(slots) == ["09:00", "10:30", "11:30"]


def test_time_off_spanning_days() -> None:
    time_off = busy("2026-03-02T15:00", "2026-03-04T11:00")  # Monday 15:00 to Wednesday 11:00
    hours = daily(("09:00", "17:00"))
    slots = available_slots(
        hours=hours,
        zone=UTC_ZONE,
        busy=[time_off],
        duration=timedelta(minutes=60),
        grid=timedelta(minutes=60),
        start=z("2026-03-02T00:00"),
        end=z("2026-03-05T00:00"),
        earliest=LONG_AGO,
    )

    assert [slot.starts_at for slot in slots] == [
        *(z(f"2026-03-02T{h:02}:00") for h in range(9, 15)),
        *(z(f"2026-03-04T{h:02}:00") for h in range(11, 17)),
    ]


def test_busy_time_outside_the_range_changes_nothing() -> None:
    elsewhere = [
        busy("2026-02-01T00:00", "2026-03-02T09:00"),
        busy("2026-03-02T12:00", "2026-04-01T00:00"),
    ]

    assert day_slots(daily(("09:00", "12:00")), MONDAY, busy=elsewhere) == day_slots(
        daily(("09:00", "12:00")), MONDAY
    )


# --- minimum notice and the query range ----------------------------------------------------


def test_earliest_drops_earlier_slots_without_moving_the_grid() -> None:
    hours = daily(("09:00", "12:00"))

    assert wall(day_slots(hours, MONDAY, earliest=z("2026-03-02T10:05"))) == quarter_hours(
        "10:15", "11:30"
    )
    assert wall(day_slots(hours, MONDAY, earliest=z("2026-03-02T10:15")))[0] == "10:15"
    assert day_slots(hours, MONDAY, earliest=z("2026-03-02T11:31")) == []


def test_earliest_after_the_range_gives_nothing() -> None:
    assert day_slots(daily(("09:00", "12:00")), MONDAY, earliest=z("2026-03-05T00:00")) == []


def query(
    hours: Sequence[WeeklyHours], start: datetime, end: datetime, minutes: int = 30
) -> list[Slot]:
    return available_slots(
        hours=hours,
        zone=UTC_ZONE,
        busy=[],
        duration=timedelta(minutes=minutes),
        grid=timedelta(minutes=15),
        start=start,
        end=end,
        earliest=LONG_AGO,
    )


def test_a_slot_belongs_to_the_range_it_starts_in() -> None:
    hours = daily(("09:00", "12:00"))

    slots = query(hours, z("2026-03-02T10:00"), z("2026-03-02T11:00"))

    # 10:45-11:15 starts inside and ends outside: it is in; 11:00 starts at the end: it is not.
    assert wall(slots) == ["10:00", "10:15", "10:30", "10:45"]


def test_a_range_starting_off_the_grid_keeps_the_grid_of_the_working_hours() -> None:
    slots = query(daily(("09:10", "12:00")), z("2026-03-02T10:00"), z("2026-03-02T11:00"))

    assert wall(slots) == ["10:10", "10:25", "10:40", "10:55"]


def test_consecutive_queries_add_up_to_one_long_query() -> None:
    hours = daily(("09:00", "12:00"), ("13:00", "17:00"))
    edges = [
        z("2026-03-02T00:00"),
        z("2026-03-02T10:07"),
        z("2026-03-02T13:00"),
        z("2026-03-04T00:00"),
    ]

    pieces = [slot for a, b in itertools.pairwise(edges) for slot in query(hours, a, b)]

    assert pieces == query(hours, edges[0], edges[-1])


def test_the_range_may_be_given_in_any_offset() -> None:
    hours = daily(("09:00", "12:00"))
    in_berlin = query(hours, local("2026-03-02T11:00", BERLIN), local("2026-03-02T12:00", BERLIN))

    assert wall(in_berlin) == ["10:00", "10:15", "10:30", "10:45"]


# --- clock changes -------------------------------------------------------------------------

CHANGE_DAYS = [
    # zone, the change day, its first and last slot, the day before and its first slot
    (BERLIN, date(2026, 3, 29), "2026-03-29T07:00", "2026-03-29T14:30", "2026-03-28T08:00"),
    (BERLIN, date(2026, 10, 25), "2026-10-25T08:00", "2026-10-25T15:30", "2026-10-24T07:00"),
    (NEW_YORK, date(2026, 3, 8), "2026-03-08T13:00", "2026-03-08T20:30", "2026-03-07T14:00"),
    (NEW_YORK, date(2026, 11, 1), "2026-11-01T14:00", "2026-11-01T21:30", "2026-10-31T13:00"),
]


@pytest.mark.parametrize(("zone", "day", "first", "last", "day_before_first"), CHANGE_DAYS)
def test_a_day_job_keeps_its_local_hours_on_a_clock_change_day(
    zone: ZoneInfo, day: date, first: str, last: str, day_before_first: str
) -> None:
    hours = daily(("09:00", "17:00"))

    slots = day_slots(hours, day, zone=zone)
    before = day_slots(hours, day - timedelta(days=1), zone=zone)

    assert wall(slots, zone) == quarter_hours("09:00", "16:30")
    assert (slots[0].starts_at, slots[-1].starts_at) == (z(first), z(last))
    assert {slot.ends_at - slot.starts_at for slot in slots} == {timedelta(minutes=30)}
    assert before[0].starts_at == z(day_before_first)
    assert wall(before, zone) == wall(slots, zone)
    [(start, end)] = working_intervals(
        hours,
        zone,
        slots[0].starts_at - timedelta(hours=3),
        slots[0].starts_at + timedelta(hours=12),
    )
    assert (start, end - start) == (z(first), timedelta(hours=8))


def night(zone: ZoneInfo, day: date, ranges: tuple[str, str], minutes: int = 60) -> list[Slot]:
    return day_slots(on(day, ranges), day, zone=zone, minutes=minutes)


def test_new_york_spring_night_steps_over_the_skipped_hour_in_real_time() -> None:
    slots = night(NEW_YORK, date(2026, 3, 8), ("00:00", "04:00"))  # 3 real hours

    assert [slot.starts_at for slot in slots] == [
        z(f"2026-03-08T{t}")
        for t in ("05:00", "05:15", "05:30", "05:45", "06:00", "06:15", "06:30", "06:45", "07:00")
    ]
    assert wall(slots, NEW_YORK) == [
        "00:00", "00:15", "00:30", "00:45", "01:00", "01:15", "01:30", "01:45", "03:00",
    ]  # fmt: skip
    # an hour from 01:30 EST is 03:30 EDT
    assert slots[6].ends_at.astimezone(NEW_YORK) == local("2026-03-08T03:30", NEW_YORK)


def test_a_service_ending_after_the_jump_is_offered_only_if_it_ends_in_the_range() -> None:
    day = date(2026, 3, 8)

    # 00:00 EST to 03:00 EDT is 2 real hours: 01:00 EST + 1 h = 03:00 EDT is the last one.
    slots = night(NEW_YORK, day, ("00:00", "03:00"))
    assert wall(slots, NEW_YORK) == ["00:00", "00:15", "00:30", "00:45", "01:00"]
    assert slots[-1].ends_at == local("2026-03-08T03:00", NEW_YORK) == z("2026-03-08T07:00")

    # 01:00-03:00 on the wall is one real hour: no 90-minute service fits.
    assert night(NEW_YORK, day, ("01:00", "03:00"), minutes=90) == []
    assert wall(night(NEW_YORK, day, ("01:00", "03:00")), NEW_YORK) == ["01:00"]


def test_new_york_autumn_night_offers_the_repeated_hour_twice() -> None:
    slots = night(NEW_YORK, date(2026, 11, 1), ("00:00", "04:00"))  # 00:00 EDT to 04:00 EST

    assert [slot.starts_at for slot in slots] == [
        z("2026-11-01T04:00") + n * timedelta(minutes=15) for n in range(17)
    ]
    assert wall(slots, NEW_YORK) == (
        quarter_hours("00:00", "01:45") + quarter_hours("01:00", "03:00")
    )
    assert slots[-1].ends_at == z("2026-11-01T09:00")


def test_the_repeated_hour_is_two_real_hours() -> None:
    slots = night(NEW_YORK, date(2026, 11, 1), ("01:00", "02:00"))  # 01:00 EDT to 02:00 EST

    assert [slot.starts_at for slot in slots] == [
        z(f"2026-11-01T{t}") for t in ("05:00", "05:15", "05:30", "05:45", "06:00")
    ]
    assert slots[-1].ends_at == z("2026-11-01T07:00")


def test_a_time_in_the_repeated_hour_means_its_first_occurrence() -> None:
    day = date(2026, 11, 1)

    # Work ends when the clock first shows 01:30 (EDT) …
    assert working_intervals(
        on(day, ("00:00", "01:30")), NEW_YORK, z("2026-11-01T00:00"), z("2026-11-02T00:00")
    ) == [(z("2026-11-01T04:00"), z("2026-11-01T05:30"))]
    # … and starts when the clock first shows it.
    assert working_intervals(
        on(day, ("01:30", "03:00")), NEW_YORK, z("2026-11-01T00:00"), z("2026-11-02T00:00")
    ) == [(z("2026-11-01T05:30"), z("2026-11-01T08:00"))]


def test_a_half_hour_change_shortens_the_range_by_half_an_hour() -> None:
    day = date(2026, 10, 4)  # Lord Howe: 02:00 +10:30 → 02:30 +11:00
    start = datetime.combine(day, time(), tzinfo=LORD_HOWE)

    assert working_intervals(
        on(day, ("01:00", "04:00")), LORD_HOWE, start, start + timedelta(1)
    ) == [(z("2026-10-03T14:30"), z("2026-10-03T17:00"))]


def test_a_clock_falling_back_over_midnight_repeats_the_evening() -> None:
    santiago = ZoneInfo("America/Santiago")  # Sunday 2026-04-05 00:00 -03 → Saturday 23:00 -04
    hours = [WeeklyHours(5, hm("22:00"), hm("23:30")), WeeklyHours(6, hm("00:00"), hm("01:00"))]
    start = z("2026-04-04T12:00")

    # Saturday's range ends at the first 23:30; Sunday starts when the clock first shows it.
    assert working_intervals(hours, santiago, start, start + timedelta(days=1)) == [
        (z("2026-04-05T01:00"), z("2026-04-05T02:30")),
        (z("2026-04-05T04:00"), z("2026-04-05T05:00")),
    ]


@pytest.mark.parametrize(
    ("zone", "day", "ranges", "expected"),
    [
        # 02:30 does not exist in New York that day: work starts at 03:00 EDT.
        (NEW_YORK, date(2026, 3, 8), ("02:30", "05:00"), ("2026-03-08T07:00", "2026-03-08T09:00")),
        (BERLIN, date(2026, 3, 29), ("02:30", "04:00"), ("2026-03-29T01:00", "2026-03-29T02:00")),
        # Havana skips midnight: a range from 00:00 starts at 01:00 CDT.
        (
            HAVANA,
            date(2026, 3, 8),
            ("00:00", "02:00"),
            ("2026-03-08T05:00", "2026-03-08T06:00"),
        ),
        # Lord Howe moves its clock by half an hour (02:00 → 02:30).
        (
            LORD_HOWE,
            date(2026, 10, 4),
            ("02:15", "04:00"),
            ("2026-10-03T15:30", "2026-10-03T17:00"),
        ),
    ],
)
def test_a_time_in_the_skipped_hour_means_the_moment_the_clock_jumps(
    zone: ZoneInfo, day: date, ranges: tuple[str, str], expected: tuple[str, str]
) -> None:
    start = datetime.combine(day - timedelta(days=1), time(), tzinfo=zone)
    intervals = working_intervals(on(day, ranges), zone, start, start + timedelta(days=3))

    assert intervals == [(z(expected[0]), z(expected[1]))]
    assert night(zone, day, ranges)[0].starts_at == z(expected[0])


def test_a_range_inside_the_skipped_hour_is_no_work_at_all() -> None:
    day = date(2026, 3, 8)
    hours = on(day, ("02:10", "02:50"))

    assert night(NEW_YORK, day, ("02:10", "02:50"), minutes=15) == []
    assert working_intervals(hours, NEW_YORK, z("2026-03-07T00:00"), z("2026-03-10T00:00")) == []


# --- working intervals ---------------------------------------------------------------------


def test_working_intervals_are_clipped_to_the_range() -> None:
    hours = daily(("09:00", "12:00"), ("13:00", "17:00"))

    assert working_intervals(hours, UTC_ZONE, z("2026-03-02T10:00"), z("2026-03-03T10:00")) == [
        (z("2026-03-02T10:00"), z("2026-03-02T12:00")),
        (z("2026-03-02T13:00"), z("2026-03-02T17:00")),
        (z("2026-03-03T09:00"), z("2026-03-03T10:00")),
    ]


# A day whose two midnights have the same offset is worked out by adding its wall times to
# its midnight; only the days the clock changes look each time up. Two years of every zone
# the tests know (and Casablanca, which moves its clock around Ramadan, a month apart) must
# come out as the lookup of each time alone says: `weekly`, which the shortcut does not use.
SHORTCUT_ZONES = [
    BERLIN,
    NEW_YORK,
    HAVANA,
    LORD_HOWE,
    ZoneInfo("America/Santiago"),
    ZoneInfo("Asia/Beirut"),
    ZoneInfo("Africa/Casablanca"),
    ZoneInfo("Asia/Kolkata"),
    UTC_ZONE,
]
NIGHT_AND_DAY = [("00:00", "00:45"), ("01:30", "02:30"), ("09:00", "17:00"), ("22:30", "23:45")]
TWO_YEARS = 105  # weeks


@pytest.mark.parametrize("zone", SHORTCUT_ZONES, ids=str)
def test_days_without_a_clock_change_agree_with_looking_each_time_up(zone: ZoneInfo) -> None:
    hours = daily(*NIGHT_AND_DAY)
    first_week = [date(2026, 1, 5) + timedelta(days=n) for n in range(7)]  # no change there
    ranges = sorted(
        (starts, ends)
        for day in first_week
        for a, b in NIGHT_AND_DAY
        for starts, ends in zip(
            weekly(datetime.combine(day, hm(a), tzinfo=zone), zone, TWO_YEARS),
            weekly(datetime.combine(day, hm(b), tzinfo=zone), zone, TWO_YEARS),
            strict=True,
        )
    )
    expected: list[tuple[datetime, datetime]] = []
    for starts, ends in ranges:
        if expected and starts <= expected[-1][1]:  # touching: one stretch
            expected[-1] = (expected[-1][0], max(expected[-1][1], ends))
        elif starts < ends:  # a range the clock skips whole is no work
            expected.append((starts, ends))
    start, end = z("2026-01-06T12:00"), z("2027-12-31T12:00")

    assert working_intervals(hours, zone, start, end) == [
        (max(a, start), min(b, end)) for a, b in expected if a < end and start < b
    ]


def test_no_zone_changes_its_offset_twice_within_48_hours() -> None:
    """What the shortcut above stands on: two midnights with one offset have no change
    between them. Checked on every change the installed tzdata lists (those after its
    table follow a yearly rule: spring and autumn, months apart)."""
    changes = 0
    for key in sorted(zoneinfo.available_timezones()):
        with _tzif(key) as tzif:
            kinds, instants, offsets, *_ = zoneinfo_common.load_data(tzif)
        moves = [
            at for n, at in enumerate(instants) if n and offsets[kinds[n]] != offsets[kinds[n - 1]]
        ]
        changes += len(moves)
        close = [(a, b) for a, b in itertools.pairwise(moves) if b - a < 48 * 3600]
        assert not close, f"{key} changes its offset twice within 48 hours: {close}"
    assert changes > 10_000  # the whole database was read


def _tzif(key: str) -> IO[bytes]:
    """The zone's TZif file, where `ZoneInfo(key)` reads it: the system's, else tzdata's."""
    for directory in zoneinfo.TZPATH:
        if os.path.exists(path := os.path.join(directory, key)):
            return open(path, "rb")
    return zoneinfo_common.load_tzdata(key)  # type: ignore[no-any-return]


# --- booking a given time ------------------------------------------------------------------

TWO_RANGES = daily(("09:00", "12:00"), ("13:00", "17:00"))


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "inside"),
    [
        ("2026-03-02T09:00", "2026-03-02T09:30", True),
        ("2026-03-02T10:05", "2026-03-02T10:50", True),  # off the grid is the caller's matter
        ("2026-03-02T09:00", "2026-03-02T12:00", True),  # the whole range
        ("2026-03-02T11:30", "2026-03-02T12:00", True),  # touches the end exactly
        ("2026-03-02T11:45", "2026-03-02T12:15", False),  # past the end
        ("2026-03-02T08:45", "2026-03-02T09:15", False),  # before the start
        ("2026-03-02T11:30", "2026-03-02T13:30", False),  # straddles the pause
        ("2026-03-02T18:00", "2026-03-02T19:00", False),
        ("2026-03-02T16:30", "2026-03-03T09:30", False),  # over night
    ],
)
def test_within_working_hours(starts_at: str, ends_at: str, inside: bool) -> None:
    assert within_working_hours(TWO_RANGES, UTC_ZONE, z(starts_at), z(ends_at)) is inside


def test_within_touching_ranges_is_within_working_hours() -> None:
    hours = on(MONDAY, ("09:00", "12:00"), ("12:00", "15:00"))

    assert within_working_hours(hours, UTC_ZONE, z("2026-03-02T11:30"), z("2026-03-02T12:30"))


def test_within_working_hours_takes_any_offset() -> None:
    starts_at = local("2026-03-02T10:00", BERLIN)  # 09:00Z

    assert within_working_hours(TWO_RANGES, UTC_ZONE, starts_at, starts_at + timedelta(hours=1))
    assert within_working_hours(TWO_RANGES, BERLIN, starts_at, starts_at + timedelta(hours=1))
    hour_before = starts_at - timedelta(hours=2), starts_at - timedelta(hours=1)
    assert not within_working_hours(TWO_RANGES, BERLIN, *hour_before)  # 08:00-09:00 in Berlin


@pytest.mark.parametrize(
    ("zone", "ranges", "starts_at", "ends_at", "inside"),
    [
        (BERLIN, ("09:00", "17:00"), "2026-03-29T07:00", "2026-03-29T15:00", True),
        (BERLIN, ("09:00", "17:00"), "2026-03-29T06:45", "2026-03-29T07:15", False),
        (BERLIN, ("09:00", "17:00"), "2026-10-25T08:00", "2026-10-25T16:00", True),
        (BERLIN, ("09:00", "17:00"), "2026-10-25T07:30", "2026-10-25T08:30", False),
        # 01:30 EST + 1 h = 03:30 EDT: inside 00:00-04:00, outside 00:00-03:00
        (NEW_YORK, ("00:00", "04:00"), "2026-03-08T06:30", "2026-03-08T07:30", True),
        (NEW_YORK, ("00:00", "03:00"), "2026-03-08T06:30", "2026-03-08T07:30", False),
        (NEW_YORK, ("00:00", "03:00"), "2026-03-08T06:00", "2026-03-08T07:00", True),
        # the second 01:00-02:00 (EST) on the autumn day is still the 01:00-02:00 range
        (NEW_YORK, ("01:00", "02:00"), "2026-11-01T06:00", "2026-11-01T07:00", True),
        (NEW_YORK, ("01:00", "02:00"), "2026-11-01T05:00", "2026-11-01T07:00", True),
        (NEW_YORK, ("01:00", "02:00"), "2026-11-01T06:30", "2026-11-01T07:30", False),
    ],
)
def test_within_working_hours_on_clock_change_days(
    zone: ZoneInfo, ranges: tuple[str, str], starts_at: str, ends_at: str, inside: bool
) -> None:
    hours = daily(ranges)

    assert within_working_hours(hours, zone, z(starts_at), z(ends_at)) is inside


def test_every_offered_slot_is_within_working_hours() -> None:
    hours = daily(("00:00", "04:00"), ("09:00", "17:00"))
    for zone, day in [(zone, day) for zone, day, *_ in CHANGE_DAYS]:
        for slot in day_slots(hours, day, zone=zone, minutes=45):
            assert within_working_hours(hours, zone, slot.starts_at, slot.ends_at)


# --- refused input -------------------------------------------------------------------------

NAIVE = datetime(2026, 3, 2, 9, 0)


def slots_with(**changes: object) -> list[Slot]:
    arguments: dict[str, object] = {
        "hours": daily(("09:00", "12:00")),
        "zone": UTC_ZONE,
        "busy": [],
        "duration": timedelta(minutes=30),
        "grid": timedelta(minutes=15),
        "start": z("2026-03-02T00:00"),
        "end": z("2026-03-03T00:00"),
        "earliest": LONG_AGO,
        **changes,
    }
    return available_slots(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"start": NAIVE}, "start must be a datetime with a time zone"),
        ({"end": NAIVE}, "end must be a datetime with a time zone"),
        ({"earliest": NAIVE}, "earliest must be a datetime with a time zone"),
        ({"end": z("2026-03-02T00:00")}, "start must be before end"),
        ({"end": z("2026-03-01T00:00")}, "start must be before end"),
        ({"duration": timedelta(0)}, "duration must be positive"),
        ({"grid": timedelta(minutes=-15)}, "grid must be positive"),
    ],
)
def test_available_slots_refuses_bad_input(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        slots_with(**changes)


def test_naive_and_empty_busy_intervals_are_refused() -> None:
    with pytest.raises(ValueError, match="starts_at must be a datetime with a time zone"):
        Busy(NAIVE, z("2026-03-02T10:00"))
    with pytest.raises(ValueError, match="starts_at must be before ends_at"):
        Busy(z("2026-03-02T10:00"), z("2026-03-02T10:00"))


@pytest.mark.parametrize(
    ("weekday", "start", "end", "message"),
    [
        (7, "09:00", "17:00", "weekday must be 0"),
        (-1, "09:00", "17:00", "weekday must be 0"),
        (0, "17:00", "09:00", "must end after they start"),
        (0, "09:00", "09:00", "must end after they start"),
        (0, "09:00+01:00", "17:00", "without a time zone"),
    ],
)
def test_bad_weekly_hours_are_refused(weekday: int, start: str, end: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WeeklyHours(weekday, hm(start), hm(end))


def test_working_intervals_and_within_refuse_naive_and_empty_ranges() -> None:
    hours = daily(("09:00", "12:00"))
    with pytest.raises(ValueError, match="start must be a datetime"):
        working_intervals(hours, UTC_ZONE, NAIVE, z("2026-03-03T00:00"))
    with pytest.raises(ValueError, match="start must be before end"):
        working_intervals(hours, UTC_ZONE, z("2026-03-03T00:00"), z("2026-03-02T00:00"))
    with pytest.raises(ValueError, match="ends_at must be a datetime"):
        within_working_hours(hours, UTC_ZONE, z("2026-03-02T09:00"), NAIVE)
    with pytest.raises(ValueError, match="starts_at must be before ends_at"):
        within_working_hours(hours, UTC_ZONE, z("2026-03-02T09:00"), z("2026-03-02T09:00"))


def test_check_range_accepts_up_to_31_days() -> None:
    check_range(z("2026-03-01T00:00"), z("2026-03-01T00:00") + MAX_RANGE)
    check_range(local("2026-03-01T00:00", BERLIN), z("2026-03-01T00:00"))
    assert timedelta(days=31) == MAX_RANGE


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (NAIVE, z("2026-03-03T00:00"), "from must be a datetime with a time zone"),
        (z("2026-03-01T00:00"), NAIVE, "to must be a datetime with a time zone"),
        (z("2026-03-02T00:00"), z("2026-03-02T00:00"), "from must be before to"),
        (z("2026-03-03T00:00"), z("2026-03-02T00:00"), "from must be before to"),
        (
            z("2026-03-01T00:00"),
            z("2026-03-01T00:00") + MAX_RANGE + timedelta(microseconds=1),
            "at most 31 days",
        ),
    ],
)
def test_check_range_refuses(start: datetime, end: datetime, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_range(start, end)


# --- speed ---------------------------------------------------------------------------------


def test_a_month_with_300_appointments_takes_milliseconds() -> None:
    hours = daily(("08:00", "12:00"), ("13:00", "17:00"), ("18:00", "20:00"))
    start = z("2026-03-01T00:00")
    appointments = [
        Busy(
            start + n * timedelta(minutes=145),
            start + n * timedelta(minutes=145) + timedelta(minutes=45),
        )
        for n in range(300)
    ]

    def month() -> list[Slot]:
        return available_slots(
            hours=hours,
            zone=BERLIN,
            busy=appointments,
            duration=timedelta(minutes=30),
            grid=timedelta(minutes=15),
            start=start,
            end=start + MAX_RANGE,
            earliest=start,
        )

    timings = []
    for _ in range(5):
        began = clock.perf_counter()
        slots = month()
        timings.append(clock.perf_counter() - began)

    assert len(slots) > 500
    assert min(timings) < 0.05  # about 1 ms here; the bound only catches a quadratic sweep


# --- against a brute-force reference -------------------------------------------------------

MINUTE = timedelta(minutes=1)
QUARTER = timedelta(minutes=15)


class Place(NamedTuple):
    zone: ZoneInfo
    base: date  # the generated times fall in the DAYS from this day's 00:00 UTC
    weekday: int  # the local weekday of the clock change …
    change: str  # … and the time, which ranges are often near


SAT, SUN = 5, 6
SANTIAGO = ZoneInfo("America/Santiago")  # changes at midnight, falls back into Saturday
BEIRUT = ZoneInfo("Asia/Beirut")  # likewise
PLACES = [
    Place(NEW_YORK, date(2026, 3, 7), SUN, "02:00"),
    Place(NEW_YORK, date(2026, 10, 31), SUN, "01:00"),  # 01:00-02:00 comes twice
    Place(BERLIN, date(2026, 3, 28), SUN, "02:00"),
    Place(BERLIN, date(2026, 10, 24), SUN, "02:00"),
    Place(HAVANA, date(2026, 3, 7), SUN, "00:00"),
    Place(HAVANA, date(2026, 10, 31), SUN, "00:00"),
    Place(LORD_HOWE, date(2026, 4, 4), SUN, "01:30"),
    Place(LORD_HOWE, date(2026, 10, 3), SUN, "02:00"),
    Place(SANTIAGO, date(2026, 4, 3), SAT, "23:00"),  # Saturday 23:00-24:00 comes twice
    Place(SANTIAGO, date(2026, 9, 5), SUN, "00:00"),
    Place(BEIRUT, date(2026, 3, 28), SUN, "00:00"),
    Place(BEIRUT, date(2026, 10, 23), SAT, "23:00"),
    Place(UTC_ZONE, date(2026, 6, 6), SUN, "09:00"),  # no change
    Place(ZoneInfo("Asia/Kolkata"), date(2026, 3, 7), SUN, "09:00"),  # +05:30, no change
]
DAYS = 4  # the days the generated queries, busy time and notice fall in


@functools.cache
def walls(zone: ZoneInfo, origin: datetime) -> list[datetime]:
    """What the zone's clock shows in each minute of DAYS + 4 days from `origin`."""
    return [
        (origin + n * MINUTE).astimezone(zone).replace(tzinfo=None)
        for n in range((DAYS + 4) * 1440)
    ]


class Reference:
    """Working time, minute by minute, straight from the rules in the module's docstring: a
    local time on a date is the first minute at which the clock shows it or a later time."""

    def __init__(self, zone: ZoneInfo, first_day: date, hours: Sequence[WeeklyHours]) -> None:
        self.origin = datetime.combine(first_day - timedelta(days=2), time(), tzinfo=UTC)
        self.walls = walls(zone, self.origin)
        self.working = [False] * len(self.walls)
        for offset in range(-1, DAYS + 1):
            day = first_day + timedelta(days=offset)
            for entry in hours:
                if entry.weekday == day.weekday():
                    start, end = self.shows(day, entry.start), self.shows(day, entry.end)
                    self.working[start:end] = [True] * (end - start)

    def shows(self, day: date, clock: time) -> int:
        target = datetime.combine(day, clock)
        return next(n for n, wall in enumerate(self.walls) if wall >= target)

    def index(self, moment: datetime) -> int:
        return (moment - self.origin) // MINUTE

    def instant(self, index: int) -> datetime:
        return self.origin + index * MINUTE

    def stretches(self) -> list[tuple[int, int]]:
        """Runs of working minutes."""
        runs: list[tuple[int, int]] = []
        for n, working in enumerate(self.working):
            if working and runs and runs[-1][1] == n:
                runs[-1] = (runs[-1][0], n + 1)
            elif working:
                runs.append((n, n + 1))
        return runs

    def slots(
        self, busy: Sequence[Busy], duration: int, grid: int, start: int, end: int, earliest: int
    ) -> list[Slot]:
        taken = [False] * len(self.walls)
        for interval in busy:
            first, last = self.index(interval.starts_at), self.index(interval.ends_at)
            taken[first:last] = [True] * (last - first)
        return [
            Slot(self.instant(at), self.instant(at + duration))
            for first, last in self.stretches()
            for at in range(first, last - duration + 1, grid)
            if start <= at < end and at >= earliest and not any(taken[at : at + duration])
        ]


def minutes(low: int, high: int, step: int = 1) -> st.SearchStrategy[int]:
    return st.integers(low // step, high // step).map(lambda n: n * step)


def near(change: str) -> st.SearchStrategy[int]:
    """Minutes of the day, often on the quarter hours within 90 minutes of the clock change."""
    at = hm(change).hour * 60 + hm(change).minute
    close = st.integers(-6, 6).map(lambda n: min(max(at + 15 * n, 0), 23 * 60 + 45))
    return st.one_of(close, minutes(0, 23 * 60 + 50, 5))


def weekly_hours(place: Place) -> st.SearchStrategy[WeeklyHours]:
    """Ranges, half of them on the day of the clock change, often near it or touching."""
    return st.builds(
        lambda weekday, start, length: WeeklyHours(
            weekday,
            time(*divmod(start, 60)),
            time(*divmod(min(start + length, 23 * 60 + 55), 60)),
        ),
        st.one_of(st.just(place.weekday), st.integers(0, 6)),
        near(place.change),
        st.one_of(st.sampled_from([15, 30, 60, 90, 120, 180]), minutes(5, 12 * 60, 5)),
    )


def moments(place: Place, hours: list[WeeklyHours]) -> st.SearchStrategy[datetime]:
    """Whole minutes in the DAYS after `base`: often within six hours of the clock change, or
    in one of the working ranges (found roughly: this only steers the search)."""
    base = datetime.combine(place.base, time(), tzinfo=UTC)

    def day_of(weekday: int) -> date:
        return place.base + timedelta(days=(weekday - place.base.weekday()) % 7)

    def during(entry: WeeklyHours, offset: int) -> int:
        at = datetime.combine(day_of(entry.weekday), entry.start, tzinfo=place.zone)
        return (at - base) // MINUTE + offset

    change = during(WeeklyHours(place.weekday, hm(place.change), time.max), 0)
    return st.one_of(
        st.just(0),
        st.integers(change - 360, change + 360),
        st.builds(during, st.sampled_from(hours), st.integers(0, 180)),
        minutes(0, DAYS * 1440),
    ).map(lambda n: base + min(max(n, 0), DAYS * 1440) * MINUTE)


@dataclass(frozen=True)
class Case:
    zone: ZoneInfo
    base: date
    hours: list[WeeklyHours]
    busy: list[Busy]
    duration: timedelta
    grid: timedelta
    start: datetime
    end: datetime
    earliest: datetime
    probe: tuple[datetime, datetime]  # an interval to ask `within_working_hours` about


@st.composite
def cases(draw: st.DrawFn) -> Case:
    place = draw(st.sampled_from(PLACES))
    hours = draw(st.lists(weekly_hours(place), min_size=1, max_size=6))
    if hours[0].end < time(23, 45) and draw(st.booleans()):  # one range going on from another
        hours.append(WeeklyHours(hours[0].weekday, hours[0].end, time(23, 45)))
    moment = moments(place, hours)
    quarters = moment.map(lambda at: at - (at - datetime.min.replace(tzinfo=UTC)) % QUARTER)
    spans = minutes(5, 600, 5).map(lambda n: n * MINUTE)
    latest_start = datetime.combine(place.base + timedelta(days=2), time(), tzinfo=UTC)
    start = min(draw(moment), latest_start)  # the reference knows the hours of DAYS days
    probe = draw(moment)
    return Case(
        zone=place.zone,
        base=place.base,
        hours=hours,
        busy=[
            Busy(at, at + span)
            for at, span in draw(st.lists(st.tuples(moment | quarters, spans), max_size=10))
        ],
        duration=draw(minutes(5, 240, 5)) * MINUTE,
        grid=draw(st.sampled_from([5, 10, 15, 20, 30, 60])) * MINUTE,
        start=start,
        end=start + draw(st.one_of(st.just(2 * 1440), minutes(1, 2 * 1440))) * MINUTE,
        earliest=draw(moment),
        probe=(probe, probe + draw(st.one_of(minutes(1, 60).map(lambda n: n * MINUTE), spans))),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_the_slots_are_those_a_minute_by_minute_search_finds(case: Case) -> None:
    reference = Reference(case.zone, case.base, case.hours)

    slots = available_slots(
        hours=case.hours,
        zone=case.zone,
        busy=case.busy,
        duration=case.duration,
        grid=case.grid,
        start=case.start,
        end=case.end,
        earliest=case.earliest,
    )

    start, end, earliest = (reference.index(t) for t in (case.start, case.end, case.earliest))
    assert slots == reference.slots(
        case.busy, case.duration // MINUTE, case.grid // MINUTE, start, end, earliest
    )
    for slot in slots:
        assert within_working_hours(case.hours, case.zone, slot.starts_at, slot.ends_at)
        assert not any(b.starts_at < slot.ends_at and slot.starts_at < b.ends_at for b in case.busy)
    assert working_intervals(case.hours, case.zone, case.start, case.end) == [
        (reference.instant(max(a, start)), reference.instant(min(b, end)))
        for a, b in reference.stretches()
        if a < end and start < b
    ]
    first, last = (reference.index(t) for t in case.probe)
    assert within_working_hours(case.hours, case.zone, *case.probe) == all(
        reference.working[first:last]
    )

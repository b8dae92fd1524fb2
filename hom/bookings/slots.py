"""Availability as a pure function: the slots a staff member can be booked for, from their
weekly hours, their time zone and what keeps them busy (time off, live appointments).

Pure rules, no database: the bookings service loads the hours and the busy intervals and
asks here. The choices, so that a customer can predict the answer:

- **Local time.** Working hours are wall-clock times in the staff member's IANA zone:
  09:00-17:00 is 09:00-17:00 local on every day, clock-change days included (at another
  UTC offset). A range ends after it starts on the same day (none runs over midnight). All
  arithmetic after that is in real (UTC) time.
- **A local time on a date is the first instant the staff member's clock shows it, or a
  later time.** In the hour the clock skips, that is the instant of the jump: 02:30 on the
  spring-forward day in New York means 03:00 EDT. In the hour the clock repeats, it is the
  first occurrence (`fold=0`): 01:30 on the autumn day means 01:30 EDT. So a range lasts
  the real time between its two ends: 01:00-04:00 on New York's spring day is 2 hours,
  01:00-02:00 on its autumn day is 2 hours, and 02:10-02:50 on the spring day is empty.
- **Stretches.** A day's ranges that touch or overlap are one stretch of work
  (09:00-12:00 and 12:00-15:00 offer 11:45-12:15); ranges with a pause between them are
  not, and no slot spans the pause.
- **The grid** (`grid`: issue 20's `SLOT_GRID_MINUTES`) is anchored at the start of each
  stretch and steps in real time, the way Cal.com aligns slots to the working range: a
  stretch from 09:10 offers 09:10, 09:25, …; across a clock change the steps keep their
  real spacing (00:00-04:00 in New York on the spring day offers … 01:45 EST, 03:00 EDT …).
  Neither the query's start nor `earliest` moves the grid: a query from 09:05 gets 09:15.
- **A slot** lasts `duration` of real time, lies wholly inside one stretch (60 minutes
  from 01:30 EST on the spring day end at 03:30 EDT, and are offered only if the stretch
  lasts that long), overlaps no busy interval (half-open: a slot ending at 10:00 does not
  clash with an appointment starting at 10:00), starts at or after `earliest` (now plus the
  minimum notice) and *starts* inside the query's [start, end): it may end after `end`.
- **Input and output.** Datetimes must be aware (a naive one raises ValueError, as does an
  empty range); the answer is sorted, in UTC, without duplicates. Busy intervals are sorted
  once and swept alongside the slots, so the cost grows with slots + busy intervals, not
  their product.

How it is fast (`availableSlots` asks for a month at a time): everything after the working
hours is arithmetic on datetimes that all carry the one `UTC` tzinfo, so that comparing and
stepping them are single C operations; a day whose two midnights have the same offset turns
its wall times into instants by adding them to its midnight, and only the (few) days the
clock changes look each time up; the slots are made in C from their starts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache, partial
from itertools import repeat
from operator import add
from typing import NamedTuple
from zoneinfo import ZoneInfo

MAX_RANGE = timedelta(days=31)  # the longest range `availableSlots` answers (SPEC §7)

Interval = tuple[datetime, datetime]  # [start, end), aware UTC
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class WeeklyHours:
    """One working range on one weekday, in local wall-clock time of the staff member's zone."""

    weekday: int  # 0 = Monday … 6 = Sunday, as `date.weekday()`
    start: time
    end: time  # after start: no range runs over midnight

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {self.weekday}")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("working hours are local wall-clock times, without a time zone")
        if self.start >= self.end:
            raise ValueError(
                f"working hours must end after they start (no range runs over midnight), "
                f"got {self.start.isoformat()}-{self.end.isoformat()}"
            )


class _BusyFields(NamedTuple):
    starts_at: datetime
    ends_at: datetime


class Busy(_BusyFields):
    """Time the staff member cannot be booked, [starts_at, ends_at): time off or an appointment.

    Kept in UTC (the same instants as given) and as a tuple: a request makes hundreds, and
    the slots sort and sweep them as they are. What PostgreSQL returns (UTC, in order) is
    checked in a few C operations; anything else the long way."""

    __slots__ = ()

    def __new__(cls, starts_at: datetime, ends_at: datetime) -> Busy:
        utc = (starts_at, ends_at)
        if starts_at.tzinfo is not UTC or ends_at.tzinfo is not UTC:
            _require_aware("starts_at", starts_at)
            _require_aware("ends_at", ends_at)
            utc = (starts_at.astimezone(UTC), ends_at.astimezone(UTC))
        if not utc[0] < utc[1]:
            _require_order("starts_at", starts_at, "ends_at", ends_at)
        return tuple.__new__(cls, utc)


class Slot(NamedTuple):
    """A bookable [starts_at, ends_at), aware UTC. A named tuple, so that the month of slots
    `availableSlots` answers is built in C (`_slots`), at a third of a dataclass's cost."""

    starts_at: datetime
    ends_at: datetime


def check_range(start: datetime, end: datetime) -> None:
    """Refuse a query range that is naive, empty or backwards, or longer than MAX_RANGE."""
    _require_aware("from", start)
    _require_aware("to", end)
    _require_order("from", start, "to", end)
    if end - start > MAX_RANGE:
        raise ValueError(f"the range from `from` to `to` may span at most {MAX_RANGE.days} days")


def available_slots(
    *,
    hours: Sequence[WeeklyHours],
    zone: ZoneInfo,
    busy: Sequence[Busy],
    duration: timedelta,
    grid: timedelta,
    start: datetime,
    end: datetime,
    earliest: datetime,
) -> list[Slot]:
    """The free slots of `duration` on the grid starting in [start, end), not before `earliest`."""
    _require_query(start, end)
    _require_aware("earliest", earliest)
    _require_positive("duration", duration)
    _require_positive("grid", grid)
    lower, end = max(start, earliest).astimezone(UTC), end.astimezone(UTC)
    if lower >= end:
        return []
    stretches = _stretches(hours, zone, lower, end)
    blocked = sorted(busy)  # by start: Busy is a (starts_at, ends_at) tuple in UTC
    return _slots(_free(stretches, blocked, duration, grid, lower, end), duration)


def working_intervals(
    hours: Sequence[WeeklyHours], zone: ZoneInfo, start: datetime, end: datetime
) -> list[Interval]:
    """The working time in [start, end): sorted, disjoint stretches, clipped to the range, UTC."""
    _require_query(start, end)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    return [(max(a, start), min(b, end)) for a, b in _stretches(hours, zone, start, end)]


def within_working_hours(
    hours: Sequence[WeeklyHours], zone: ZoneInfo, starts_at: datetime, ends_at: datetime
) -> bool:
    """Whether all of [starts_at, ends_at) lies in one stretch of work (for booking a time)."""
    _require_aware("starts_at", starts_at)
    _require_aware("ends_at", ends_at)
    _require_order("starts_at", starts_at, "ends_at", ends_at)
    stretches = _stretches(hours, zone, starts_at, ends_at)
    return any(a <= starts_at and ends_at <= b for a, b in stretches)


def weekly(starts_at: datetime, zone: ZoneInfo, weeks: int) -> list[datetime]:
    """`starts_at` and, for each of the `weeks - 1` weeks after, the same local time in
    `zone` (UTC): a weekly appointment at 10:00 stays at 10:00 across a clock change. A
    local time the clock skips that week is the instant of the jump, as for working hours."""
    _require_aware("starts_at", starts_at)
    local = starts_at.astimezone(zone)
    later = (
        _instant(local.date() + timedelta(weeks=week), local.time(), zone)
        for week in range(1, weeks)
    )
    return [starts_at.astimezone(UTC), *later]


# --- working time ------------------------------------------------------------------------

_DAY = timedelta(days=1)
_MIDNIGHT = time()
_Week = list[list[tuple[timedelta, timedelta, WeeklyHours]]]  # by weekday: start, end, entry


def _stretches(
    hours: Sequence[WeeklyHours], zone: ZoneInfo, start: datetime, end: datetime
) -> list[Interval]:
    """The whole stretches of work that overlap [start, end), sorted and disjoint, UTC."""
    week = _week(hours)
    # A day's ranges lie within its local day; a day either side covers offsets and folds.
    day = start.astimezone(zone).date() - _DAY
    last = end.astimezone(zone).date() + _DAY
    wall = datetime.combine(day, _MIDNIGHT, UTC)  # what the clock shows at `day`'s midnight
    offset = datetime.combine(day, _MIDNIGHT, zone).utcoffset()
    ranges: list[Interval] = []  # sorted by start: a later wall time is never an earlier instant
    append = ranges.append
    for _ in range((last - day).days + 1):
        following = day + _DAY
        next_offset = datetime.combine(following, _MIDNIGHT, zone).utcoffset()
        if offset == next_offset and offset is not None:
            # The clock keeps one offset from this midnight to the next, so it does not
            # change that day (tzdata never changes an offset twice within 48 hours; a test
            # checks every zone): a wall time is the midnight's instant plus the time since.
            midnight = wall - offset
            for since, until, _ in week[day.weekday()]:
                append((midnight + since, midnight + until))
        else:
            for *_, entry in week[day.weekday()]:
                append((_instant(day, entry.start, zone), _instant(day, entry.end, zone)))
        day, wall, offset = following, wall + _DAY, next_offset
    return [(a, b) for a, b in _merge(ranges) if a < end and start < b]


def _week(hours: Sequence[WeeklyHours]) -> _Week:
    """The ranges of each weekday, sorted, with their times since midnight."""
    week: _Week = [[] for _ in range(7)]
    for entry in hours:
        week[entry.weekday].append(
            (_since_midnight(entry.start), _since_midnight(entry.end), entry)
        )
    for entries in week:
        entries.sort(key=lambda item: (item[0], item[1]))
    return week


@lru_cache(maxsize=1024)
def _since_midnight(clock: time) -> timedelta:
    """How long after midnight `clock` is (cached: a week has few distinct times)."""
    return datetime.combine(date.min, clock) - datetime.min


def _instant(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The first instant at which the zone's clock shows `clock` on `day`, or a later time."""
    local = datetime.combine(day, clock, tzinfo=zone)  # fold=0: the first of a repeated time
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        return instant
    return _jump_over(local, zone)


def _jump_over(local: datetime, zone: ZoneInfo) -> datetime:
    """The instant the clock jumps over `local`, a wall time in the hour it skips."""
    # Read with the offsets after and before the jump, the wall time falls on either side of
    # it; halve that window down to the microsecond at which the clock first shows `local`
    # or later. Only a skipped time comes here, a few times a year.
    wall = local.replace(tzinfo=None)
    low, high = sorted((local.replace(fold=1).astimezone(UTC), local.astimezone(UTC)))
    while high - low > _TICK:
        middle = low + (high - low) // 2
        if middle.astimezone(zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Intervals sorted by start made disjoint: touching and overlapping ones become one,
    empty ones go."""
    merged: list[Interval] = []
    current: Interval | None = None
    for start, stop in intervals:
        if start >= stop:
            continue
        if current is None or start > current[1]:
            if current is not None:
                merged.append(current)
            current = (start, stop)
        elif stop > current[1]:
            current = (current[0], stop)
    if current is not None:
        merged.append(current)
    return merged


# --- slots -------------------------------------------------------------------------------

_NEVER = datetime.max.replace(tzinfo=UTC)


def _free(
    stretches: list[Interval],
    blocked: Sequence[Interval],
    duration: timedelta,
    grid: timedelta,
    lower: datetime,
    end: datetime,
) -> list[datetime]:
    """The starts of the free slots: one sweep over the stretches and the blocked intervals
    together. All in UTC with the one tzinfo, so that each comparison and step is a plain C
    operation: this loop is the hot path of `availableSlots`.

    Sorted by start is enough, overlapping or not: a slot clear of the interval in hand is
    clear of every later one (they start no sooner), and an interval is let go only once the
    slots have passed its end (they only move forward)."""
    starts: list[datetime] = []
    append = starts.append
    far = 8 * grid  # a clash further than this is skipped by division, nearer ones by steps
    following = iter([*blocked, (_NEVER, _NEVER)]).__next__  # a sentinel ends the sweep
    busy_from, busy_until = following()  # the blocked interval in hand: it only moves on
    latest = busy_from - duration  # the last start that ends before it
    final = end - _TICK  # the last start in the query's range
    for first, last in stretches:
        at = first if lower <= first else lower + (first - lower) % grid  # on the grid
        stop = last - duration  # the last start that fits in the stretch …
        if stop > final:  # … and in the range
            stop = final
        while at <= stop:
            if at <= latest:  # a run of free slots
                bound = latest if latest < stop else stop
                while at <= bound:
                    append(at)
                    at += grid
                continue
            if at < busy_until:  # a clash: on to the first point of the grid after it
                if busy_until - at > far:
                    at = busy_until + (first - busy_until) % grid
                else:
                    at += grid
                    while at < busy_until:
                        at += grid
                if at > stop:  # it may reach into the next stretch: keep it in hand
                    break
            busy_from, busy_until = following()  # that one is behind the slots for good
            latest = busy_from - duration
    return starts


_new_slot = partial(tuple.__new__, Slot)


def _slots(starts: list[datetime], duration: timedelta) -> list[Slot]:
    """The slots of `duration` from `starts`, made in C (no Python frame per slot)."""
    return list(map(_new_slot, zip(starts, map(add, starts, repeat(duration)), strict=True)))


# --- input -------------------------------------------------------------------------------


def _require_query(start: datetime, end: datetime) -> None:
    _require_aware("start", start)
    _require_aware("end", end)
    _require_order("start", start, "end", end)


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{name} must be a datetime with a time zone or UTC offset, got {value.isoformat()}"
        )


def _require_order(first: str, start: datetime, second: str, end: datetime) -> None:
    if start >= end:
        raise ValueError(
            f"{first} must be before {second}, got {start.isoformat()} and {end.isoformat()}"
        )


def _require_positive(name: str, value: timedelta) -> None:
    if value <= timedelta(0):
        raise ValueError(f"{name} must be positive, got {value}")

"""A staff member's schedule over GraphQL: their weekly working hours (the whole week
replaced at once) and time off, set by themselves or by admins (audited); every refusal
changes nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlmodel import col, select

from hom.audit.models import AuditEntry
from hom.bookings import service
from hom.bookings.models import Weekday
from hom.core.db import SessionMaker
from hom.core.unit_of_work import unit_of_work
from tests.bookings.conftest import user_of
from tests.bookings.factories import traces, viewer_of, week
from tests.catalog.factories import global_id
from tests.orders.order_support import Caller
from tests.support import error_codes

pytestmark = pytest.mark.usefixtures("features_learnt")

ERRORS = "errors { field message code }"
HOURS = "workingHours { weekday startTime endTime staff { fullName } }"
SET = (
    "mutation ($input: SetWorkingHoursInput!) "
    f"{{ setWorkingHours(input: $input) {{ {HOURS} {ERRORS} }} }}"
)
TIME_OFF = "timeOff { id startsAt endsAt reason staff { fullName } }"
ADD = (
    f"mutation ($input: AddTimeOffInput!) {{ addTimeOff(input: $input) {{ {TIME_OFF} {ERRORS} }} }}"
)
REMOVE = f"mutation ($id: ID!) {{ removeTimeOff(id: $id) {{ removedTimeOffId {ERRORS} }} }}"
# Anna works Monday 09:00-12:30 and 13:30-17:00, Tuesday 10:00-12:00 (given out of order).
WEEK = [
    {"weekday": "TUESDAY", "startTime": "10:00", "endTime": "12:00"},
    {"weekday": "MONDAY", "startTime": "13:30", "endTime": "17:00"},
    {"weekday": "MONDAY", "startTime": "09:00", "endTime": "12:30"},
]
AWAY = {"startsAt": "2030-07-01T00:00:00+02:00", "endsAt": "2030-07-15T00:00:00+02:00"}


def week_of(caller: Caller, hours: list[dict[str, str]]) -> dict[str, Any]:
    return {"input": {"staffId": global_id("Person", caller.user_id), "hours": hours}}


def time_off_of(caller: Caller, **given: Any) -> dict[str, Any]:
    return {"input": {"staffId": global_id("Person", caller.user_id), **AWAY, **given}}


def shown(hours: list[dict[str, str]], name: str = "Bea Berger") -> list[dict[str, Any]]:
    return [{**entry, "staff": {"fullName": name}} for entry in hours]


async def audited(session_maker: SessionMaker, prefix: str) -> list[tuple[str, dict[str, Any]]]:
    async with unit_of_work(session_maker) as session:
        entries = await session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))
        return [(e.action, e.changes) for e in entries if e.action.startswith(prefix)]


# --- working hours -------------------------------------------------------------------------


async def test_a_staff_member_sets_their_week(
    callers: dict[str, Caller], session_maker: SessionMaker
) -> None:
    staff = callers["staff"]
    body = await staff(SET, week_of(staff, WEEK))
    assert body["data"]["setWorkingHours"] == {
        "workingHours": shown([WEEK[2], WEEK[1], WEEK[0]]),  # by weekday, then start
        "errors": [],
    }
    shorter = [{"weekday": "FRIDAY", "startTime": "08:00", "endTime": "12:00"}]
    body = await staff(SET, week_of(staff, shorter))
    assert body["data"]["setWorkingHours"]["workingHours"] == shown(shorter)  # replaced
    body = await staff(SET, week_of(staff, []))
    assert body["data"]["setWorkingHours"] == {"workingHours": [], "errors": []}
    assert await audited(session_maker, "working_hours") == [
        (
            "working_hours.set",
            {
                "hours": {
                    "from": [],
                    "to": ["MONDAY 09:00-12:30", "MONDAY 13:30-17:00", "TUESDAY 10:00-12:00"],
                }
            },
        ),
        (
            "working_hours.set",
            {
                "hours": {
                    "from": ["MONDAY 09:00-12:30", "MONDAY 13:30-17:00", "TUESDAY 10:00-12:00"],
                    "to": ["FRIDAY 08:00-12:00"],
                }
            },
        ),
        ("working_hours.set", {"hours": {"from": ["FRIDAY 08:00-12:00"], "to": []}}),
    ]


async def test_ranges_may_touch_and_admins_set_anyones_week(callers: dict[str, Caller]) -> None:
    touching = [
        {"weekday": "SUNDAY", "startTime": "09:00", "endTime": "12:00"},
        {"weekday": "SUNDAY", "startTime": "12:00", "endTime": "23:59"},
        {"weekday": "SATURDAY", "startTime": "00:00", "endTime": "09:00"},
    ]
    body = await callers["admin"](SET, week_of(callers["staff"], touching))
    assert body["data"]["setWorkingHours"] == {
        "workingHours": shown([touching[2], touching[0], touching[1]]),
        "errors": [],
    }


OVERLAP = "SUNDAY 11:00-13:00 overlaps SUNDAY 09:00-12:00 (entry 0)"


@pytest.mark.parametrize(
    ("hours", "field", "message"),
    [
        (
            [
                {"weekday": "SUNDAY", "startTime": "09:00", "endTime": "12:00"},
                {"weekday": "MONDAY", "startTime": "11:00", "endTime": "13:00"},
                {"weekday": "SUNDAY", "startTime": "11:00", "endTime": "13:00"},
            ],
            "hours.2",
            OVERLAP,
        ),
        (
            [{"weekday": "MONDAY", "startTime": "10:00", "endTime": "10:00"}],
            "hours.0.endTime",
            "MONDAY 10:00-10:00 ends before it starts (a range is within one day)",
        ),
        (
            [{"weekday": "MONDAY", "startTime": "17:00", "endTime": "09:00"}],
            "hours.0.endTime",
            "MONDAY 17:00-09:00 ends before it starts (a range is within one day)",
        ),
        (
            [{"weekday": "MONDAY", "startTime": "09:00", "endTime": "10:00"}] * 51,
            "hours",
            "At most 50 ranges a week",
        ),
    ],
    ids=["overlap", "empty", "backwards", "too-many"],
)
async def test_a_week_that_cannot_be_is_refused_and_changes_nothing(
    callers: dict[str, Caller],
    session_maker: SessionMaker,
    hours: list[dict[str, str]],
    field: str,
    message: str,
) -> None:
    staff = callers["staff"]
    await staff(SET, week_of(staff, WEEK))
    before = await traces(session_maker)
    body = await staff(SET, week_of(staff, hours))
    assert body["data"]["setWorkingHours"] == {
        "workingHours": None,
        "errors": [{"field": field, "message": message, "code": "INVALID"}],
    }
    assert await traces(session_maker) == before


@pytest.mark.parametrize("time", ["9:00", "09:00:30", "09:00+01:00", "24:00", "noon", "09:60"])
async def test_a_time_is_hours_and_minutes_of_a_local_clock(
    callers: dict[str, Caller], session_maker: SessionMaker, time: str
) -> None:
    before = await traces(session_maker)
    staff = callers["staff"]
    hours = [{"weekday": "MONDAY", "startTime": time, "endTime": "23:00"}]
    body = await staff(SET, week_of(staff, hours))
    assert error_codes(body) == ["BAD_USER_INPUT"]
    literal = SET.replace("$input: SetWorkingHoursInput!", "$staff: ID!").replace(
        "input: $input",
        f'input: {{staffId: $staff, hours: [{{weekday: MONDAY, startTime: "{time}", '
        'endTime: "23:00"}]}',
    )
    body = await staff(literal, {"staff": global_id("Person", staff.user_id)})
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert await traces(session_maker) == before


@pytest.mark.parametrize(
    ("role", "target", "expected"),
    [
        ("anonymous", "staff", "UNAUTHENTICATED"),
        ("customer", "customer", "FORBIDDEN"),
        ("operator", "staff", "FORBIDDEN"),
        ("other staff", "staff", "INVALID on staffId"),
        ("admin", "customer", "INVALID on staffId"),  # not a staff member
        ("admin", "operator", "INVALID on staffId"),
    ],
)
async def test_whose_week_who_may_set(
    callers: dict[str, Caller],
    session_maker: SessionMaker,
    role: str,
    target: str,
    expected: str,
) -> None:
    before = await traces(session_maker)
    body = await callers[role](SET, week_of(callers[target], WEEK))
    if expected.startswith("INVALID"):
        answer = body["data"]["setWorkingHours"]
        assert answer["workingHours"] is None
        assert [(e["code"], e["field"]) for e in answer["errors"]] == [("INVALID", "staffId")]
    else:
        assert (body["data"], error_codes(body)) == (None, [expected])
    assert await traces(session_maker) == before


async def test_setting_the_week_of_nobody_is_not_found(callers: dict[str, Caller]) -> None:
    variables = {"input": {"staffId": global_id("Person", 10**9), "hours": WEEK}}
    body = await callers["admin"](SET, variables)
    assert body["data"]["setWorkingHours"] == {
        "workingHours": None,
        "errors": [{"field": "staffId", "message": "No such staff member", "code": "NOT_FOUND"}],
    }
    wrong = {"input": {"staffId": global_id("Service", 1), "hours": WEEK}}
    assert error_codes(await callers["admin"](SET, wrong)) == ["BAD_USER_INPUT"]


async def test_concurrent_weeks_of_one_staff_member_take_turns(
    callers: dict[str, Caller], session_maker: SessionMaker
) -> None:
    """Each request replaces the whole week; racing ones never mix (nor fail on the
    exclusion constraint): one of them is the week afterwards."""
    staff = await user_of(session_maker, callers["staff"])
    assert staff.id is not None
    weeks = [
        week(
            (Weekday.MONDAY, f"{9 + n:02d}:00", f"{12 + n:02d}:00"),
            (Weekday.FRIDAY, "09:00", "10:00"),
        )
        for n in range(6)
    ]

    async def set_week(hours: list[service.HoursRange]) -> None:
        async with unit_of_work(session_maker) as session:
            await service.set_working_hours(
                session, staff_id=staff.id or 0, hours=hours, actor=viewer_of(staff)
            )

    await asyncio.gather(*(set_week(hours) for hours in weeks))
    async with unit_of_work(session_maker) as session:
        rows = await service.working_hours_of(session, staff_id=staff.id)
    final = [service.HoursRange(Weekday.of(r.weekday), r.start_time, r.end_time) for r in rows]
    assert final in weeks


# --- time off ------------------------------------------------------------------------------


async def test_a_staff_member_adds_and_removes_their_time_off(
    callers: dict[str, Caller], session_maker: SessionMaker
) -> None:
    staff = callers["staff"]
    body = await staff(ADD, time_off_of(staff, reason="  Summer holiday "))
    added = body["data"]["addTimeOff"]
    time_off_id = added["timeOff"].pop("id")
    assert added == {
        "timeOff": {
            "startsAt": "2030-06-30T22:00:00+00:00",
            "endsAt": "2030-07-14T22:00:00+00:00",
            "reason": "Summer holiday",
            "staff": {"fullName": "Bea Berger"},
        },
        "errors": [],
    }
    body = await staff(REMOVE, {"id": time_off_id})
    assert body["data"]["removeTimeOff"] == {"removedTimeOffId": time_off_id, "errors": []}
    again = await staff(REMOVE, {"id": time_off_id})
    assert again["data"]["removeTimeOff"] == {
        "removedTimeOffId": None,
        "errors": [{"field": "id", "message": "No such time off", "code": "NOT_FOUND"}],
    }
    actions = [action for action, _ in await audited(session_maker, "time_off")]
    assert actions == ["time_off.add", "time_off.remove"]


@pytest.mark.parametrize(
    ("given", "field", "code"),
    [
        ({"endsAt": AWAY["startsAt"]}, "endsAt", "INVALID"),
        ({"endsAt": "2030-06-30T00:00:00+02:00"}, "endsAt", "INVALID"),
        ({"reason": "x" * 501}, "reason", "INVALID"),
    ],
)
async def test_time_off_that_cannot_be_is_refused_and_changes_nothing(
    callers: dict[str, Caller],
    session_maker: SessionMaker,
    given: dict[str, Any],
    field: str,
    code: str,
) -> None:
    before = await traces(session_maker)
    staff = callers["staff"]
    body = await staff(ADD, time_off_of(staff, **given))
    answer = body["data"]["addTimeOff"]
    assert (answer["timeOff"], [(e["field"], e["code"]) for e in answer["errors"]]) == (
        None,
        [(field, code)],
    )
    assert await traces(session_maker) == before


@pytest.mark.parametrize("moment", ["2030-07-01T00:00:00", "2030-07-01", "soon"])
async def test_a_moment_without_an_offset_is_bad_input(
    callers: dict[str, Caller], session_maker: SessionMaker, moment: str
) -> None:
    before = await traces(session_maker)
    staff = callers["staff"]
    body = await staff(ADD, time_off_of(staff, startsAt=moment))
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert await traces(session_maker) == before


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", "UNAUTHENTICATED"),
        ("customer", "FORBIDDEN"),
        ("operator", "FORBIDDEN"),
        ("other staff", "INVALID"),
        ("admin", "added"),
    ],
)
async def test_who_may_add_a_staff_members_time_off(
    callers: dict[str, Caller], session_maker: SessionMaker, role: str, expected: str
) -> None:
    before = await traces(session_maker)
    body = await callers[role](ADD, time_off_of(callers["staff"]))
    if expected == "added":
        assert body["data"]["addTimeOff"]["errors"] == []
        assert body["data"]["addTimeOff"]["timeOff"]["staff"] == {"fullName": "Bea Berger"}
        return
    if expected == "INVALID":
        assert body["data"]["addTimeOff"]["errors"][0]["code"] == "INVALID"
    else:
        assert (body["data"], error_codes(body)) == (None, [expected])
    assert await traces(session_maker) == before


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", "UNAUTHENTICATED"),
        ("customer", "FORBIDDEN"),
        ("operator", "FORBIDDEN"),
        ("other staff", "NOT_FOUND"),  # the same answer as for a missing one
        ("admin", "removed"),
    ],
)
async def test_who_may_remove_a_staff_members_time_off(
    callers: dict[str, Caller], session_maker: SessionMaker, role: str, expected: str
) -> None:
    staff = callers["staff"]
    time_off_id = (await staff(ADD, time_off_of(staff)))["data"]["addTimeOff"]["timeOff"]["id"]
    before = await traces(session_maker)
    body = await callers[role](REMOVE, {"id": time_off_id})
    if expected == "removed":
        assert body["data"]["removeTimeOff"] == {"removedTimeOffId": time_off_id, "errors": []}
        return
    if expected == "NOT_FOUND":
        assert body["data"]["removeTimeOff"]["errors"][0]["code"] == "NOT_FOUND"
    else:
        assert (body["data"], error_codes(body)) == (None, [expected])
    assert await traces(session_maker) == before

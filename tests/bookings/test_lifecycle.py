"""An appointment's life: the transition table's rules, and each step carried out against
the real database by every kind of caller (conditional updates, the cancellation window,
after-the-start steps, what the customer is told, the audit log); each refusal changes
nothing."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

import pytest

from hom.bookings import lifecycle, notices
from hom.bookings.lifecycle import Party
from hom.bookings.models import STAGE_CHECKS, Appointment, AppointmentStatus
from hom.core.errors import DomainError, ErrorCode
from hom.core.roles import Role
from hom.core.unit_of_work import SessionMaker, unit_of_work
from hom.core.viewer import Viewer
from hom.notifications.models import MailStatus
from tests.bookings.lifecycle_support import (
    START,
    WINDOW,
    Cast,
    Clock,
    a_cast,
    audit_log,
    fixed_clock,
    notifications_of,
    outbox,
    stored,
    take,
    traces,
)

S = AppointmentStatus
TARGETS = (S.CONFIRMED, S.CANCELLED, S.COMPLETED, S.NO_SHOW)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return fixed_clock(monkeypatch)


@pytest.fixture
async def cast(session_maker: SessionMaker) -> Cast:
    return await a_cast(session_maker)


# --- the table -----------------------------------------------------------------------------


def test_the_table_is_the_lifecycle_of_the_spec() -> None:
    assert set(lifecycle.TABLE) == {
        (S.PENDING, S.CONFIRMED),
        (S.CONFIRMED, S.COMPLETED),
        (S.CONFIRMED, S.NO_SHOW),
        (S.PENDING, S.CANCELLED),
        (S.CONFIRMED, S.CANCELLED),
    }


@pytest.mark.parametrize(("source", "target"), list(itertools.product(S, S)))
def test_a_pair_outside_the_table_has_no_step(
    source: AppointmentStatus, target: AppointmentStatus
) -> None:
    assert (lifecycle.step(source, target) is not None) == ((source, target) in lifecycle.TABLE)


def test_customers_may_only_cancel_and_only_within_the_window() -> None:
    theirs = {
        pair for pair, step in lifecycle.TABLE.items() if step.allows(frozenset({Party.CUSTOMER}))
    }
    assert theirs == {(S.PENDING, S.CANCELLED), (S.CONFIRMED, S.CANCELLED)}
    assert all(lifecycle.TABLE[pair].window_applies(frozenset({Party.CUSTOMER})) for pair in theirs)
    for giver in (Party.STAFF, Party.ADMIN):
        assert all(step.allows(frozenset({giver})) for step in lifecycle.STEPS)
        assert not any(
            step.window_applies(frozenset({giver, Party.CUSTOMER})) for step in lifecycle.STEPS
        )


def test_completed_and_no_show_only_after_the_start() -> None:
    later = {pair for pair, step in lifecycle.TABLE.items() if step.after_start}
    assert later == {(S.CONFIRMED, S.COMPLETED), (S.CONFIRMED, S.NO_SHOW)}


def test_every_step_sets_the_stamp_the_database_checks() -> None:
    checked = {stamp for stamp, _ in STAGE_CHECKS.values()} | {"cancelled_at"}
    assert {step.stamp for step in lifecycle.STEPS} == checked
    assert all(step.stamp in Appointment.model_fields for step in lifecycle.STEPS)


def viewer(user_id: int, role: Role) -> Viewer:
    return Viewer(user_id=user_id, role=role, sid="s", jti="j", expires_at=0)


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (viewer(1, Role.CUSTOMER), {Party.CUSTOMER}),
        (viewer(2, Role.STAFF), {Party.STAFF}),
        (viewer(3, Role.CUSTOMER), set()),
        (viewer(3, Role.STAFF), set()),
        (viewer(3, Role.OPERATOR), set()),
        (viewer(3, Role.ADMIN), {Party.ADMIN}),
        (viewer(2, Role.ADMIN), {Party.ADMIN, Party.STAFF}),
    ],
)
def test_what_an_actor_is_to_an_appointment(actor: Viewer, expected: set[Party]) -> None:
    appointment = Appointment(
        customer_id=1, staff_id=2, service_id=1, starts_at=START, ends_at=START
    )
    assert lifecycle.parties(actor, appointment) == expected


# --- every step, by every caller -----------------------------------------------------------

CALLERS = ("customer", "other customer", "staff", "other staff", "operator", "admin")
# Who may see the appointment at all; the others are told it does not exist.
SEES = {"customer", "staff", "admin"}
GIVERS = {"staff", "admin"}
SOURCE = {S.CONFIRMED: S.PENDING, S.CANCELLED: S.CONFIRMED, S.COMPLETED: S.CONFIRMED,
          S.NO_SHOW: S.CONFIRMED}  # fmt: skip


async def refused(
    session_maker: SessionMaker, target: AppointmentStatus, appointment: Appointment,
    actor: Viewer, **options: object,
) -> ErrorCode:  # fmt: skip
    """The step's refusal, checking that it changed nothing."""
    before = await traces(session_maker, appointment.id)
    with pytest.raises(DomainError) as caught:
        await take(session_maker, target, appointment, actor, **options)  # type: ignore[arg-type]
    assert await traces(session_maker, appointment.id) == before
    return caught.value.code


def expected_code(caller: str, target: AppointmentStatus) -> ErrorCode | None:
    if caller not in SEES:
        return ErrorCode.NOT_FOUND
    if caller in GIVERS or target is S.CANCELLED:
        return None
    return ErrorCode.INVALID_TRANSITION


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("caller", CALLERS)
async def test_each_step_by_each_caller(
    session_maker: SessionMaker, cast: Cast, clock: Clock, caller: str, target: AppointmentStatus
) -> None:
    appointment = await cast.appointment(session_maker, SOURCE[target])
    if lifecycle.TABLE[(SOURCE[target], target)].after_start:
        clock.now = START + timedelta(minutes=5)
    code = expected_code(caller, target)

    if code is not None:
        assert await refused(session_maker, target, appointment, cast.viewer(caller)) is code
        return
    step = lifecycle.TABLE[(SOURCE[target], target)]
    moved = await take(session_maker, target, appointment, cast.viewer(caller))
    assert moved.status == target.value
    assert getattr(moved, step.stamp) == clock.now
    assert (await stored(session_maker, appointment.id)).status == target.value
    audited = [(e.action, e.entity_id, e.actor_id) for e in await audit_log(session_maker)
               if e.action.startswith("appointment.")]  # fmt: skip
    by = cast.viewer(caller).user_id
    expected = [] if caller == "customer" else [(f"appointment.{step.action}", str(moved.id), by)]
    assert audited == expected


@pytest.mark.parametrize(("source", "target"), list(itertools.product(S, TARGETS)))
async def test_every_move_outside_the_table_is_an_invalid_transition(
    session_maker: SessionMaker,
    cast: Cast,
    clock: Clock,
    source: AppointmentStatus,
    target: AppointmentStatus,
) -> None:
    clock.now = START + timedelta(minutes=5)  # past the start: only the table decides
    appointment = await cast.appointment(session_maker, source)
    if (source, target) in lifecycle.TABLE:
        moved = await take(session_maker, target, appointment, cast.viewer("admin"))
        assert moved.status == target.value
    else:
        code = await refused(session_maker, target, appointment, cast.viewer("admin"))
        assert code is ErrorCode.INVALID_TRANSITION


async def test_a_missing_appointment_is_not_found(
    session_maker: SessionMaker, cast: Cast, clock: Clock
) -> None:
    ghost = Appointment(id=10**9, customer_id=0, staff_id=0, service_id=0, starts_at=START,
                        ends_at=START)  # fmt: skip
    for target in TARGETS:
        with pytest.raises(DomainError) as caught:
            await take(session_maker, target, ghost, cast.viewer("admin"))
        assert caught.value.code is ErrorCode.NOT_FOUND


# --- time ----------------------------------------------------------------------------------


@pytest.mark.parametrize("source", [S.PENDING, S.CONFIRMED])
async def test_a_customer_cancels_until_the_window_and_no_later(
    session_maker: SessionMaker, cast: Cast, clock: Clock, source: AppointmentStatus
) -> None:
    late = await cast.appointment(session_maker, source)
    on_time = await cast.appointment(session_maker, source, starts_at=START + timedelta(hours=2))
    clock.now = START - WINDOW + timedelta(seconds=1)

    code = await refused(session_maker, S.CANCELLED, late, cast.viewer("customer"))
    assert code is ErrorCode.CANCELLATION_WINDOW_CLOSED
    cancelled = await take(session_maker, S.CANCELLED, on_time, cast.viewer("customer"))
    assert cancelled.status == "CANCELLED"

    clock.now = START - WINDOW  # exactly the window: still in time
    assert (await take(session_maker, S.CANCELLED, late, cast.viewer("customer"))).status == (
        "CANCELLED"
    )


async def test_the_window_is_the_setting_given(
    session_maker: SessionMaker, cast: Cast, clock: Clock
) -> None:
    appointment = await cast.appointment(session_maker)
    clock.now = START - timedelta(hours=30)
    code = await refused(
        session_maker, S.CANCELLED, appointment, cast.viewer("customer"), window=timedelta(hours=48)
    )
    assert code is ErrorCode.CANCELLATION_WINDOW_CLOSED
    assert (
        await take(session_maker, S.CANCELLED, appointment, cast.viewer("customer"))
    ).status == ("CANCELLED")


@pytest.mark.parametrize("caller", ["staff", "admin"])
async def test_staff_and_admins_cancel_anytime(
    session_maker: SessionMaker, cast: Cast, clock: Clock, caller: str
) -> None:
    soon = await cast.appointment(session_maker, S.CONFIRMED)
    begun = await cast.appointment(session_maker, starts_at=START - timedelta(hours=1))
    clock.now = START - timedelta(minutes=10)
    for appointment in (soon, begun):
        moved = await take(session_maker, S.CANCELLED, appointment, cast.viewer(caller))
        assert moved.status == "CANCELLED"


@pytest.mark.parametrize("target", [S.COMPLETED, S.NO_SHOW])
@pytest.mark.parametrize("caller", ["staff", "admin"])
async def test_completed_and_no_show_only_once_it_has_begun(
    session_maker: SessionMaker, cast: Cast, clock: Clock, caller: str, target: AppointmentStatus
) -> None:
    appointment = await cast.appointment(session_maker, S.CONFIRMED)
    clock.now = START - timedelta(seconds=1)
    code = await refused(session_maker, target, appointment, cast.viewer(caller))
    assert code is ErrorCode.INVALID_TRANSITION

    clock.now = START
    assert (await take(session_maker, target, appointment, cast.viewer(caller))).status == target


# --- what it does besides ------------------------------------------------------------------


async def test_a_cancel_keeps_its_reason_and_a_too_long_one_is_refused(
    session_maker: SessionMaker, cast: Cast, clock: Clock
) -> None:
    appointment = await cast.appointment(session_maker, S.CONFIRMED)
    code = await refused(
        session_maker, S.CANCELLED, appointment, cast.viewer("staff"), reason="x" * 501
    )
    assert code is ErrorCode.INVALID

    moved = await take(
        session_maker, S.CANCELLED, appointment, cast.viewer("staff"), reason="  Ill today "
    )
    assert (moved.cancel_reason, moved.cancelled_at) == ("Ill today", clock.now)
    assert moved.confirmed_at is not None  # what it reached before stays
    [entry] = [e for e in await audit_log(session_maker) if e.action == "appointment.cancel"]
    assert entry.changes == {
        "status": {"from": "CONFIRMED", "to": "CANCELLED"},
        "reason": "Ill today",
    }
    assert (entry.entity, entry.entity_id, entry.actor_id) == (
        "Appointment",
        str(appointment.id),
        cast.staff.id,
    )


async def test_confirming_tells_the_customer(
    session_maker: SessionMaker, cast: Cast, clock: Clock
) -> None:
    appointment = await cast.appointment(session_maker)
    await take(session_maker, S.CONFIRMED, appointment, cast.viewer("staff"))

    [mail] = await outbox(session_maker)
    assert (mail.template, mail.recipient, mail.key) == (
        "booking_confirmed",
        cast.customer.email,
        f"appointment:{appointment.id}:booking_confirmed",
    )
    assert mail.context == {
        "appointment_id": appointment.id,
        "name": "Cem Customer",
        "service": "Haircut",
        "staff": "Bea Berger",
        "when": "Mon 6 May 2030, 10:00 (Europe/Berlin)",
    }
    [told] = await notifications_of(session_maker, cast.customer)
    assert (told.kind, told.title) == ("appointment.confirmed", "Appointment confirmed: Haircut")
    assert told.data == {"appointment_id": appointment.id, "starts_at": START.isoformat()}
    assert await notifications_of(session_maker, cast.staff) == []


@pytest.mark.parametrize(("caller", "staff_told"), [("customer", True), ("staff", False),
                                                     ("admin", True)])  # fmt: skip
async def test_cancelling_tells_the_customer_and_the_staff_member_unless_they_did_it(
    session_maker: SessionMaker, cast: Cast, clock: Clock, caller: str, staff_told: bool
) -> None:
    appointment = await cast.appointment(session_maker)
    await take(session_maker, S.CANCELLED, appointment, cast.viewer(caller))

    [mail] = await outbox(session_maker)
    assert (mail.template, mail.recipient) == ("booking_cancelled", cast.customer.email)
    [told] = await notifications_of(session_maker, cast.customer)
    assert told.kind == "appointment.cancelled"
    staff = [(n.kind, n.title) for n in await notifications_of(session_maker, cast.staff)]
    expected = [("appointment.cancelled", "Cancelled: Cem Customer, Haircut")]
    assert staff == (expected if staff_told else [])


async def test_cancelling_cancels_the_pending_reminders(
    session_maker: SessionMaker, cast: Cast, clock: Clock
) -> None:
    appointment = await cast.appointment(session_maker)
    async with unit_of_work(session_maker) as session:
        await notices.booked(session, appointments=[appointment])
    await take(session_maker, S.CANCELLED, appointment, cast.viewer("customer"))

    reminders = {
        m.key: m.status for m in await outbox(session_maker) if m.template == "appointment_reminder"
    }
    assert reminders == {
        notices.reminder_key(appointment.id or 0, "24h"): MailStatus.CANCELLED,
        notices.reminder_key(appointment.id or 0, "1h"): MailStatus.CANCELLED,
    }


async def test_completing_and_no_shows_tell_nobody(
    session_maker: SessionMaker, cast: Cast, clock: Clock
) -> None:
    came = await cast.appointment(session_maker, S.CONFIRMED)
    away = await cast.appointment(session_maker, S.CONFIRMED, START + timedelta(hours=1))
    clock.now = START + timedelta(hours=2)
    await take(session_maker, S.COMPLETED, came, cast.viewer("staff"))
    await take(session_maker, S.NO_SHOW, away, cast.viewer("admin"))
    assert await outbox(session_maker) == []
    assert await notifications_of(session_maker, cast.customer) == []


async def test_two_confirmations_at_once_one_wins(
    session_maker: SessionMaker, cast: Cast, clock: Clock
) -> None:
    appointment = await cast.appointment(session_maker)
    outcomes = await asyncio.gather(
        take(session_maker, S.CONFIRMED, appointment, cast.viewer("staff")),
        take(session_maker, S.CONFIRMED, appointment, cast.viewer("admin")),
        return_exceptions=True,
    )
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert [o.status for o in outcomes if isinstance(o, Appointment)] == ["CONFIRMED"]
    assert [e.code for e in errors if isinstance(e, DomainError)] == [ErrorCode.INVALID_TRANSITION]
    assert len(await outbox(session_maker)) == 1
    assert len(await notifications_of(session_maker, cast.customer)) == 1


async def test_an_appointment_moved_into_the_window_meanwhile_is_not_cancelled(
    session_maker: SessionMaker, cast: Cast, clock: Clock
) -> None:
    """The UPDATE judges the window on the row as it is then, not as it was read."""
    appointment = await cast.appointment(session_maker)
    assert appointment.id is not None
    clock.now = START - timedelta(hours=30)
    async with unit_of_work(session_maker) as session:
        read = await lifecycle.require_appointment(
            session, appointment_id=appointment.id, actor=cast.viewer("customer")
        )
        assert read.starts_at == START
    async with unit_of_work(session_maker) as session:
        row = await session.get(Appointment, appointment.id)  # moved after the read
        assert row is not None
        row.starts_at, row.ends_at = START - timedelta(hours=8), START - timedelta(hours=7)
    async with unit_of_work(session_maker) as session:
        taken = lifecycle.TABLE[(S.PENDING, S.CANCELLED)]
        actors = lifecycle.parties(cast.viewer("customer"), read)
        with pytest.raises(DomainError) as caught:
            await lifecycle._move(
                session,
                read,
                taken,
                now=clock.now,
                timing=lifecycle._timing(taken, actors, clock.now, WINDOW),
                reason=None,
            )
    assert caught.value.code is ErrorCode.INVALID_TRANSITION
    assert (await stored(session_maker, appointment.id)).status == "PENDING"

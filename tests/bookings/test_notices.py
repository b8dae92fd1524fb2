"""What customers and staff are told about an appointment (hom.bookings.notices): the
mails and notifications of a booking and a move, the reminders they queue, and the
reminders delivered by the mail worker with a fixed clock: at their time and not before,
never for a cancelled appointment, at the new time (and not the old) for a moved one."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col
from starlette.applications import Starlette

from hom.bookings import notices
from hom.bookings.models import Appointment, AppointmentStatus
from hom.core.unit_of_work import SessionMaker, unit_of_work
from hom.notifications.delivery import MailDelivery
from hom.notifications.models import MailStatus, OutboxMessage
from tests.bookings.lifecycle_support import (
    START,
    Cast,
    Clock,
    a_cast,
    fixed_clock,
    notifications_of,
    outbox,
    stored,
    take,
)
from tests.mail_fixtures import SmtpServer
from tests.support import count_statements

S = AppointmentStatus
H24, H1 = notices.REMINDERS["24h"], notices.REMINDERS["1h"]
SUBJECT = "Reminder: Haircut, {when}"
BERLIN_START = "Mon 6 May 2030, 10:00 (Europe/Berlin)"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return fixed_clock(monkeypatch)


@pytest.fixture
async def cast(session_maker: SessionMaker) -> Cast:
    return await a_cast(session_maker)


async def book(
    session_maker: SessionMaker, cast: Cast, *starts: datetime, by: int | None = None
) -> list[Appointment]:
    """Appointments written as they are, then `booked` as the booking does."""
    made = [await cast.appointment(session_maker, starts_at=at) for at in starts or (START,)]
    async with unit_of_work(session_maker) as session:
        await notices.booked(session, appointments=made, by=by)
    return made


async def move(
    session_maker: SessionMaker, appointment: Appointment, to: datetime, by: int | None = None
) -> None:
    """The move as rescheduleAppointment makes it: the row, then `rescheduled`."""
    length = appointment.ends_at - appointment.starts_at
    async with unit_of_work(session_maker) as session:
        await session.exec(
            update(Appointment)
            .where(col(Appointment.id) == appointment.id)
            .values(starts_at=to, ends_at=to + length)
        )
        moved = await session.get(Appointment, appointment.id, populate_existing=True)
        assert moved is not None
        await notices.rescheduled(
            session, appointment=moved, previous_starts_at=appointment.starts_at, by=by
        )


async def reminders(session_maker: SessionMaker) -> dict[str, tuple[str, datetime | None]]:
    """The reminders queued: key → (status, when it goes)."""
    return {
        str(m.key): (m.status, m.send_after)
        for m in await outbox(session_maker)
        if m.template == "appointment_reminder"
    }


def keys(appointment: Appointment) -> tuple[str, str]:
    assert appointment.id is not None
    return notices.reminder_key(appointment.id, "24h"), notices.reminder_key(appointment.id, "1h")


# --- booking and moving --------------------------------------------------------------------


async def test_a_booking_mails_the_customer_tells_both_and_queues_two_reminders(
    session_maker: SessionMaker, cast: Cast, clock: Clock
) -> None:
    [appointment] = await book(session_maker, cast)

    [created] = [m for m in await outbox(session_maker) if m.template == "booking_created"]
    assert (created.recipient, created.recipient_name) == (cast.customer.email, "Cem Customer")
    assert created.context == {
        "appointment_id": appointment.id,
        "name": "Cem Customer",
        "service": "Haircut",
        "staff": "Bea Berger",
        "when": BERLIN_START,
    }
    [told] = await notifications_of(session_maker, cast.customer)
    assert (told.kind, told.title, told.link) == (
        "appointment.booked",
        "Booking received: Haircut",
        "/bookings",
    )
    assert told.body == f"Haircut with Bea Berger, {BERLIN_START}"
    [staff] = await notifications_of(session_maker, cast.staff)
    assert (staff.kind, staff.title) == ("appointment.booked", "New booking: Haircut")
    # the staff member reads it in their own zone (Europe/Berlin too, here)
    assert staff.body == f"Haircut for Cem Customer, {BERLIN_START}"
    day, hour = keys(appointment)
    assert await reminders(session_maker) == {
        day: (MailStatus.PENDING, START - H24),
        hour: (MailStatus.PENDING, START - H1),
    }


async def test_the_staff_member_who_booked_is_not_told_of_it(
    session_maker: SessionMaker, cast: Cast, clock: Clock
) -> None:
    await book(session_maker, cast, by=cast.staff.id)
    assert await notifications_of(session_maker, cast.staff) == []
    assert len(await notifications_of(session_maker, cast.customer)) == 1


async def test_a_series_shares_one_mail_and_each_appointment_has_its_reminders(
    session_maker: SessionMaker, cast: Cast, clock: Clock
) -> None:
    weeks = [START + timedelta(weeks=n) for n in range(3)]
    series = await book(session_maker, cast, *weeks)

    [created] = [m for m in await outbox(session_maker) if m.template == "booking_created"]
    assert created.context["when"] == BERLIN_START  # the subject names the first only
    assert created.context["series"] == (
        "then weekly: 3 appointments until Mon 20 May 2030, 10:00 (Europe/Berlin)"
    )
    expected = {}
    for appointment in series:
        day, hour = keys(appointment)
        expected[day] = (MailStatus.PENDING, appointment.starts_at - H24)
        expected[hour] = (MailStatus.PENDING, appointment.starts_at - H1)
    assert await reminders(session_maker) == expected


# What telling of a booking costs, however many appointments it made: the customer and the
# staff member (one batch), the service, the mail, both notifications (one statement), every
# reminder (one statement).
BOOKED_STATEMENTS = 5


@pytest.mark.parametrize("weeks", [1, 12])
async def test_what_telling_of_a_booking_costs_does_not_grow_with_the_series(
    app: Starlette, session_maker: SessionMaker, cast: Cast, clock: Clock, weeks: int
) -> None:
    made = [
        await cast.appointment(session_maker, starts_at=START + timedelta(weeks=n))
        for n in range(weeks)
    ]
    async with unit_of_work(session_maker) as session:
        with count_statements(app.state.services.engine) as log:
            await notices.booked(session, appointments=made)
    assert log.count == BOOKED_STATEMENTS, log.statements
    assert len(await reminders(session_maker)) == 2 * weeks


async def test_a_reminder_whose_time_has_passed_is_not_queued(
    session_maker: SessionMaker, cast: Cast, clock: Clock
) -> None:
    clock.now = START - timedelta(hours=2)
    [soon] = await book(session_maker, cast)
    clock.now = START + timedelta(hours=1) - timedelta(minutes=30)
    [sooner] = await book(session_maker, cast, START + timedelta(hours=1))

    assert await reminders(session_maker) == {keys(soon)[1]: (MailStatus.PENDING, START - H1)}
    assert sooner.id is not None


async def test_a_move_mails_the_customer_and_moves_the_reminders(
    session_maker: SessionMaker, cast: Cast, clock: Clock
) -> None:
    [appointment] = await book(session_maker, cast)
    later = START + timedelta(days=2, hours=1)

    await move(session_maker, appointment, later)

    [moved] = [m for m in await outbox(session_maker) if m.template == "booking_rescheduled"]
    assert moved.context["when"] == "Wed 8 May 2030, 11:00 (Europe/Berlin)"
    assert moved.context["previous"] == BERLIN_START
    told = [(n.kind, n.body) for n in await notifications_of(session_maker, cast.customer)]
    assert told[-1] == (
        "appointment.rescheduled",
        f"Haircut with Bea Berger, Wed 8 May 2030, 11:00 (Europe/Berlin) (was {BERLIN_START})",
    )
    staff = await notifications_of(session_maker, cast.staff)
    assert staff[-1].title == "Appointment moved: Cem Customer"
    day, hour = keys(appointment)
    assert await reminders(session_maker) == {
        day: (MailStatus.PENDING, later - H24),
        hour: (MailStatus.PENDING, later - H1),
    }


async def test_a_move_into_the_last_day_drops_its_day_reminder_and_a_move_out_brings_it_back(
    session_maker: SessionMaker, cast: Cast, clock: Clock
) -> None:
    [appointment] = await book(session_maker, cast)
    day, hour = keys(appointment)
    soon = clock.now + timedelta(hours=5)

    await move(session_maker, appointment, soon)
    assert await reminders(session_maker) == {
        day: (MailStatus.CANCELLED, START - H24),
        hour: (MailStatus.PENDING, soon - H1),
    }

    await move(session_maker, (await stored(session_maker, appointment.id)), START)
    assert await reminders(session_maker) == {
        day: (MailStatus.PENDING, START - H24),
        hour: (MailStatus.PENDING, START - H1),
    }


# --- reminders delivered by the worker -----------------------------------------------------


def subjects(smtp: SmtpServer) -> list[str]:
    return [str(mail.message["Subject"]).strip() for mail in smtp.mailbox.received]


async def deliver_at(outbox_worker: MailDelivery, clock: Clock, at: datetime) -> int:
    clock.now = at
    return await outbox_worker.drain()


@pytest.fixture
def worker(outbox_worker: MailDelivery, clock: Clock) -> MailDelivery:
    outbox_worker.clock = clock
    return outbox_worker


async def test_reminders_are_delivered_at_their_time_and_not_before(
    session_maker: SessionMaker, cast: Cast, clock: Clock, smtp: SmtpServer, worker: MailDelivery
) -> None:
    await book(session_maker, cast)
    assert await worker.drain() == 1
    assert subjects(smtp) == [f"Your booking is received: Haircut, {BERLIN_START}"]
    reminder = SUBJECT.format(when=BERLIN_START)

    assert await deliver_at(worker, clock, START - H24 - timedelta(seconds=1)) == 0
    assert await deliver_at(worker, clock, START - H24) == 1
    assert subjects(smtp)[-1] == reminder
    assert await deliver_at(worker, clock, START - H1 - timedelta(seconds=1)) == 0
    assert await deliver_at(worker, clock, START - H1) == 1
    assert subjects(smtp)[1:] == [reminder, reminder]
    [to] = smtp.mailbox.received[-1].message["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Cem Customer", cast.customer.email)
    assert {status for status, _ in (await reminders(session_maker)).values()} == {MailStatus.SENT}


async def test_no_reminder_is_delivered_for_a_cancelled_appointment(
    session_maker: SessionMaker, cast: Cast, clock: Clock, smtp: SmtpServer, worker: MailDelivery
) -> None:
    [appointment] = await book(session_maker, cast)
    await take(session_maker, S.CANCELLED, appointment, cast.viewer("customer"))

    await deliver_at(worker, clock, START - H24)
    await deliver_at(worker, clock, START - H1)
    # One drain sends both, side by side: they may arrive in either order.
    assert sorted(subjects(smtp)) == [
        f"Your appointment is cancelled: Haircut, {BERLIN_START}",
        f"Your booking is received: Haircut, {BERLIN_START}",
    ]
    statuses = {status for status, _ in (await reminders(session_maker)).values()}
    assert statuses == {MailStatus.CANCELLED}


async def test_a_reminder_for_an_appointment_cancelled_behind_its_back_is_dropped_when_due(
    session_maker: SessionMaker, cast: Cast, clock: Clock, smtp: SmtpServer, worker: MailDelivery
) -> None:
    """Its preparer looks the appointment up when it goes out: a cancel that raced the
    reminder (or missed it) still sends nothing."""
    [appointment] = await book(session_maker, cast)
    assert await worker.drain() == 1
    async with unit_of_work(session_maker) as session:
        await session.exec(
            update(Appointment)
            .where(col(Appointment.id) == appointment.id)
            .values(status=S.CANCELLED.value, cancelled_at=clock.now)
        )

    assert await deliver_at(worker, clock, START - H24) == 1  # claimed, prepared: nothing
    assert len(smtp.mailbox.received) == 1
    day, _ = keys(appointment)
    assert (await reminders(session_maker))[day][0] == MailStatus.CANCELLED


async def test_a_moved_appointment_is_reminded_at_its_new_time_only(
    session_maker: SessionMaker, cast: Cast, clock: Clock, smtp: SmtpServer, worker: MailDelivery
) -> None:
    [appointment] = await book(session_maker, cast)
    later = START + timedelta(days=2, hours=1)
    await move(session_maker, appointment, later)
    assert await worker.drain() == 2  # booked, moved
    moved = "Your appointment has moved: Haircut, Wed 8 May 2030, 11:00 (Europe/Berlin)"
    booked = f"Your booking is received: Haircut, {BERLIN_START}"
    assert sorted(subjects(smtp)) == [moved, booked]  # sent side by side: either order

    assert await deliver_at(worker, clock, START - H24) == 0  # the old times: nothing
    assert await deliver_at(worker, clock, START - H1) == 0
    assert await deliver_at(worker, clock, later - H24) == 1
    assert await deliver_at(worker, clock, later - H1) == 1
    new_time = SUBJECT.format(when="Wed 8 May 2030, 11:00 (Europe/Berlin)")
    assert subjects(smtp)[2:] == [new_time, new_time]


async def test_a_reminder_written_without_an_appointment_goes_as_it_is(
    session_maker: SessionMaker, clock: Clock, smtp: SmtpServer, worker: MailDelivery
) -> None:
    context = {"name": "Ada", "service": "Massage", "staff": "Bea", "when": "Mon 1 Dec, 10:00"}
    async with unit_of_work(session_maker) as session:
        session.add(
            OutboxMessage(
                template="appointment_reminder", recipient="ada@example.com", context=context
            )
        )
    assert await worker.drain() == 1
    assert subjects(smtp) == ["Reminder: Massage, Mon 1 Dec, 10:00"]

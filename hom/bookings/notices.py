"""What customers and staff are told about an appointment: mail through the outbox,
in-app notifications and the reminders 24 h and 1 h before the start, all written in the
transaction of the change they tell about (a change that rolls back told nobody anything).

Mail goes to the customer, with times in their zone (their profile's `timezone`). In-app
notifications go to the customer, and to the staff member when somebody else booked,
moved or cancelled one of theirs (`by`: who acted; None, somebody other than the staff
member).

Reminders are outbox mails queued with `send_after` and a key per appointment and
reminder (`reminder_key`), so that a cancellation cancels them and a reschedule moves
them while they are still pending; a reminder whose time has passed is not queued. The
reminder's preparer (`PREPARERS`) looks the appointment up when the mail goes out: one
cancelled meanwhile gets no mail, and the mail says where and when it is then.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from hom.accounts import service as accounts
from hom.bookings.models import LIVE, Appointment, AppointmentStatus, Service
from hom.core.clock import utcnow
from hom.notifications import service as notifications
from hom.notifications.service import Note, OutboxMessage, Prepared, Preparer, ScheduledMail

# How long before the start each reminder goes out, by its name in the key.
REMINDERS = {"24h": timedelta(hours=24), "1h": timedelta(hours=1)}
CREATED_MAIL = "booking_created"
CONFIRMED_MAIL = "booking_confirmed"
CANCELLED_MAIL = "booking_cancelled"
RESCHEDULED_MAIL = "booking_rescheduled"
REMINDER_MAIL = "appointment_reminder"
LINK = "/bookings"


def reminder_key(appointment_id: int, reminder: str) -> str:
    """The outbox key of one reminder of one appointment ("24h" or "1h")."""
    return f"appointment:{appointment_id}:reminder:{reminder}"


def when(at: datetime, zone: str) -> str:
    """An instant as people read it in `zone`: `Mon 6 May 2030, 10:00 (Europe/Berlin)`."""
    local = at.astimezone(ZoneInfo(zone))
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} ({zone})"


@dataclass(frozen=True)
class About:
    """An appointment with the people and the service a notice names."""

    appointment: Appointment
    customer: accounts.User
    staff: accounts.User
    service: Service

    @property
    def id(self) -> int:
        assert self.appointment.id is not None
        return self.appointment.id

    def mail_context(self, **extra: Any) -> dict[str, Any]:
        """The appointment mails' context (`templates/booking_*`, `appointment_reminder`)."""
        return {
            "appointment_id": self.id,
            "name": self.customer.full_name,
            "service": self.service.name,
            "staff": self.staff.full_name,
            "when": when(self.appointment.starts_at, self.customer.timezone),
            **extra,
        }

    def data(self) -> dict[str, Any]:
        """What an in-app notification carries for clients."""
        starts_at = self.appointment.starts_at
        return {"appointment_id": self.id, "starts_at": starts_at.isoformat()}


async def about(session: AsyncSession, *, appointment: Appointment) -> About | None:
    """The appointment's customer, staff member and service (None if one is gone)."""
    customer, staff = await accounts.users_by_ids(
        session, ids=[appointment.customer_id, appointment.staff_id]
    )
    service = await session.get(Service, appointment.service_id)
    if customer is None or staff is None or service is None:
        return None
    return About(appointment, customer, staff, service)


# --- the events ----------------------------------------------------------------------------


async def booked(
    session: AsyncSession,
    *,
    appointments: Sequence[Appointment],
    by: int | None = None,
    known: About | None = None,
) -> None:
    """New appointments (one booking; a series shares one mail): the customer's mail and
    in-app notification, the staff member's notification, and each appointment's
    reminders. `known`: the first appointment's people and service as the booking read
    them (else they are read)."""
    if not appointments:
        return
    first = known or await about(session, appointment=appointments[0])
    if first is None:
        return
    series = _series_text(first, appointments)
    # The subject names the first appointment; the body says how the series goes on.
    extra: dict[str, Any] = {"series": series} if series else {}
    await _mail(session, first, CREATED_MAIL, **extra)
    told = f", {series}" if series else ""
    title = f"Booking received: {first.service.name}"
    notes = [_customer_note(first, "appointment.booked", title, told)]
    if by != first.staff.id:
        title = f"New booking: {first.service.name}"
        notes.append(_staff_note(first, "appointment.booked", title, told))
    await notifications.notify_all(session, notes=notes)
    together = [first, *(_same(first, a) for a in appointments[1:])]
    await _schedule_reminders(session, together, queued=False)


async def rescheduled(
    session: AsyncSession,
    *,
    appointment: Appointment,
    previous_starts_at: datetime,
    by: int | None = None,
) -> None:
    """An appointment moved: tell the customer (and the staff member), and move its
    pending reminders (those whose new time has passed are cancelled)."""
    found = await about(session, appointment=appointment)
    if found is None:
        return
    previous = when(previous_starts_at, found.customer.timezone)
    await _mail(session, found, RESCHEDULED_MAIL, keyed=False, previous=previous)
    note = f" (was {previous})"
    notes = [_customer_note(found, "appointment.rescheduled", "Appointment moved", note)]
    if by != found.staff.id:
        previous = when(previous_starts_at, found.staff.timezone)
        title = f"Appointment moved: {found.customer.full_name}"
        notes.append(_staff_note(found, "appointment.rescheduled", title, f" (was {previous})"))
    await notifications.notify_all(session, notes=notes)
    await _schedule_reminders(session, [found], queued=True)


async def confirmed(session: AsyncSession, *, appointment: Appointment) -> None:
    """An appointment was confirmed: tell the customer."""
    found = await about(session, appointment=appointment)
    if found is None:
        return
    await _mail(session, found, CONFIRMED_MAIL)
    title = f"Appointment confirmed: {found.service.name}"
    note = _customer_note(found, "appointment.confirmed", title)
    await notifications.notify_all(session, notes=[note])


async def cancelled(
    session: AsyncSession, *, appointment: Appointment, by: int | None = None
) -> None:
    """An appointment was cancelled: tell the customer (and the staff member when somebody
    else cancelled), and cancel its pending reminders."""
    assert appointment.id is not None
    for reminder in REMINDERS:
        await notifications.cancel_mail(session, key=reminder_key(appointment.id, reminder))
    found = await about(session, appointment=appointment)
    if found is None:
        return
    await _mail(session, found, CANCELLED_MAIL)
    title = f"Appointment cancelled: {found.service.name}"
    notes = [_customer_note(found, "appointment.cancelled", title)]
    if by != found.staff.id:
        title = f"Cancelled: {found.customer.full_name}, {found.service.name}"
        notes.append(_staff_note(found, "appointment.cancelled", title))
    await notifications.notify_all(session, notes=notes)


# --- mail, notifications, reminders --------------------------------------------------------


async def _mail(
    session: AsyncSession, found: About, template: str, *, keyed: bool = True, **extra: Any
) -> None:
    """One of the appointment mails to the customer; `keyed` by appointment and template
    for the events that happen once (a second one for the same event is a no-op)."""
    await notifications.enqueue_mail(
        session,
        to=found.customer.email,
        to_name=found.customer.full_name,
        template=template,
        context=found.mail_context(**extra),
        key=f"appointment:{found.id}:{template}" if keyed else None,
    )


def _customer_note(found: About, kind: str, title: str, note: str = "") -> Note:
    body = f"{found.service.name} with {found.staff.full_name}, "
    body += when(found.appointment.starts_at, found.customer.timezone) + note
    return _note(found, found.customer, kind, title, body)


def _staff_note(found: About, kind: str, title: str, note: str = "") -> Note:
    body = f"{found.service.name} for {found.customer.full_name}, "
    body += when(found.appointment.starts_at, found.staff.timezone) + note
    return _note(found, found.staff, kind, title, body)


def _note(found: About, user: accounts.User, kind: str, title: str, body: str) -> Note:
    assert user.id is not None
    return Note(user_id=user.id, kind=kind, title=title, body=body, link=LINK, data=found.data())


def _same(first: About, appointment: Appointment) -> About:
    """Another appointment of the same booking (same customer, staff member and service)."""
    return About(appointment, first.customer, first.staff, first.service)


def _series_text(first: About, appointments: Sequence[Appointment]) -> str:
    if len(appointments) < 2:
        return ""
    last = when(appointments[-1].starts_at, first.customer.timezone)
    return f"then weekly: {len(appointments)} appointments until {last}"


async def _schedule_reminders(
    session: AsyncSession, appointments: Sequence[About], *, queued: bool
) -> None:
    """Each reminder of each appointment at its time; one whose time has passed is not
    queued, and cancelled where it may have been (`queued`: the appointment moved)."""
    now = utcnow()
    due: list[ScheduledMail] = []
    for found in appointments:
        for reminder, ahead in REMINDERS.items():
            key = reminder_key(found.id, reminder)
            send_after = found.appointment.starts_at - ahead
            if send_after <= now:
                if queued:
                    await notifications.cancel_mail(session, key=key)
                continue
            context = found.mail_context(reminder=reminder)
            due.append(_reminder(found, key, send_after, context))
    await notifications.schedule_mails(session, mails=due)


def _reminder(
    found: About, key: str, send_after: datetime, context: dict[str, Any]
) -> ScheduledMail:
    return ScheduledMail(
        key=key,
        to=found.customer.email,
        to_name=found.customer.full_name,
        template=REMINDER_MAIL,
        send_after=send_after,
        context=context,
    )


# --- at send time --------------------------------------------------------------------------


async def _prepare_reminder(session: AsyncSession, message: OutboxMessage) -> Prepared | None:
    """The reminder as the appointment is now: none once it is cancelled or has begun, the
    start where it has moved to. A reminder written without an appointment goes as it is."""
    appointment_id = message.context.get("appointment_id")
    if appointment_id is None:
        return Prepared(message.context, message.recipient_name)
    appointment = await session.get(Appointment, int(appointment_id))
    if appointment is None or AppointmentStatus(appointment.status) not in LIVE:
        return None
    if appointment.starts_at <= utcnow():  # the worker was away: too late to remind
        return None
    found = await about(session, appointment=appointment)
    if found is None or not found.customer.is_active:
        return None
    context = found.mail_context(reminder=message.context.get("reminder"))
    return Prepared(context, to_name=found.customer.full_name, to=found.customer.email)


PREPARERS: Mapping[str, Preparer] = {REMINDER_MAIL: _prepare_reminder}

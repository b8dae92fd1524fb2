"""What customers and staff are told about an appointment: mail through the outbox,
in-app notifications and the reminders 24 h and 1 h before the start, all written in the
transaction of the change they tell about.

Reminders are outbox mails queued with `send_after` and a key per appointment and
reminder (`reminder_key`), so that a cancellation cancels them and a reschedule moves
them while they are still pending.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from hom.bookings.models import Appointment

# How long before the start each reminder goes out, by its name in the key.
REMINDERS = {"24h": timedelta(hours=24), "1h": timedelta(hours=1)}


def reminder_key(appointment_id: int, reminder: str) -> str:
    """The outbox key of one reminder of one appointment ("24h" or "1h")."""
    return f"appointment:{appointment_id}:reminder:{reminder}"


async def booked(session: AsyncSession, *, appointments: Sequence[Appointment]) -> None:
    """New appointments (one booking; a series shares one mail): the customer's mail and
    in-app notification, and each appointment's reminders."""
    # Interface in place; the mails, notifications and reminders land with the lifecycle.


async def rescheduled(
    session: AsyncSession, *, appointment: Appointment, previous_starts_at: datetime
) -> None:
    """An appointment moved: tell the customer, and move its pending reminders."""


async def confirmed(session: AsyncSession, *, appointment: Appointment) -> None:
    """An appointment was confirmed: tell the customer."""


async def cancelled(session: AsyncSession, *, appointment: Appointment) -> None:
    """An appointment was cancelled: tell the customer (and the staff member when the
    customer cancelled), and cancel its pending reminders."""

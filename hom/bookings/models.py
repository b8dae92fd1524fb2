"""Tables of the bookings: the services offered, who gives them, the staff's weekly hours
and time off, and appointments.

Working hours are local times on a weekday (0 Monday … 6 Sunday, as Python's
`date.weekday()`), read in the staff member's time zone (their profile's `timezone`);
time off and appointments are instants (timestamptz). Two invariants are the database's
own, through exclusion constraints over core range types (SPEC §1: no btree_gist, so a
staff member's id is the one-point range `int8range(staff_id, staff_id, '[]')`):

- a staff member's ranges of one weekday never overlap (touching is fine: 09-12, 12-17);
- a staff member's live appointments (PENDING, CONFIRMED) never overlap; a cancelled,
  completed or missed one blocks nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    Time,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlmodel import Field, SQLModel

from hom.core.columns import created_at_column, id_column, timestamp_column, updated_at_column
from hom.core.reasons import MAX_REASON

MIN_DURATION = 5
MAX_DURATION = 480
MAX_NAME = 120
MAX_NOTES = 1000
# Exclusion constraints have no entry in the naming convention: ex_<table>_<what>.
HOURS_OVERLAP = "ex_working_hours_overlap"
APPOINTMENT_OVERLAP = "ex_appointment_overlap"
# A weekday's times as timestamps of one fixed day, so that they make a core range type.
_DAY = "DATE '2001-01-01'"


class Weekday(StrEnum):
    """Monday first; `number` is what the tables store (Python's `date.weekday()`)."""

    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"

    @property
    def number(self) -> int:
        return list(Weekday).index(self)

    @classmethod
    def of(cls, index: int) -> Weekday:
        return list(cls)[index]


class AppointmentStatus(StrEnum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    COMPLETED = "COMPLETED"
    NO_SHOW = "NO_SHOW"
    CANCELLED = "CANCELLED"


# The statuses that hold the staff member's time (and that the exclusion constraint covers).
LIVE = (AppointmentStatus.PENDING, AppointmentStatus.CONFIRMED)


def one_of(column: str, values: Iterable[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


def _user(ondelete: str) -> ForeignKey:
    return ForeignKey("user_account.id", ondelete=ondelete)


def _staff_point() -> Any:
    """The staff member's id as a one-point range (what && compares without btree_gist)."""
    return func.int8range(text("staff_id"), text("staff_id"), text("'[]'"))


class Service(SQLModel, table=True):
    """Something a customer can book: how long it takes and what it costs."""

    __tablename__ = "service"
    __table_args__ = (
        Index("uq_service_name_lower", func.lower(text("name")), unique=True),
        # `services`: by name (the id breaks ties).
        Index("ix_service_name_id", "name", "id"),
        CheckConstraint(f"length(name) BETWEEN 1 AND {MAX_NAME}", name="name_length"),
        CheckConstraint(
            f"duration_minutes BETWEEN {MIN_DURATION} AND {MAX_DURATION}", name="duration_minutes"
        ),
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    name: str = Field(sa_column=Column(String(MAX_NAME), nullable=False))
    description: str = Field(
        default="", sa_column=Column(Text, nullable=False, server_default=text("''"))
    )
    duration_minutes: int = Field(sa_column=Column(Integer, nullable=False))
    price: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))
    currency: str = Field(
        default="EUR", sa_column=Column(String(3), nullable=False, server_default="EUR")
    )
    is_active: bool = Field(
        default=True, sa_column=Column(Boolean, nullable=False, server_default=text("true"))
    )
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())
    updated_at: datetime | None = Field(default=None, sa_column=updated_at_column())


class StaffService(SQLModel, table=True):
    """A staff member gives a service."""

    __tablename__ = "staff_service"
    __table_args__ = (
        # By service first: `Service.staff` and `staffMembers(serviceId:)`.
        PrimaryKeyConstraint("service_id", "staff_id", name="pk_staff_service"),
        Index("ix_staff_service_staff_id", "staff_id"),
    )

    service_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("service.id", ondelete="CASCADE"), primary_key=True)
    )
    staff_id: int = Field(sa_column=Column(BigInteger, _user("CASCADE"), primary_key=True))
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())


class WorkingHours(SQLModel, table=True):
    """One range of a staff member's week: a weekday, from `start_time` to `end_time`
    (local times, whole minutes; a day may have several ranges)."""

    __tablename__ = "working_hours"
    __table_args__ = (
        Index("ix_working_hours_staff_id_weekday_start_time", "staff_id", "weekday", "start_time"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("start_time < end_time", name="start_before_end"),
        CheckConstraint(
            "extract(second FROM start_time) = 0 AND extract(second FROM end_time) = 0",
            name="whole_minutes",
        ),
        ExcludeConstraint(
            (_staff_point(), "&&"),
            (func.int4range(text("weekday"), text("weekday"), text("'[]'")), "&&"),
            (
                func.tsrange(
                    text(f"{_DAY} + start_time"), text(f"{_DAY} + end_time"), text("'[)'")
                ),
                "&&",
            ),
            name=HOURS_OVERLAP,
            using="gist",
        ),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    staff_id: int = Field(sa_column=Column(BigInteger, _user("CASCADE"), nullable=False))
    weekday: int = Field(sa_column=Column(SmallInteger, nullable=False))
    start_time: time = Field(sa_column=Column(Time, nullable=False))
    end_time: time = Field(sa_column=Column(Time, nullable=False))


class TimeOff(SQLModel, table=True):
    """A staff member is away from `starts_at` to `ends_at` (exclusive)."""

    __tablename__ = "time_off"
    __table_args__ = (
        Index("ix_time_off_staff_id_starts_at_id", "staff_id", "starts_at", "id"),
        CheckConstraint("starts_at < ends_at", name="starts_before_ends"),
        CheckConstraint(f"length(reason) <= {MAX_REASON}", name="reason_length"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    staff_id: int = Field(sa_column=Column(BigInteger, _user("CASCADE"), nullable=False))
    starts_at: datetime = Field(sa_column=timestamp_column(nullable=False))
    ends_at: datetime = Field(sa_column=timestamp_column(nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())


S = AppointmentStatus
# Each stage's timestamp is set once the appointment has reached it.
STAGE_CHECKS = {
    "confirmed_at_set": ("confirmed_at", (S.CONFIRMED, S.COMPLETED, S.NO_SHOW)),
    "completed_at_set": ("completed_at", (S.COMPLETED,)),
    "no_show_at_set": ("no_show_at", (S.NO_SHOW,)),
}


def _reached(stamp: str, statuses: Iterable[AppointmentStatus]) -> str:
    return f"NOT ({one_of('status', statuses)}) OR {stamp} IS NOT NULL"


class Appointment(SQLModel, table=True):
    """A customer's appointment with a staff member for a service, `starts_at` to `ends_at`
    (exclusive). A recurring booking's appointments share a `series_id`."""

    __tablename__ = "appointment"
    __table_args__ = (
        # myAppointments, staffAppointments: by start (the id breaks ties).
        Index("ix_appointment_customer_id_starts_at_id", "customer_id", "starts_at", "id"),
        Index("ix_appointment_staff_id_starts_at_id", "staff_id", "starts_at", "id"),
        Index("ix_appointment_service_id", "service_id"),
        Index(
            "ix_appointment_series_id",
            "series_id",
            postgresql_where=text("series_id IS NOT NULL"),
        ),
        CheckConstraint(one_of("status", AppointmentStatus), name="status"),
        CheckConstraint("starts_at < ends_at", name="starts_before_ends"),
        CheckConstraint(f"length(notes) <= {MAX_NOTES}", name="notes_length"),
        *(
            CheckConstraint(_reached(stamp, statuses), name=name)
            for name, (stamp, statuses) in STAGE_CHECKS.items()
        ),
        CheckConstraint(
            "(status = 'CANCELLED') = (cancelled_at IS NOT NULL)", name="cancelled_at_set"
        ),
        CheckConstraint(
            "cancel_reason IS NULL OR status = 'CANCELLED'", name="cancel_reason_when_cancelled"
        ),
        ExcludeConstraint(
            (_staff_point(), "&&"),
            (func.tstzrange(text("starts_at"), text("ends_at"), text("'[)'")), "&&"),
            name=APPOINTMENT_OVERLAP,
            using="gist",
            where=text(one_of("status", LIVE)),
        ),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    customer_id: int = Field(sa_column=Column(BigInteger, _user("RESTRICT"), nullable=False))
    staff_id: int = Field(sa_column=Column(BigInteger, _user("RESTRICT"), nullable=False))
    service_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("service.id", ondelete="RESTRICT"), nullable=False)
    )
    starts_at: datetime = Field(sa_column=timestamp_column(nullable=False))
    ends_at: datetime = Field(sa_column=timestamp_column(nullable=False))
    status: str = Field(
        default=AppointmentStatus.PENDING.value,
        sa_column=Column(
            String(16), nullable=False, server_default=AppointmentStatus.PENDING.value
        ),
    )
    notes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    cancel_reason: str | None = Field(
        default=None, sa_column=Column(String(MAX_REASON), nullable=True)
    )
    series_id: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid, nullable=True))
    created_at: datetime | None = Field(default=None, sa_column=created_at_column())
    updated_at: datetime | None = Field(default=None, sa_column=updated_at_column())
    confirmed_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    completed_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    no_show_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    cancelled_at: datetime | None = Field(default=None, sa_column=timestamp_column())

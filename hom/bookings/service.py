"""Bookings' rules, the module other code calls: the offering (`hom.bookings.offering`:
services and who gives them), staff members (`hom.bookings.staff`), their schedules
(`hom.bookings.schedule`: weekly working hours, time off) and appointments' lifecycle
(`hom.bookings.lifecycle`: confirm, cancel, complete, no-show).

Plain async functions over a session; they never commit (the caller's transaction does)
and never import strawberry.
"""

from __future__ import annotations

from hom.bookings.lifecycle import cancel_appointment as cancel_appointment
from hom.bookings.lifecycle import complete_appointment as complete_appointment
from hom.bookings.lifecycle import confirm_appointment as confirm_appointment
from hom.bookings.lifecycle import mark_no_show as mark_no_show
from hom.bookings.models import Service as Service
from hom.bookings.models import TimeOff as TimeOff
from hom.bookings.models import Weekday as Weekday
from hom.bookings.models import WorkingHours as WorkingHours
from hom.bookings.offering import NewService as NewService
from hom.bookings.offering import ServiceChanges as ServiceChanges
from hom.bookings.offering import assign_staff as assign_staff
from hom.bookings.offering import create_service as create_service
from hom.bookings.offering import get_service as get_service
from hom.bookings.offering import gives_service as gives_service
from hom.bookings.offering import require_service as require_service
from hom.bookings.offering import unassign_staff as unassign_staff
from hom.bookings.offering import update_service as update_service
from hom.bookings.schedule import HoursRange as HoursRange
from hom.bookings.schedule import NewTimeOff as NewTimeOff
from hom.bookings.schedule import add_time_off as add_time_off
from hom.bookings.schedule import remove_time_off as remove_time_off
from hom.bookings.schedule import set_working_hours as set_working_hours
from hom.bookings.schedule import time_off_of as time_off_of
from hom.bookings.schedule import working_hours_of as working_hours_of
from hom.bookings.staff import is_staff_member as is_staff_member
from hom.bookings.staff import require_staff_member as require_staff_member

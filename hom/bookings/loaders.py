"""DataLoaders of the bookings: rows by id (the ones every path to them shares)."""

from __future__ import annotations

from hom.bookings.models import Appointment, Service, TimeOff, WorkingHours
from hom.core.graphql.relations import by_id_loader

service_by_id = by_id_loader(Service)
working_hours_by_id = by_id_loader(WorkingHours)
time_off_by_id = by_id_loader(TimeOff)
appointment_by_id = by_id_loader(Appointment)

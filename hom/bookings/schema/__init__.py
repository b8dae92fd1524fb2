"""The bookings' root fields: BookingsQuery (services, staff members, their schedules) and
BookingsMutation (the offering and the schedules); AppointmentsQuery and
AppointmentsMutation (appointments: booking them, their lifecycle, reading them);
AvailabilityQuery and BookingMutation (the free slots, booking and moving appointments)."""

from hom.bookings.schema.appointments import AppointmentsQuery
from hom.bookings.schema.booking import AvailabilityQuery, BookingMutation
from hom.bookings.schema.mutations import BookingsMutation
from hom.bookings.schema.queries import BookingsQuery

__all__ = [
    "AppointmentsQuery",
    "AvailabilityQuery",
    "BookingMutation",
    "BookingsMutation",
    "BookingsQuery",
]

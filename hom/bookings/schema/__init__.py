"""The bookings' root fields: BookingsQuery (services, staff members, their schedules) and
BookingsMutation (the offering and the schedules)."""

from hom.bookings.schema.mutations import BookingsMutation
from hom.bookings.schema.queries import BookingsQuery

__all__ = ["BookingsMutation", "BookingsQuery"]

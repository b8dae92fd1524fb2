"""Bookings: services, staff hours, slots, appointments (issue 20)."""

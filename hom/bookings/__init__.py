"""Bookings: the services offered, the staff who give them, their weekly hours and time
off, and appointments that cannot collide."""

from hom.core.domain import Domain

# What the domain brings to the app (see hom.core.domain); hom.domains gathers it.
DOMAIN = Domain(
    __name__,
    queries=("schema:BookingsQuery", "schema:AppointmentsQuery", "schema:AvailabilityQuery"),
    mutations=("schema:BookingsMutation", "schema:BookingMutation"),
    models="models",
    export="export:export_section",
    demo="demo:seed",
)

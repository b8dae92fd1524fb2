"""Who may read what of the bookings, as SQL over its rows (hom.core.rules)."""

from __future__ import annotations

from hom.core.rules import Rule, admins, flag, owner

# An inactive service exists only for the people who run the offering (admins), as an
# archived product does for those who edit the catalog.
SERVICES: Rule = flag("is_active") | admins
# A staff member's working hours and time off are theirs and the admins' (SPEC §6: own
# working hours); customers see what is free through the slots, never the schedule itself.
SCHEDULE: Rule = owner("staff_id") | admins
# An appointment is its customer's, its staff member's and the admins' (SPEC §6: own
# bookings, own appointments' status, all appointments); anyone else sees nothing of it,
# as if it did not exist. Operators run the warehouse, not the schedule: nothing either.
APPOINTMENTS: Rule = owner("customer_id") | owner("staff_id") | admins

"""Who may read what of the orders, as SQL over its rows (hom.core.rules)."""

from __future__ import annotations

from hom.core.roles import Role
from hom.core.rules import Rule, everyone, owner, roles

ORDER_READERS = (Role.OPERATOR, Role.ADMIN)
# An order is for its customer and for the shop (operators, admins; SPEC §6); anyone else
# sees nothing of it, as if it did not exist.
ORDERS: Rule = owner("user_id") | roles(*ORDER_READERS)
# A line is read only through its order (`Order.lines`), whose rule has already decided.
ORDER_LINES: Rule = everyone

"""An order's life in one table: which status may follow which, who may move it, which
timestamp the move sets, and what else it does (stock, mail, in-app notification, audit).

    PENDING_PAYMENT → PAID → FULFILLED → SHIPPED → DELIVERED
    PENDING_PAYMENT, PAID → CANCELLED

Pure data and rules, no database: `hom.orders.service` carries a step out as one
conditional UPDATE (`WHERE status = <from>`), then its effects, in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from hom.core.roles import Role
from hom.core.viewer import Viewer
from hom.orders.models import OrderStatus


class Party(StrEnum):
    """Who moves an order, as far as the table is concerned."""

    OWNER = "OWNER"  # the customer who placed it
    OPERATOR = "OPERATOR"  # operators and admins
    SYSTEM = "SYSTEM"  # the worker (unpaid orders expire)


class Stock(StrEnum):
    """What a step does to the stock the order holds reserved."""

    KEEP = "KEEP"
    SHIP = "SHIP"  # the reservation becomes SHIPMENT movements
    RELEASE = "RELEASE"  # the reservation is given back


@dataclass(frozen=True, kw_only=True)
class Step:
    source: OrderStatus
    target: OrderStatus
    action: str  # the audit action is `order.<action>`
    stamp: str  # the order's column set to the time of the step
    parties: frozenset[Party]
    stock: Stock = Stock.KEEP
    mail: str | None = None  # the outbox template the customer gets
    notice: bool = False  # whether the customer gets an in-app notification

    def allows(self, parties: Iterable[Party]) -> bool:
        return not self.parties.isdisjoint(parties)


S = OrderStatus
SHOP = frozenset({Party.OPERATOR})
ANYONE_CONCERNED = frozenset({Party.OWNER, Party.OPERATOR, Party.SYSTEM})

STEPS = (
    Step(source=S.PENDING_PAYMENT, target=S.PAID, action="pay", stamp="paid_at", parties=SHOP,
         notice=True),
    Step(source=S.PAID, target=S.FULFILLED, action="fulfill", stamp="fulfilled_at", parties=SHOP,
         stock=Stock.SHIP),
    Step(source=S.FULFILLED, target=S.SHIPPED, action="ship", stamp="shipped_at", parties=SHOP,
         notice=True),
    Step(source=S.SHIPPED, target=S.DELIVERED, action="deliver", stamp="delivered_at",
         parties=SHOP),
    # A customer may take back an order not paid yet; the worker expires unpaid ones.
    Step(source=S.PENDING_PAYMENT, target=S.CANCELLED, action="cancel", stamp="cancelled_at",
         parties=ANYONE_CONCERNED, stock=Stock.RELEASE, mail="order_cancelled", notice=True),
    Step(source=S.PAID, target=S.CANCELLED, action="cancel", stamp="cancelled_at", parties=SHOP,
         stock=Stock.RELEASE, mail="order_cancelled", notice=True),
)  # fmt: skip
TABLE: dict[tuple[OrderStatus, OrderStatus], Step] = {
    (step.source, step.target): step for step in STEPS
}
# How a refusal names a step ("it cannot be marked paid").
DONE = {
    S.PAID: "marked paid",
    S.FULFILLED: "fulfilled",
    S.SHIPPED: "shipped",
    S.DELIVERED: "delivered",
    S.CANCELLED: "cancelled",
}


def step(source: OrderStatus, target: OrderStatus) -> Step | None:
    """The step from `source` to `target`, None when the table has none."""
    return TABLE.get((source, target))


def parties(actor: Viewer | None, *, owner_id: int) -> frozenset[Party]:
    """What `actor` is to an order of `owner_id`'s; None is the system."""
    if actor is None:
        return frozenset({Party.SYSTEM})
    found = {Party.OPERATOR} if actor.has_role(Role.OPERATOR) else set()
    if actor.user_id == owner_id:
        found.add(Party.OWNER)
    return frozenset(found)


def audited(actor: Viewer | None) -> bool:
    """Operators' and admins' steps leave an audit entry (customers' and the system's do not)."""
    return actor is not None and actor.has_role(Role.OPERATOR)

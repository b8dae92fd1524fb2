"""What the customer is told about an order: mail through the outbox and in-app
notifications, both written in the transaction of the change they tell about (so a change
that rolls back never told anybody anything)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from hom.notifications import service as notifications
from hom.orders.models import Order, OrderLine, OrderStatus

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}
RECEIVED_MAIL = "order_received"
# The in-app notification per status an order reached: (kind, title, body); {number} is
# the order's.
NOTICES = {
    OrderStatus.PENDING_PAYMENT: ("order.received", "Order {number} received", "We have it."),
    OrderStatus.PAID: ("order.paid", "Order {number} paid", "Your payment has arrived."),
    OrderStatus.SHIPPED: ("order.shipped", "Order {number} shipped", "It is on its way."),
    OrderStatus.CANCELLED: ("order.cancelled", "Order {number} cancelled", "It is cancelled."),
}


def money(amount: Decimal, currency: str) -> str:
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{amount:.2f}" if symbol else f"{amount:.2f} {currency}"


def mail_context(order: Order, lines: Sequence[OrderLine], name: str) -> dict[str, Any]:
    """The order mails' context (`templates/order_*`)."""
    return {
        "name": name,
        "order": order.number,
        "total": money(order.total, order.currency),
        "lines": [
            {
                "name": line.name,
                "quantity": line.quantity,
                "price": money(line.line_total, order.currency),
            }
            for line in lines
        ],
    }


async def mail(
    session: AsyncSession,
    *,
    order: Order,
    lines: Sequence[OrderLine],
    template: str,
    to: str,
    name: str,
) -> None:
    """Queue one of the order mails; the key makes a second one for the same event a no-op."""
    await notifications.enqueue_mail(
        session,
        to=to,
        to_name=name,
        template=template,
        context=mail_context(order, lines, name),
        key=f"order:{order.id}:{template}",
    )


async def notify(session: AsyncSession, *, order: Order) -> None:
    """The in-app notification for the status the order has just reached."""
    kind, title, body = NOTICES[OrderStatus(order.status)]
    assert order.id is not None
    await notifications.notify(
        session,
        user_id=order.user_id,
        kind=kind,
        title=title.format(number=order.number),
        body=body,
        link=f"/orders/{order.number}",
        data={"order_id": order.id, "number": order.number, "status": order.status},
    )

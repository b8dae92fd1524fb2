"""The orders' part of `exportMyData`: the caller's orders with their lines, nobody else's."""

from __future__ import annotations

from typing import Any

from hom.core.unit_of_work import SessionMaker, unit_of_work
from hom.orders import export
from tests.orders.shop import a_customer, a_shop, place


async def exported(session_maker: SessionMaker, user_id: int) -> list[dict[str, Any]]:
    async with unit_of_work(session_maker) as session:
        return await export.export_orders(session, user_id=user_id)


async def test_the_export_holds_the_callers_orders_newest_first_with_their_lines(
    session_maker: SessionMaker,
) -> None:
    shop = await a_shop(session_maker, 10, 10)
    a, b = shop.products
    customer, other = await a_customer(session_maker), await a_customer(session_maker)
    first = await place(session_maker, customer, {a: 2, b: 1}, key="first")
    second = await place(session_maker, customer, {b: 3}, key="second")
    await place(session_maker, other, {a: 1})

    orders = await exported(session_maker, customer.user_id)

    assert [order["number"] for order in orders] == [second.number, first.number]
    assert orders[1]["total"] == {"amount": "30.70", "currency": "EUR"}
    assert orders[1]["status"] == "PENDING_PAYMENT"
    assert orders[1]["placedAt"] is not None
    assert orders[1]["paidAt"] is None
    assert [
        (line["quantity"], line["unitPrice"], line["lineTotal"]) for line in orders[1]["lines"]
    ] == [
        (2, {"amount": "9.90", "currency": "EUR"}, {"amount": "19.80", "currency": "EUR"}),
        (1, {"amount": "10.90", "currency": "EUR"}, {"amount": "10.90", "currency": "EUR"}),
    ]
    assert await exported(session_maker, 999_999) == []

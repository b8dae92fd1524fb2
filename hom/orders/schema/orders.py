"""OrdersQuery / OrdersMutation: thin resolvers over the orders' service and reads.

Reading: `myOrders` (yours), `order(id)` (yours; any for operators and admins; anyone
else's is null, as a missing one), `orders` (operators, admins). The compiled read path
answers the three from the same statements (`*_query` below) as their resolvers.
Writing: `checkout` and the lifecycle's steps, each in the request's transaction, a
refusal in the payload's `errors` with nothing changed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.core.graphql import compiled
from hom.core.graphql.payloads import mutate
from hom.core.graphql.permissions import IsAuthenticated, has_role, require_viewer
from hom.core.graphql.reading import counted
from hom.core.graphql.relations import present_one, present_page
from hom.core.graphql.relay import Connection, CountedConnection, decode_id
from hom.core.graphql.visibility import present
from hom.core.pagination import PageQuery
from hom.core.roles import Role
from hom.core.viewer import Reader, Viewer
from hom.orders import reads, service
from hom.orders.loaders import order_by_id
from hom.orders.models import Order
from hom.orders.types import (
    CancelOrderPayload,
    CheckoutInput,
    CheckoutPayload,
    DeliverOrderPayload,
    FulfillOrderPayload,
    MarkOrderPaidPayload,
    MyOrderFilterInput,
    OrderFilterInput,
    OrderPayload,
    OrderType,
    ShipOrderPayload,
)

RunsTheShop = has_role(Role.OPERATOR)
PayloadT = TypeVar("PayloadT", bound=OrderPayload)
Step = Callable[..., Awaitable[Order]]


def order_id_of(global_id: str, argument: str = "id") -> int:
    return decode_id(global_id, "Order", argument=argument)


def order_shown(reader: Reader) -> Callable[[Order], OrderType | None]:
    return lambda order: present(reader, OrderType, order)


def my_orders_query(
    reader: Reader,
    features: Any,
    *,
    first: int | None = None,
    after: str | None = None,
    filter: MyOrderFilterInput | None = None,
    last: int | None = None,
    before: str | None = None,
    owner: Any = None,
) -> PageQuery:
    """The page `myOrders` answers with: its resolver's (`owner`: the viewer's id) and the
    compiled path's (the viewer's id as the statement's parameter)."""
    criteria = (filter or MyOrderFilterInput()).to_filter()
    mine = compiled.viewer_id() if owner is None else owner
    return reads.orders_query(criteria, (first, after, last, before), owner=mine)


def orders_query(
    reader: Reader,
    features: Any,
    *,
    first: int | None = None,
    after: str | None = None,
    filter: OrderFilterInput | None = None,
    last: int | None = None,
    before: str | None = None,
) -> PageQuery:
    """The page `orders` answers with: its resolver's and the compiled path's."""
    criteria = (filter or OrderFilterInput()).to_filter()
    return reads.orders_query(criteria, (first, after, last, before))


def order_query(reader: Reader, features: Any, *, id: strawberry.ID) -> Any:
    """The row `order` answers with (the type's rule hides anyone else's)."""
    return reads.order_lookup(order_id=order_id_of(id))


@strawberry.type
class OrdersQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Your orders, newest first; `totalCount`: how many match the filter.",
        metadata=compiled.source(compiled.ConnectionSource(my_orders_query)),
    )
    async def my_orders(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        filter: MyOrderFilterInput | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> CountedConnection[OrderType]:
        viewer = await require_viewer(info)
        query = my_orders_query(
            viewer.reader,
            None,
            first=first,
            after=after,
            last=last,
            before=before,
            filter=filter,
            owner=viewer.user_id,
        )
        criteria = (filter or MyOrderFilterInput()).to_filter()
        async with info.context.db.session() as session:
            page = await reads.run_orders_query(session, query=query)
        size = counted(info, lambda s: reads.count_orders(s, filter=criteria, owner=viewer.user_id))
        found: CountedConnection[OrderType] = await present_page(info, OrderType, page, size)
        return found

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="An order by its id: yours, or (operators, admins) anyone's; null for "
        "an order that does not exist or that you may not see.",
        metadata=compiled.source(compiled.RowSource(order_query)),
    )
    async def order(self, info: strawberry.Info, id: strawberry.ID) -> OrderType | None:
        found = await info.context.loaders.get(order_by_id).load(order_id_of(id))
        return await present_one(info, OrderType, found)

    @strawberry.field(
        permission_classes=[RunsTheShop],
        description="Every customer's orders matching the filter, newest first (operators, "
        "admins).",
        metadata=compiled.source(compiled.ConnectionSource(orders_query)),
    )
    async def orders(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        filter: OrderFilterInput | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[OrderType]:
        reader = await info.context.reader()
        query = orders_query(
            reader, None, first=first, after=after, last=last, before=before, filter=filter
        )
        async with info.context.db.session() as session:
            page = await reads.run_orders_query(session, query=query)
        found: Connection[OrderType] = await present_page(info, OrderType, page)
        return found


async def _changed(
    info: strawberry.Info,
    payload: type[PayloadT],
    work: Callable[[AsyncSession, Viewer], Awaitable[Order]],
) -> PayloadT:
    """The payload of a change made by the viewer: the order after it, or the refusal."""
    viewer = await require_viewer(info)
    return await mutate(info, payload, lambda s: work(s, viewer), order_shown(viewer.reader))


async def _stepped(
    info: strawberry.Info, payload: type[PayloadT], take: Step, id: strawberry.ID
) -> PayloadT:
    """A step of the lifecycle (INVALID_TRANSITION in the payload when refused)."""
    order_id = order_id_of(id)
    return await _changed(info, payload, lambda s, v: take(s, order_id=order_id, actor=v))


@strawberry.type
class OrdersMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Order what your cart holds: stock is reserved for every line or none, "
        "prices are kept as they are now, and the cart is emptied. The same key again "
        "returns the same order. Needs a verified email.",
    )
    async def checkout(self, info: strawberry.Info, input: CheckoutInput) -> CheckoutPayload:
        context, key = info.context, input.idempotency_key
        return await _changed(
            info,
            CheckoutPayload,
            lambda s, viewer: service.check_out(
                s,
                redis=context.redis,
                keys=context.keys,
                user_id=viewer.user_id,
                idempotency_key=key,
            ),
        )

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Cancel an order: yours while unpaid; operators and admins also a paid "
        "one. Its reserved stock is released.",
    )
    async def cancel_order(
        self, info: strawberry.Info, id: strawberry.ID, reason: str | None = None
    ) -> CancelOrderPayload:
        order_id = order_id_of(id)
        return await _changed(
            info,
            CancelOrderPayload,
            lambda s, v: service.cancel_order(s, order_id=order_id, actor=v, reason=reason),
        )

    @strawberry.mutation(
        permission_classes=[RunsTheShop],
        description="Record that an unpaid order was paid (operators, admins).",
    )
    async def mark_order_paid(
        self, info: strawberry.Info, id: strawberry.ID
    ) -> MarkOrderPaidPayload:
        return await _stepped(info, MarkOrderPaidPayload, service.mark_order_paid, id)

    @strawberry.mutation(
        permission_classes=[RunsTheShop],
        description="A paid order leaves the warehouse: its reservation becomes shipments "
        "(operators, admins).",
    )
    async def fulfill_order(self, info: strawberry.Info, id: strawberry.ID) -> FulfillOrderPayload:
        return await _stepped(info, FulfillOrderPayload, service.fulfill_order, id)

    @strawberry.mutation(
        permission_classes=[RunsTheShop],
        description="A fulfilled order is on its way (operators, admins).",
    )
    async def ship_order(self, info: strawberry.Info, id: strawberry.ID) -> ShipOrderPayload:
        return await _stepped(info, ShipOrderPayload, service.ship_order, id)

    @strawberry.mutation(
        permission_classes=[RunsTheShop],
        description="A shipped order has arrived (operators, admins).",
    )
    async def deliver_order(self, info: strawberry.Info, id: strawberry.ID) -> DeliverOrderPayload:
        return await _stepped(info, DeliverOrderPayload, service.deliver_order, id)

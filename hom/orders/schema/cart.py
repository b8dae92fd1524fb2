"""CartQuery / CartMutation: thin resolvers over the cart (hom.orders.cart).

Every cart field is for signed-in users (UNAUTHENTICATED otherwise). Redis down: each
fails with SERVICE_UNAVAILABLE at its own path (the rest of a document answers).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession

from hom.core.errors import DomainError
from hom.core.graphql.compiled import executor_only
from hom.core.graphql.payloads import UserError
from hom.core.graphql.permissions import IsAuthenticated, require_viewer
from hom.core.graphql.relay import decode_id
from hom.core.graphql.selection import selects
from hom.orders import cart
from hom.orders.types import (
    AddToCartInput,
    AddToCartPayload,
    CartPayload,
    CartType,
    ClearCartPayload,
    RemoveFromCartPayload,
    UpdateCartItemInput,
    UpdateCartItemPayload,
    present_cart,
)

PayloadT = TypeVar("PayloadT", bound=CartPayload)
IN_REDIS = "the cart lives in Redis, not in a table"


def cart_store(info: strawberry.Info) -> cart.CartStore:
    context = info.context
    return cart.CartStore(context.redis, context.keys, context.settings.cart_ttl_days)


def product_id_of(global_id: strawberry.ID, argument: str) -> int:
    return decode_id(global_id, "Product", argument=argument)


async def changed(
    info: strawberry.Info,
    payload: type[PayloadT],
    change: Callable[[AsyncSession], Awaitable[cart.Lines]],
) -> PayloadT:
    """The payload of a cart change: the cart after it, or the rules' refusal (nothing
    changed). `change` reads the catalog (no transaction: Redis holds what changes)."""
    try:
        async with info.context.db.session() as session:
            lines = await change(session)
    except DomainError as error:
        return payload(errors=[UserError.of(error)])
    if not selects(info, "cart"):
        return payload()
    return payload(cart=await present_cart(info, lines, "cart"))


@strawberry.type
class CartQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Your cart (null, with an error at `myCart`, when signed out or when "
        "the cart's store is unavailable).",
        metadata=executor_only(IN_REDIS),
    )
    async def my_cart(self, info: strawberry.Info) -> CartType | None:
        viewer = await require_viewer(info)
        lines = await cart_store(info).lines(viewer.user_id)
        return await present_cart(info, lines)


@strawberry.type
class CartMutation:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Put a product in your cart; adds to its line when it has one "
        "(at most 99 per line and 50 lines).",
    )
    async def add_to_cart(self, info: strawberry.Info, input: AddToCartInput) -> AddToCartPayload:
        viewer, store = await require_viewer(info), cart_store(info)
        product_id = product_id_of(input.product_id, "input.productId")
        return await changed(
            info,
            AddToCartPayload,
            lambda s: cart.add_to_cart(
                s,
                store=store,
                user_id=viewer.user_id,
                product_id=product_id,
                quantity=input.quantity,
            ),
        )

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Set how many of a product in your cart (1 to 99).",
    )
    async def update_cart_item(
        self, info: strawberry.Info, input: UpdateCartItemInput
    ) -> UpdateCartItemPayload:
        viewer, store = await require_viewer(info), cart_store(info)
        product_id = product_id_of(input.product_id, "input.productId")
        return await changed(
            info,
            UpdateCartItemPayload,
            lambda s: cart.update_cart_item(
                s,
                store=store,
                user_id=viewer.user_id,
                product_id=product_id,
                quantity=input.quantity,
            ),
        )

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Take a product out of your cart (idempotent; works for a product that "
        "is archived or gone).",
    )
    async def remove_from_cart(
        self, info: strawberry.Info, product_id: strawberry.ID
    ) -> RemoveFromCartPayload:
        viewer, store = await require_viewer(info), cart_store(info)
        product = product_id_of(product_id, "productId")
        return await changed(
            info,
            RemoveFromCartPayload,
            lambda s: cart.remove_from_cart(
                store=store, user_id=viewer.user_id, product_id=product
            ),
        )

    @strawberry.mutation(permission_classes=[IsAuthenticated], description="Empty your cart.")
    async def clear_cart(self, info: strawberry.Info) -> ClearCartPayload:
        viewer, store = await require_viewer(info), cart_store(info)
        return await changed(
            info, ClearCartPayload, lambda s: cart.clear_cart(store=store, user_id=viewer.user_id)
        )

"""The orders' root fields: CartQuery / CartMutation (the cart, in Redis) and OrdersQuery /
OrdersMutation (checkout, orders and their lifecycle)."""

from hom.orders.schema.cart import CartMutation, CartQuery
from hom.orders.schema.orders import OrdersMutation, OrdersQuery

__all__ = ["CartMutation", "CartQuery", "OrdersMutation", "OrdersQuery"]

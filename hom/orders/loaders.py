"""DataLoaders of the orders: an order by id (the one every path to an order shares)."""

from __future__ import annotations

from hom.core.graphql.relations import by_id_loader
from hom.orders.models import Order

order_by_id = by_id_loader(Order)

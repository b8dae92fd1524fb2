"""The one Strawberry schema, assembled from the domains' query, mutation and subscription
mixins."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import strawberry

from hom.accounts.schema import AccountsMutation, AccountsQuery
from hom.audit.schema import AuditQuery
from hom.catalog.schema import (
    CatalogEngagementMutation,
    CatalogEngagementQuery,
    CatalogMutation,
    CatalogQuery,
)
from hom.core.config import Settings
from hom.core.graphql.schema import HomSchema, make_schema
from hom.core.graphql.server_info import CoreQuery
from hom.inventory.schema import InventoryMutation, InventoryQuery
from hom.notifications.schema import (
    NotificationsMutation,
    NotificationsQuery,
    NotificationsSubscription,
)


@strawberry.type
class Query(
    AccountsQuery,
    AuditQuery,
    CatalogQuery,
    CatalogEngagementQuery,
    InventoryQuery,
    NotificationsQuery,
    CoreQuery,
):
    """All read operations."""


@strawberry.type
class Mutation(
    AccountsMutation,
    CatalogMutation,
    CatalogEngagementMutation,
    InventoryMutation,
    NotificationsMutation,
):
    """All write operations."""


@strawberry.type
class Subscription(NotificationsSubscription):
    """All live operations (graphql-transport-ws)."""


def build_schema(
    settings: Settings,
    query: type[Any] = Query,
    mutation: type[Any] | None = Mutation,
    types: Iterable[type[Any]] = (),
    subscription: type[Any] | None = Subscription,
) -> HomSchema:
    """The schema; tests of the plumbing swap in their own root types."""
    return make_schema(settings, query, mutation, types, subscription)


def sdl() -> str:
    """The schema as SDL, as checked in at `schema.graphql`."""
    return build_schema(Settings()).as_str() + "\n"

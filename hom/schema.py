"""The one Strawberry schema, assembled from the query, mutation and subscription mixins
the domains declare (`hom.domains`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import strawberry

from hom.core.config import Settings
from hom.core.graphql.schema import HomSchema, make_schema
from hom.core.graphql.server_info import CoreQuery
from hom.domains import mutation_mixins, query_mixins, schema_types, subscription_mixins
from hom.export import ExportQuery


def root_type(name: str, mixins: list[type[Any]], doc: str) -> type[Any]:
    """A root type made of the domains' mixins, their fields in domain order."""
    return strawberry.type(type(name, tuple(mixins), {"__doc__": doc}))


def root_types() -> tuple[type[Any], type[Any], type[Any]]:
    """Query, Mutation and Subscription, of every domain's mixins."""
    return (
        root_type("Query", [*query_mixins(), ExportQuery, CoreQuery], "All read operations."),
        root_type("Mutation", mutation_mixins(), "All write operations."),
        root_type(
            "Subscription", subscription_mixins(), "All live operations (graphql-transport-ws)."
        ),
    )


Query, Mutation, Subscription = root_types()


def build_schema(
    settings: Settings,
    query: type[Any] = Query,
    mutation: type[Any] | None = Mutation,
    types: Iterable[type[Any]] | None = None,
    subscription: type[Any] | None = Subscription,
) -> HomSchema:
    """The schema; tests of the plumbing swap in their own root types."""
    extra = schema_types() if types is None else types
    return make_schema(settings, query, mutation, extra, subscription)


def sdl() -> str:
    """The schema as SDL, as checked in at `schema.graphql`."""
    return build_schema(Settings()).as_str() + "\n"

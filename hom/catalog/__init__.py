"""Catalog: categories, products, search, favorites, collections, product views."""

from hom.core.domain import Domain

# What the domain brings to the app (see hom.core.domain); hom.domains gathers it.
DOMAIN = Domain(
    __name__,
    queries=("schema:CatalogQuery", "schema:CatalogEngagementQuery"),
    mutations=("schema:CatalogMutation", "schema:CatalogEngagementMutation"),
    models="models",
    export="export:export_section",
    demo="demo:seed",
)

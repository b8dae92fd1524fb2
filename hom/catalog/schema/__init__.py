"""The catalog's root fields: CatalogQuery / CatalogMutation (categories, products) and
CatalogEngagementQuery / CatalogEngagementMutation (favorites, collections, views)."""

from hom.catalog.schema.catalog import CatalogMutation, CatalogQuery
from hom.catalog.schema.engagement import CatalogEngagementMutation, CatalogEngagementQuery

__all__ = [
    "CatalogEngagementMutation",
    "CatalogEngagementQuery",
    "CatalogMutation",
    "CatalogQuery",
]

"""Who may read what of the catalog, as SQL over its rows (hom.core.rules)."""

from __future__ import annotations

from hom.catalog.models import Visibility
from hom.core.roles import Role
from hom.core.rules import Rule, equals, everyone, flag, owner, roles
from hom.core.viewer import Reader

CATALOG_EDITORS = (Role.OPERATOR, Role.ADMIN)
EDITS_CATALOG = roles(*CATALOG_EDITORS)

CATEGORIES: Rule = everyone
# An archived product exists only for the people who edit the catalog.
PRODUCTS: Rule = flag("is_active") | EDITS_CATALOG
# A public collection is for everyone; a private one only for its owner (admins too do
# not see it: a collection is its owner's own list, SPEC §6).
COLLECTIONS: Rule = equals("visibility", Visibility.PUBLIC.value) | owner("owner_id")


def sees_archived(reader: Reader) -> bool:
    """Archived products exist only for the people who edit the catalog."""
    return reader.has_role(*CATALOG_EDITORS)

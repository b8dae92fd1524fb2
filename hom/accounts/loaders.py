"""DataLoaders of the accounts domain: one per relation, named for what it loads."""

from __future__ import annotations

from hom.accounts.models import User
from hom.core.graphql.relations import by_id_loader

user_by_id = by_id_loader(User)

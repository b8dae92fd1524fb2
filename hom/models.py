"""Imports every domain's tables so that SQLModel.metadata knows them all (Alembic, tests)."""

import hom.core.db  # noqa: F401  (applies the naming convention)
from hom.accounts import models as accounts  # noqa: F401
from hom.audit import models as audit  # noqa: F401
from hom.catalog import models as catalog  # noqa: F401
from hom.core import periodic_models as periodic  # noqa: F401
from hom.inventory import models as inventory  # noqa: F401
from hom.notifications import models as notifications  # noqa: F401

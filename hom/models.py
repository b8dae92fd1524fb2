"""Imports every domain's tables so that SQLModel.metadata knows them all (Alembic, tests)."""

import hom.core.db  # noqa: F401  (applies the naming convention)
from hom.core import periodic_models as periodic  # noqa: F401
from hom.domains import model_modules

MODULES = model_modules()

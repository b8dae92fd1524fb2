"""Imports every domain's tables so that SQLModel.metadata knows them all (Alembic, tests)."""

import hom.core.db  # noqa: F401  (applies the naming convention)

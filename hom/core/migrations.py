"""Alembic with the app's settings: upgrade, downgrade, and where the database stands."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


# Created only where the server offers their extension (pg_trgm, SPEC §1): the models
# do not declare them, and comparing models with the database leaves them out.
OPTIONAL_INDEXES = frozenset({"ix_product_name_trgm"})


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic's filter: everything but the optional indexes."""
    return not (type_ == "index" and name in OPTIONAL_INDEXES)


def alembic_config(db_url: str) -> Config:
    """An Alembic config for `db_url`, independent of the working directory."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["db_url"] = db_url
    return config


def upgrade(db_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(db_url), revision)


def downgrade(db_url: str, revision: str) -> None:
    command.downgrade(alembic_config(db_url), revision)


@lru_cache(maxsize=1)
def head_revisions() -> frozenset[str]:
    """The revisions the code expects; read from disk once (health probes ask often)."""
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    return frozenset(script.get_heads())


@dataclass(frozen=True)
class DatabaseState:
    current_database: str
    current_schema: str
    revisions: set[str]

    @property
    def at_head(self) -> bool:
        return self.revisions == head_revisions()

    @property
    def revision(self) -> str:
        return ",".join(sorted(self.revisions)) or "none"


async def database_state(connection: AsyncConnection) -> DatabaseState:
    """Which database and schema we are in, and which revision it is at."""
    row = (await connection.execute(text("SELECT current_database(), current_schema()"))).one()
    return DatabaseState(str(row[0]), str(row[1]), await current_revisions(connection))


async def current_revisions(connection: AsyncConnection) -> set[str]:
    try:
        async with connection.begin_nested():
            result = await connection.execute(text("SELECT version_num FROM alembic_version"))
    except ProgrammingError:
        return set()
    return {str(value) for value in result.scalars()}

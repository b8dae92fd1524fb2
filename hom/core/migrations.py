"""Alembic with the app's settings: upgrade, downgrade, and where the database stands."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


# Created only where the server offers their extension (pg_trgm, SPEC §1): the models
# do not declare them, and comparing models with the database leaves them out.
OPTIONAL_INDEXES = frozenset({"ix_product_name_trgm"})
_PLAIN_NAME = re.compile(r"\w+")


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


class RevisionError(Exception):
    """Alembic refused the revision asked for; the message is one line saying what to do."""


def upgrade(db_url: str, revision: str = "head") -> None:
    with _explained():
        _refuse_unknown(revision)
        command.upgrade(alembic_config(db_url), revision)


def downgrade(db_url: str, revision: str) -> None:
    with _explained():
        _refuse_unknown(revision)
        command.downgrade(alembic_config(db_url), revision)


@contextmanager
def _explained() -> Iterator[None]:
    """Alembic's refusal of a revision, as one line that also says what to name instead."""
    try:
        yield
    except CommandError as error:
        raise RevisionError(f"{error}; {known_revisions()}") from None


def check_revision(revision: str) -> None:
    """RevisionError for a plain name no script has, before anything starts or connects."""
    with _explained():
        _refuse_unknown(revision)


def _refuse_unknown(revision: str) -> None:
    """A plain name that no script has is refused before Alembic connects (and logs). The
    relative forms (`-1`, `+2`, `rev@head`) need the database: Alembic checks them."""
    if _PLAIN_NAME.fullmatch(revision):
        _scripts().get_revisions(revision)


def known_revisions() -> str:
    """What one may name instead: `name base or one of 0001 … 0009 (0009 is the head)`."""
    oldest_first = [script.revision for script in reversed(list(_scripts().walk_revisions()))]
    span = " … ".join(dict.fromkeys([oldest_first[0], oldest_first[-1]]))
    heads = ", ".join(sorted(head_revisions()))
    return f"name base or one of {span} ({heads} is the head)"


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    """The migration scripts, read from disk once (health probes ask for the head often)."""
    return ScriptDirectory(str(MIGRATIONS_DIR))


@lru_cache(maxsize=1)
def head_revisions() -> frozenset[str]:
    """The revisions the code expects."""
    return frozenset(_scripts().get_heads())


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

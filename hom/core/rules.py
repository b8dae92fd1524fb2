"""Who may read which rows: one rule per type, as SQL over its rows, and the same rule in Python.

A rule is built from a few parts — `everyone`, `roles(...)`, `admins`, `owner(column)`,
`flag(column)`, `equals(column, value)` — joined with `|`. `where(reader, row)` is its
SQL, which the compiled read path and the loaders filter with (Polar's readable
statement); `allows(reader, model)` answers the same question for one loaded row (the
objects a service or a mutation hands back). A part may depend on the reader's role,
decided when the SQL is built (compiled plans are shared by every reader of a role),
and on the reader's id, which the SQL takes as the `viewer_id()` parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, FromClause, bindparam, false, or_
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from hom.core.roles import Role
from hom.core.viewer import Reader

VIEWER_ID = "hom_viewer_id"


def viewer_id() -> BindParameter[int]:
    """The reader's user id as a parameter (null when signed out), filled in per request."""
    return bindparam(VIEWER_ID, type_=BigInteger, required=False)


def viewer_parameters(reader: Reader) -> dict[str, Any]:
    """The parameters a statement built with `viewer_id()` runs with, for this reader."""
    return {VIEWER_ID: reader.user_id}


class Rule:
    """A readability rule; see the module doc."""

    def constant(self, reader: Reader) -> bool | None:
        """True: every row; False: none; None: it depends on the row (`condition`)."""
        return None

    def condition(self, reader: Reader, row: FromClause) -> ColumnElement[bool]:
        raise NotImplementedError

    def allows(self, reader: Reader, model: Any) -> bool:
        raise NotImplementedError

    def where(self, reader: Reader, row: FromClause) -> ColumnElement[bool] | None:
        """The SQL condition on `row` (None: every row; `false()`: none)."""
        constant = self.constant(reader)
        if constant is None:
            return self.condition(reader, row)
        return None if constant else false()

    def __or__(self, other: Rule) -> Rule:
        return AnyOf((self, other))


@dataclass(frozen=True)
class Everyone(Rule):
    def constant(self, reader: Reader) -> bool | None:
        return True

    def allows(self, reader: Reader, model: Any) -> bool:
        return True


@dataclass(frozen=True)
class Roles(Rule):
    """Readers with one of `roles` (admins always)."""

    roles: tuple[Role, ...]

    def constant(self, reader: Reader) -> bool | None:
        return reader.has_role(*self.roles)

    def allows(self, reader: Reader, model: Any) -> bool:
        return reader.has_role(*self.roles)


@dataclass(frozen=True)
class Admins(Rule):
    def constant(self, reader: Reader) -> bool | None:
        return reader.is_admin

    def allows(self, reader: Reader, model: Any) -> bool:
        return reader.is_admin


@dataclass(frozen=True)
class Owner(Rule):
    """The reader is the user whose id is in `column`."""

    column: str

    def condition(self, reader: Reader, row: FromClause) -> ColumnElement[bool]:
        return row.c[self.column] == viewer_id()

    def allows(self, reader: Reader, model: Any) -> bool:
        return reader.is_user(getattr(model, self.column))


@dataclass(frozen=True)
class Flag(Rule):
    """Rows whose boolean `column` is true."""

    column: str

    def condition(self, reader: Reader, row: FromClause) -> ColumnElement[bool]:
        return row.c[self.column].is_(True)

    def allows(self, reader: Reader, model: Any) -> bool:
        return getattr(model, self.column) is True


@dataclass(frozen=True)
class Equals(Rule):
    """Rows whose `column` holds `value`."""

    column: str
    value: Any

    def condition(self, reader: Reader, row: FromClause) -> ColumnElement[bool]:
        condition: ColumnElement[bool] = row.c[self.column] == self.value
        return condition

    def allows(self, reader: Reader, model: Any) -> bool:
        return bool(getattr(model, self.column) == self.value)


@dataclass(frozen=True)
class AnyOf(Rule):
    """Rows any of `parts` allows."""

    parts: Sequence[Rule]

    def constant(self, reader: Reader) -> bool | None:
        constants = [part.constant(reader) for part in self.parts]
        if any(constant is True for constant in constants):
            return True
        return False if all(constant is False for constant in constants) else None

    def condition(self, reader: Reader, row: FromClause) -> ColumnElement[bool]:
        open_parts = [part for part in self.parts if part.constant(reader) is None]
        return or_(*(part.condition(reader, row) for part in open_parts))

    def allows(self, reader: Reader, model: Any) -> bool:
        return any(part.allows(reader, model) for part in self.parts)


everyone: Rule = Everyone()
admins: Rule = Admins()


def roles(*names: Role) -> Rule:
    return Roles(tuple(names))


def owner(column: str) -> Rule:
    return Owner(column)


def flag(column: str) -> Rule:
    return Flag(column)


def equals(column: str, value: Any) -> Rule:
    return Equals(column, value)

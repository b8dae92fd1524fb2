"""Who is calling (the viewer), and whom a response is read by (the reader)."""

from __future__ import annotations

from dataclasses import dataclass

from hom.core.roles import Role


@dataclass(frozen=True)
class Reader:
    """Whom a response is for: what visibility rules decide on.

    Usually the signed-in viewer; for a mutation that proved ownership without a
    session (registering, a mailed token), the account it acted on.
    """

    user_id: int | None = None
    is_admin: bool = False
    role: Role | None = None

    def has_role(self, *roles: Role) -> bool:
        """Reads with one of `roles` (admins always do)."""
        return self.is_admin or self.role in roles

    def is_user(self, user_id: int | None) -> bool:
        return self.user_id is not None and self.user_id == user_id

    def is_user_or_admin(self, user_id: int | None) -> bool:
        return self.is_admin or self.is_user(user_id)


ANONYMOUS = Reader()


@dataclass(frozen=True)
class Viewer:
    user_id: int
    role: Role
    sid: str
    jti: str
    expires_at: int

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles or self.role is Role.ADMIN

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def reader(self) -> Reader:
        return Reader(self.user_id, self.is_admin, self.role)

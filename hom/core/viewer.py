"""Who is calling: resolved once per request from the bearer token."""

from __future__ import annotations

from dataclasses import dataclass

from hom.core.roles import Role


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

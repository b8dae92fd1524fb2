"""Permission classes: every root field declares who may call it (STYLE rule 4).

The viewer is resolved once per request (`context.viewer()`), never once per field.
"""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from hom.core.graphql.errors import forbidden, unauthenticated
from hom.core.roles import Role
from hom.core.viewer import Viewer


class Public(BasePermission):
    """Explicitly open to everyone, anonymous callers included."""

    message = "Public"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return True


async def require_viewer(info: Any) -> Viewer:
    """The authenticated viewer, or UNAUTHENTICATED."""
    viewer: Viewer | None = await info.context.viewer()
    if viewer is None:
        raise unauthenticated()
    return viewer


async def require_fresh_viewer(context: Any) -> Viewer:
    """The viewer with their session and token checked anew, or UNAUTHENTICATED."""
    viewer: Viewer | None = await context.fresh_viewer()
    if viewer is None:
        raise unauthenticated()
    return viewer


class IsAuthenticated(BasePermission):
    """Any signed-in user."""

    message = "Authentication required"

    async def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        await require_viewer(info)
        return True


class HasLiveSession(BasePermission):
    """A signed-in user whose session is checked anew: for operations that outlive a
    connection's first check (a subscription on a websocket opened long ago)."""

    message = "Authentication required"

    async def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        await require_fresh_viewer(info.context)
        return True


class HasRole(BasePermission):
    roles: tuple[Role, ...] = ()
    message = "You are not allowed to do this"

    async def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        viewer = await require_viewer(info)
        if not viewer.has_role(*self.roles):
            raise forbidden()
        return True


def has_role(*roles: Role) -> type[BasePermission]:
    """A permission for users with one of `roles` (admins always pass)."""
    name = "HasRole" + "Or".join(role.value.title() for role in roles)
    return type(name, (HasRole,), {"roles": roles})


IsAdmin = has_role(Role.ADMIN)

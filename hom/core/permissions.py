"""Permission classes: every root field declares who may call it (STYLE rule 4)."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission


class Public(BasePermission):
    """Explicitly open to everyone, anonymous callers included."""

    message = "Public"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return True

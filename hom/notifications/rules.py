"""Who may read notifications (hom.core.rules)."""

from __future__ import annotations

from hom.core.rules import Rule, owner

# A notification is for its recipient only (admins included: it is their inbox).
NOTIFICATIONS: Rule = owner("user_id")

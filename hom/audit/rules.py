"""Who may read the audit log (hom.core.rules)."""

from __future__ import annotations

from hom.core.rules import Rule, admins

AUDIT_ENTRIES: Rule = admins

"""Who may read what of an account, as SQL over its rows (hom.core.rules)."""

from __future__ import annotations

from hom.core.rules import Rule, admins, everyone, owner

# An account's private fields are for its owner and for admins.
OWN_ACCOUNT: Rule = owner("id") | admins
OWN_SESSION: Rule = owner("user_id") | admins
# Someone's public face (Person) is for everyone.
PEOPLE: Rule = everyone

"""Accounts: users, roles, sessions, tokens, avatars."""

from hom.core.domain import Domain

# What the domain brings to the app (see hom.core.domain); hom.domains gathers it.
DOMAIN = Domain(
    __name__,
    queries=("schema:AccountsQuery",),
    mutations=("schema:AccountsMutation",),
    models="models",
    mail_preparers="mail:PREPARERS",
    export="export:export_section",
)

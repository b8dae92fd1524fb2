"""Audit: who changed what, when (every admin and operator mutation)."""

from hom.core.domain import Domain

# What the domain brings to the app (see hom.core.domain); hom.domains gathers it.
DOMAIN = Domain(
    __name__,
    queries=("schema:AuditQuery",),
    models="models",
    export="service:export_section",
)

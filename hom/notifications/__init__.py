"""Notifications: the mail outbox and in-app notifications."""

from hom.core.domain import Domain

# What the domain brings to the app (see hom.core.domain); hom.domains gathers it.
DOMAIN = Domain(
    __name__,
    queries=("schema:NotificationsQuery",),
    mutations=("schema:NotificationsMutation",),
    subscriptions=("schema:NotificationsSubscription",),
    models="models",
    jobs="jobs:jobs",
    export="service:export_section",
)

"""The outbox's metrics: what the worker did, and what waits in the table."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from hom.notifications.outbox import QueueDepth

MAIL_SENT = Counter("hom_mail_sent_total", "Mails the SMTP server accepted", ["template"])
MAIL_FAILED = Counter("hom_mail_failed_total", "Mails given up on", ["template"])
MAIL_RETRIED = Counter("hom_mail_retried_total", "Send attempts that will be retried", ["template"])
MAIL_SEND_SECONDS = Histogram(
    "hom_mail_send_seconds",
    "Time to hand one mail to the SMTP server",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
# Read from the table when /metrics is scraped; any process's latest reading will do.
OUTBOX_MESSAGES = Gauge(
    "hom_outbox_messages", "Outbox messages by status", ["status"], multiprocess_mode="mostrecent"
)
OUTBOX_OLDEST_DUE = Gauge(
    "hom_outbox_oldest_due_seconds",
    "How long the oldest due mail has waited to be sent",
    multiprocess_mode="mostrecent",
)


def show_depth(depth: QueueDepth) -> None:
    for status, count in depth.by_status.items():
        OUTBOX_MESSAGES.labels(status).set(count)
    OUTBOX_OLDEST_DUE.set(depth.oldest_due_seconds)

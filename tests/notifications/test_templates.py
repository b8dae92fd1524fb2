"""Every mail template renders: a one-line subject, a text body, an escaped HTML body."""

from __future__ import annotations

from typing import Any

import pytest

from hom.notifications.rendering import TEMPLATES, Envelope, MailRenderer

HOSTILE = "<script>alert(1)</script>\r\nBcc: x@example.com"
APPOINTMENT = {"name": HOSTILE, "service": "Haircut", "staff": "Bea", "when": "Mon 1 Dec, 10:00"}
ORDER = {
    "name": HOSTILE,
    "order": "A-1001",
    "total": "€42.00",
    "lines": [{"name": "Mug", "quantity": 2, "price": "€21.00"}],
}
CONTEXTS: dict[str, dict[str, Any]] = {
    "verify_email": {"name": HOSTILE, "token": "t0k3n"},
    "password_reset": {"name": HOSTILE, "token": "t0k3n"},
    "booking_created": APPOINTMENT | {"series": "then weekly: 3 appointments until " + HOSTILE},
    "booking_confirmed": APPOINTMENT,
    "booking_cancelled": APPOINTMENT,
    "booking_rescheduled": APPOINTMENT | {"previous": "Fri 28 Nov, 09:00"},
    "appointment_reminder": APPOINTMENT,
    "order_received": ORDER,
    "order_cancelled": ORDER,
}
RENDERER = MailRenderer(public_url="https://shop.example/", mail_from="Shop <shop@example.com>")


def test_every_template_has_a_sample() -> None:
    assert set(CONTEXTS) == TEMPLATES


@pytest.mark.parametrize("template", sorted(CONTEXTS))
def test_a_template_renders_safely(template: str) -> None:
    mail = RENDERER.render(template, CONTEXTS[template])
    assert mail.subject
    assert "\n" not in mail.subject
    assert "\r" not in mail.subject
    assert "<script>" not in mail.html
    assert "&lt;script&gt;" in mail.html
    assert "https://shop.example/" in mail.text
    message = RENDERER.message(Envelope("ada@example.com", HOSTILE, "outbox.7"), mail)
    assert message["Bcc"] is None
    assert message["Message-ID"] == "<outbox.7@example.com>"
    assert message["From"] == "Shop <shop@example.com>"


def test_a_missing_value_is_an_error_not_a_blank() -> None:
    with pytest.raises(Exception, match="token"):
        RENDERER.render("verify_email", {"name": "Ada"})

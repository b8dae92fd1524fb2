"""SMTP_URL's three ways to reach a server: plain, STARTTLS, TLS from the start."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller

from hom.notifications.rendering import Envelope, MailRenderer
from hom.notifications.transport import SmtpTransport, smtp_options
from tests.mail_fixtures import Mailbox, free_port

MAIL = MailRenderer(public_url="https://shop.example", mail_from="Shop <shop@example.com>")
CONTEXT = {"name": "Ada", "service": "Haircut", "staff": "Bea", "when": "Mon 1 Dec, 10:00"}


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def cafile(authority: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return str(path)


def server_context(authority: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.fixture(params=["starttls", "implicit"])
def tls_server(
    request: pytest.FixtureRequest, authority: trustme.CA
) -> Iterator[tuple[str, Mailbox, int]]:
    mailbox, port = Mailbox(), free_port()
    context = server_context(authority)
    if request.param == "starttls":
        options = {"tls_context": context, "require_starttls": True}
        scheme = "smtp+starttls"
    else:
        options = {"ssl_context": context}
        scheme = "smtps"
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    yield scheme, mailbox, port
    controller.stop()


async def test_mail_goes_out_over_tls_to_a_server_signed_by_the_named_ca(
    tls_server: tuple[str, Mailbox, int], cafile: str
) -> None:
    scheme, mailbox, port = tls_server
    transport = SmtpTransport.from_url(f"{scheme}://127.0.0.1:{port}?timeout=5&cafile={cafile}")
    envelope = Envelope("ada@example.com", "Ada", "outbox.1")
    await transport.send(MAIL.message(envelope, MAIL.render("appointment_reminder", CONTEXT)))
    [mail] = mailbox.received
    assert mail.message["Subject"] == "Reminder: Haircut, Mon 1 Dec, 10:00"


async def test_a_server_the_client_cannot_verify_gets_nothing(
    tls_server: tuple[str, Mailbox, int],
) -> None:
    scheme, mailbox, port = tls_server
    transport = SmtpTransport.from_url(f"{scheme}://127.0.0.1:{port}?timeout=5")
    envelope = Envelope("ada@example.com", "Ada", "outbox.1")
    with pytest.raises(Exception, match=r"(?i)certificate"):
        await transport.send(MAIL.message(envelope, MAIL.render("appointment_reminder", CONTEXT)))
    assert mailbox.received == []


def test_smtp_urls_map_onto_aiosmtplib() -> None:
    assert smtp_options("smtp://us%40er:p%3Ass@mail.example") == {
        "hostname": "mail.example",
        "port": 25,
        "username": "us@er",
        "password": "p:ss",
        "use_tls": False,
        "start_tls": None,
        "timeout": 30.0,
        "cert_bundle": None,
    }
    assert smtp_options("smtp+starttls://mail.example")["port"] == 587
    assert smtp_options("smtps://mail.example:2465")["port"] == 2465
    with pytest.raises(ValueError, match="smtp://"):
        smtp_options("http://mail.example")

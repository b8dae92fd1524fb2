"""A real SMTP server (aiosmtpd) for the tests, and a worker that delivers to it."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from pydantic import SecretStr
from starlette.applications import Starlette

from hom.core.config import Settings
from hom.notifications.delivery import MailDelivery
from hom.worker import mail_delivery

TOKEN = re.compile(r"token=([A-Za-z0-9_\-]+)")


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def text(self) -> str:
        body = self.message.get_body(("plain",))
        assert body is not None
        return str(body.get_content())

    @property
    def token(self) -> str:
        found = TOKEN.search(self.text)
        assert found, self.text
        return found.group(1)


@dataclass
class Mailbox:
    """aiosmtpd's handler: keeps what it accepts; `refuse` makes it answer with an error."""

    received: list[Received] = field(default_factory=list)
    refuse: str | None = None
    delay: float = 0.0  # seconds before answering DATA: a slow server
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.refuse:
            return self.refuse
        message = message_from_bytes(envelope.content, policy=default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"

    def to(self, address: str) -> list[Received]:
        return [
            mail for mail in self.received if address.lower() in map(str.lower, mail.recipients)
        ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpServer:
    """A real SMTP server on a fixed port, which a test may stop and start again."""

    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        self.url = f"smtp://127.0.0.1:{self.port}?timeout=5"
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def mail_settings_for(settings: Settings, smtp: SmtpServer, **overrides: Any) -> Settings:
    """Mail to the test server, with retries fast enough for a test."""
    values: dict[str, Any] = {
        "smtp_url": SecretStr(smtp.url),
        "public_url": "https://shop.example",
        "mail_retry_seconds": 0.01,
        "mail_retry_max_seconds": 0.05,
        "mail_max_attempts": 3,
    }
    return settings.model_copy(update=values | overrides)


@pytest.fixture
def mail_settings(settings: Settings, smtp: SmtpServer) -> Settings:
    return mail_settings_for(settings, smtp)


@pytest.fixture
def outbox_worker(app: Starlette, mail_settings: Settings) -> MailDelivery:
    """A worker over the app's database, delivering to the test's SMTP server."""
    return mail_delivery(mail_settings, app.state.services.session_maker, concurrency=4)

"""Mail templates: a subject, a text and an HTML body per template, rendered with Jinja2.

Each template is a folder under `templates/` holding `subject.txt`, `body.txt`
and `body.html`. HTML is autoescaped; the subject and the display name are
folded onto one line, so no value can add a header.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from hom.core.clock import utcnow

TEMPLATE_DIR = Path(__file__).parent / "templates"
TEMPLATES = frozenset(
    path.name for path in TEMPLATE_DIR.iterdir() if path.is_dir() and not path.name.startswith("_")
)


def one_line(text: str) -> str:
    """Every run of whitespace, CR and LF included, becomes one space."""
    return " ".join(text.split())


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Envelope:
    """Who a mail goes to, and the id that makes a resent copy recognisable."""

    to: str
    to_name: str | None
    message_id: str


class MailRenderer:
    def __init__(self, *, public_url: str, mail_from: str) -> None:
        self.public_url = public_url.rstrip("/")
        self.mail_from = mail_from
        self._html = self._environment(autoescape=True)
        self._text = self._environment(autoescape=False)

    def _environment(self, *, autoescape: bool) -> Environment:
        environment = Environment(
            loader=FileSystemLoader(TEMPLATE_DIR),
            autoescape=autoescape,  # noqa: S701 - text bodies are not HTML
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )
        environment.globals["link"] = self.link
        return environment

    def link(self, path: str, **params: str) -> str:
        """An absolute URL under PUBLIC_URL."""
        query = f"?{urlencode(params)}" if params else ""
        return f"{self.public_url}{path}{query}"

    def render(self, template: str, context: dict[str, Any]) -> RenderedMail:
        def body(environment: Environment, name: str) -> str:
            return environment.get_template(f"{template}/{name}").render(context)

        return RenderedMail(
            subject=one_line(body(self._text, "subject.txt")),
            text=body(self._text, "body.txt"),
            html=body(self._html, "body.html"),
        )

    def message(self, envelope: Envelope, mail: RenderedMail) -> EmailMessage:
        message = EmailMessage(policy=SMTP)
        message["Subject"] = mail.subject
        message["From"] = self._sender()
        message["To"] = Address(
            display_name=one_line(envelope.to_name or ""), addr_spec=envelope.to
        )
        message["Date"] = format_datetime(utcnow())
        message["Message-ID"] = f"<{envelope.message_id}@{self._sender().domain}>"
        message.set_content(mail.text)
        message.add_alternative(mail.html, subtype="html")
        return message

    def _sender(self) -> Address:
        name, address = parseaddr(self.mail_from)
        return Address(display_name=one_line(name), addr_spec=address)

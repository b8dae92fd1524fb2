"""Handing a rendered mail to SMTP (aiosmtplib), or to the log in development."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
import structlog

log = structlog.get_logger("hom.mail")

# scheme: (default port, implicit TLS, STARTTLS: True required, None when offered)
SCHEMES: dict[str, tuple[int, bool, bool | None]] = {
    "smtp": (25, False, None),
    "smtp+starttls": (587, False, True),
    "smtps": (465, True, False),
}
DEFAULT_TIMEOUT = 30.0


class PermanentFailure(Exception):
    """The server refused the mail for good (5xx): retrying cannot help."""


class Transport(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True)
class SmtpTransport:
    """One connection per mail; `smtp://` upgrades to TLS when the server offers it."""

    options: dict[str, Any]

    @classmethod
    def from_url(cls, url: str) -> SmtpTransport:
        return cls(smtp_options(url))

    async def send(self, message: EmailMessage) -> None:
        try:
            await aiosmtplib.send(message, **self.options)
        except aiosmtplib.SMTPRecipientsRefused as error:
            if all(refusal.code >= 500 for refusal in error.recipients):
                raise PermanentFailure(str(error)) from error
            raise
        except aiosmtplib.SMTPResponseException as error:
            if error.code >= 500:
                raise PermanentFailure(f"{error.code} {error.message}") from error
            raise


def smtp_options(url: str) -> dict[str, Any]:
    """aiosmtplib's arguments from `smtp[s|+starttls]://user:pass@host:port?timeout=S&cafile=P`.

    `cafile` names the PEM bundle to trust instead of the system's (a private relay's CA).
    """
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise ValueError(
            "must look like smtp://user:pass@host:port (or smtps://, smtp+starttls://)"
        )
    port, use_tls, start_tls = SCHEMES[parts.scheme]
    query = parse_qs(parts.query)
    timeout = query.get("timeout", [str(DEFAULT_TIMEOUT)])[0]
    return {
        "hostname": parts.hostname,
        "port": parts.port or port,
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "use_tls": use_tls,
        "start_tls": start_tls,
        "timeout": float(timeout),
        "cert_bundle": query.get("cafile", [None])[0],
    }


class LogTransport:
    """Development without SMTP_URL: the rendered mail goes to the log, links and all."""

    async def send(self, message: EmailMessage) -> None:
        body = message.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        log.info(
            "dev mail (SMTP_URL is unset)", to=message["To"], subject=message["Subject"], body=text
        )

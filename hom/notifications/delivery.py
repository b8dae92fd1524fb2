"""Delivering the outbox: claim due mail, prepare, render, send, record; retry with backoff.

Delivery is at least once: a mail the SMTP server accepted is recorded right
after, and only a worker killed between the two sends it again (with the same
Message-ID, so mail clients can fold the copies).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from time import perf_counter
from typing import Any

import structlog

from hom.core.unit_of_work import SessionMaker, unit_of_work
from hom.core.waiting import sleep_unless_set
from hom.notifications import outbox
from hom.notifications.metrics import MAIL_FAILED, MAIL_RETRIED, MAIL_SEND_SECONDS, MAIL_SENT
from hom.notifications.models import OutboxMessage
from hom.notifications.rendering import Envelope, MailRenderer
from hom.notifications.service import Prepared, Preparer
from hom.notifications.transport import PermanentFailure, Transport

log = structlog.get_logger("hom.mail")
MAX_ERROR_LENGTH = 500


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)

    def delay(self, attempt: int) -> timedelta:
        """Exponential, with jitter so that a crowd of failures does not retry in step."""
        ceiling = min(self.cap, self.base * (1 << (attempt - 1)))
        jitter: float = random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret
        return ceiling * jitter


@dataclass
class MailDelivery:
    session_maker: SessionMaker
    transport: Transport
    renderer: MailRenderer
    preparers: Mapping[str, Preparer] = field(default_factory=dict)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    lease: timedelta = timedelta(minutes=5)
    concurrency: int = 4
    # What "due" is measured by: the database's clock, unless a test fixes one here.
    clock: Callable[[], datetime] | None = None

    async def run(self, stop: asyncio.Event, *, poll_seconds: float = 1.0) -> None:
        """Deliver until `stop` is set; the batch in hand is finished first, never dropped."""
        while not stop.is_set():
            try:
                delivered = await self.deliver_due()
            except Exception:  # the database is away: wait, and try again
                log.exception("outbox poll failed")
                delivered = 0
            if not delivered:
                await sleep_unless_set(stop, poll_seconds)

    async def deliver_due(self) -> int:
        """Claim up to `concurrency` due messages and deliver them at once; how many."""
        async with unit_of_work(self.session_maker) as session:
            now = None if self.clock is None else self.clock()
            batch = await outbox.claim_due(
                session, limit=self.concurrency, lease=self.lease, now=now
            )
        await asyncio.gather(*(self._deliver(message) for message in batch))
        return len(batch)

    async def drain(self) -> int:
        """Deliver until nothing is due (tests, and `hom worker --once`)."""
        total = 0
        while delivered := await self.deliver_due():
            total += delivered
        return total

    async def _deliver(self, message: OutboxMessage) -> None:
        try:
            mail = await self._compose(message)
        except Exception as error:
            log.exception("mail could not be prepared", message_id=message.id)
            await self._attempt_failed(message, error)
            return
        if mail is None:
            await self._record(outbox.record_cancelled, message, reason="nobody to write to")
            return
        await self._send(message, mail)

    async def _compose(self, message: OutboxMessage) -> EmailMessage | None:
        prepared: Prepared | None = Prepared(message.context, message.recipient_name)
        prepare = self.preparers.get(message.template)
        if prepare is not None:
            async with unit_of_work(self.session_maker) as session:
                prepared = await prepare(session, message)
        if prepared is None:
            return None
        rendered = self.renderer.render(message.template, prepared.context)
        to = prepared.to or message.recipient
        envelope = Envelope(to, prepared.to_name, f"outbox.{message.id}")
        return self.renderer.message(envelope, rendered)

    async def _send(self, message: OutboxMessage, mail: EmailMessage) -> None:
        started = perf_counter()
        try:
            await self.transport.send(mail)
        except PermanentFailure as error:
            await self._give_up(message, error)
        except Exception as error:  # refused for now, unreachable, timed out
            await self._attempt_failed(message, error)
        else:
            MAIL_SEND_SECONDS.observe(perf_counter() - started)
            MAIL_SENT.labels(message.template).inc()
            await self._record(outbox.record_sent, message)
            log.info("mail sent", message_id=message.id, template=message.template)

    async def _attempt_failed(self, message: OutboxMessage, error: Exception) -> None:
        if message.attempts >= self.retry.max_attempts:
            await self._give_up(message, error)
            return
        delay = self.retry.delay(message.attempts)
        MAIL_RETRIED.labels(message.template).inc()
        log.warning(
            "mail will be retried",
            message_id=message.id,
            attempt=message.attempts,
            retry_in=round(delay.total_seconds(), 1),
            error=_describe(error),
        )
        await self._record(outbox.record_retry, message, error=_describe(error), delay=delay)

    async def _give_up(self, message: OutboxMessage, error: Exception) -> None:
        MAIL_FAILED.labels(message.template).inc()
        log.error("mail failed for good", message_id=message.id, error=_describe(error))
        await self._record(outbox.record_failed, message, error=_describe(error))

    async def _record(
        self, record: Callable[..., Awaitable[bool]], message: OutboxMessage, **details: Any
    ) -> None:
        async with unit_of_work(self.session_maker) as session:
            if not await record(session, message=message, **details):
                log.warning("mail outcome not recorded: lease lost", message_id=message.id)


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH]

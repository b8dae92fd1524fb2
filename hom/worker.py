"""`hom worker`: delivers the mail outbox, and runs the domains' periodic jobs."""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta

import structlog

from hom.core.config import ConfigError, Settings
from hom.core.periodic import PeriodicScheduler, worker_identity
from hom.core.services import Services
from hom.core.unit_of_work import SessionMaker
from hom.domains import mail_preparers, periodic_jobs
from hom.notifications.delivery import MailDelivery, RetryPolicy
from hom.notifications.rendering import MailRenderer
from hom.notifications.transport import LogTransport, SmtpTransport, Transport

log = structlog.get_logger("hom.worker")


def transport_for(settings: Settings) -> Transport:
    """SMTP when SMTP_URL is set; in dev without it, the log."""
    if settings.smtp_url is not None:
        return SmtpTransport.from_url(settings.smtp_url.get_secret_value())
    if settings.is_dev:
        log.warning("SMTP_URL is not set: mail goes to the log (dev)")
        return LogTransport()
    raise ConfigError(f"SMTP_URL is required for the worker when APP_ENV={settings.app_env.value}")


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.mail_max_attempts,
        base=timedelta(seconds=settings.mail_retry_seconds),
        cap=timedelta(seconds=settings.mail_retry_max_seconds),
    )


def mail_delivery(
    settings: Settings, session_maker: SessionMaker, *, concurrency: int
) -> MailDelivery:
    return MailDelivery(
        session_maker=session_maker,
        transport=transport_for(settings),
        renderer=MailRenderer(
            public_url=settings.effective_public_url, mail_from=settings.mail_from
        ),
        preparers=mail_preparers(),
        retry=retry_policy(settings),
        lease=timedelta(seconds=settings.mail_lease_seconds),
        concurrency=concurrency,
    )


async def run_worker(settings: Settings, *, concurrency: int, stop: asyncio.Event) -> None:
    """Work until `stop` is set; what is in hand is finished first."""
    services = Services.create(settings)
    try:
        delivery = mail_delivery(settings, services.session_maker, concurrency=concurrency)
        scheduler = PeriodicScheduler(
            services.session_maker,
            periodic_jobs(services.session_maker),
            worker_id=worker_identity(),
        )
        log.info("worker started", concurrency=concurrency)
        await asyncio.gather(
            delivery.run(stop, poll_seconds=settings.worker_poll_seconds), scheduler.run(stop)
        )
    finally:
        await services.close()
        log.info("worker stopped")


def serve_worker(settings: Settings, *, concurrency: int) -> None:
    """Run until SIGTERM or SIGINT (Ctrl-C)."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await run_worker(settings, concurrency=concurrency, stop=stop)

    asyncio.run(main())

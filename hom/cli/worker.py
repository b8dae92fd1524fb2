"""`hom worker`: the process that delivers the mail outbox."""

from __future__ import annotations

import sys

import click

from hom.cli.backing import backing_services, prepare_database, settings_or_exit
from hom.core.config import ConfigError


@click.command()
@click.option(
    "--concurrency",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Mails sent at once.",
)
@click.option("--metrics-port", type=click.IntRange(1, 65535), help="Serve /metrics on this port.")
def worker(concurrency: int, metrics_port: int | None) -> None:
    """Deliver the mail outbox (SMTP_URL; in dev without it, mail goes to the log).

    Several workers may run at once: each message goes out through one of them.
    SIGTERM finishes the mail in hand, then exits.
    """
    from hom.worker import serve_worker

    base = settings_or_exit()
    with backing_services(base) as settings:
        prepare_database(settings, migrate=False)
        if metrics_port is not None:
            from prometheus_client import start_http_server

            start_http_server(metrics_port)
        try:
            serve_worker(settings, concurrency=concurrency)
        except ConfigError as error:
            click.echo(f"hom: configuration error: {error}", err=True)
            sys.exit(2)

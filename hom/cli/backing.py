"""What every `hom` command stands on: the settings, the PostgreSQL and Redis it uses
(the embedded ones, started and stopped, where dev leaves them unconfigured, and one line
saying which), and a database made ready (migrated, at head, its configured admin present)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import click
import structlog

from hom.core import migrations
from hom.core.config import ConfigError, Settings, load_settings
from hom.core.logging import configure_logging

if TYPE_CHECKING:
    from hom.core.embedded import EmbeddedService

log = structlog.get_logger("hom.cli")


def settings_or_exit() -> Settings:
    """The settings, or one line on stderr naming the bad variable and exit code 2."""
    try:
        settings = load_settings()
    except ConfigError as error:
        click.echo(f"hom: configuration error: {error}", err=True)
        sys.exit(2)
    configure_logging(settings)
    return settings


@contextmanager
def backing_services(settings: Settings) -> Iterator[Settings]:
    """Start the embedded PostgreSQL/Redis for whatever dev leaves unconfigured, and say in
    one line which database and Redis this command uses (and one more if it stops any)."""
    started: list[EmbeddedService] = []
    updates: dict[str, Any] = {}
    try:
        if settings.is_dev and not (settings.db_url and settings.redis_url):
            updates = _start_embedded(settings, started)
        in_use = settings.model_copy(update=updates)
        _inform(settings, f"hom: using {_describe_backends(in_use, started)}")
        yield in_use
    finally:
        stopped = [service.name for service in reversed(started) if service.stop()]
        if stopped:
            _inform(settings, f"hom: stopped the embedded {' and '.join(stopped)}")


def _inform(settings: Settings, line: str) -> None:
    """A line on stderr for the person at the terminal, kept back by LOG_LEVEL=WARNING."""
    if settings.log_level in ("DEBUG", "INFO"):
        click.echo(line, err=True)


def _start_embedded(settings: Settings, started: list[EmbeddedService]) -> dict[str, Any]:
    from hom.core import embedded

    if not embedded.embedded_available():
        click.echo(
            "hom: DB_URL/REDIS_URL unset and the embedded servers are not installed "
            "(uv sync --group embedded)",
            err=True,
        )
        sys.exit(2)
    data_dir = settings.data_dir.resolve()
    updates: dict[str, Any] = {}
    if not settings.db_url:
        _warn_of_old_postgres(data_dir)
        started.append(embedded.start_embedded_postgres(data_dir))
        updates["db_url"] = os.environ["DB_URL"] = started[-1].url
    if not settings.redis_url:
        started.append(embedded.start_embedded_redis(data_dir))
        updates["redis_url"] = os.environ["REDIS_URL"] = started[-1].url
    return updates


def _describe_backends(settings: Settings, embedded: list[EmbeddedService]) -> str:
    """ "the embedded PostgreSQL 18 in /…/.hom/postgres (started) and Redis at host:port"."""
    ours = {service.name: service for service in embedded}
    parts = []
    for name, url, variable in (
        ("PostgreSQL", settings.db_url, "DB_URL"),
        ("Redis", settings.redis_url, "REDIS_URL"),
    ):
        if name in ours:
            where = _embedded_place(settings, ours[name])
            parts.append(f"the embedded {name} {where} ({ours[name].how})")
        elif url:
            parts.append(f"{name} at {_address(url)} ({variable})")
    return " and ".join(parts)


def _embedded_place(settings: Settings, service: EmbeddedService) -> str:
    from hom.core.embedded import POSTGRES_DIR

    if service.name == "PostgreSQL":
        return f"18 in {settings.data_dir.resolve() / POSTGRES_DIR}"
    return f"on {_address(service.url)}"


def _address(url: str) -> str:
    """host:port/path of a URL, without its user or password (or its socket directory)."""
    parts = urlsplit(url)
    host = parse_qs(parts.query).get("host", [parts.hostname or "localhost"])[0]
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{parts.path}"


def _warn_of_old_postgres(data_dir: Path) -> None:
    from hom.core.embedded import POSTGRES_DIR, old_postgres_dir

    old = old_postgres_dir(data_dir)
    if old is not None:
        click.echo(
            f"hom: {old} holds the old embedded PostgreSQL 16, which PostgreSQL 18 cannot "
            f"open; it is kept as it is, and the database is now {data_dir / POSTGRES_DIR}. "
            "`uv run hom seed-demo` refills the demo; to carry your own rows over, or to "
            "silence this, see docs/DEVELOPMENT.md#the-old-embedded-database",
            err=True,
        )


def prepare_database(settings: Settings, migrate: bool, exit_code: int = 1) -> None:
    """Apply pending migrations; refuse to go on (exit_code) unless the database is reachable
    and at head."""
    assert settings.db_url
    try:
        if migrate:
            migrations.upgrade(settings.db_url)
        state = asyncio.run(_database_state(settings.db_url))
    except Exception as error:
        click.echo(f"hom: database not usable: {type(error).__name__}: {error}", err=True)
        sys.exit(exit_code)
    log.debug(
        "database",
        current_database=state.current_database,
        current_schema=state.current_schema,
        revision=state.revision,
    )
    if not state.at_head:
        click.echo(
            f"hom: the database is at revision {state.revision}, not at head; "
            "run `uv run hom migrate` first",
            err=True,
        )
        sys.exit(exit_code)
    if settings.admin_email and settings.admin_password:
        password = settings.admin_password.get_secret_value()
        asyncio.run(ensure_admin(settings, settings.admin_email, password))


def check_redis(settings: Settings) -> None:
    """Redis away at start: in dev, one warning and serve on; elsewhere one line and exit 1."""
    from hom.core.redis import ping_problem, redis_address

    assert settings.redis_url
    problem = asyncio.run(ping_problem(settings))
    if problem is None:
        return
    where = f"Redis at {redis_address(settings.redis_url)} does not answer ({problem})"
    fix = "start it or fix REDIS_URL"
    if not settings.is_dev:
        click.echo(
            f"hom: {where}; refusing to start with APP_ENV={settings.app_env}: {fix}", err=True
        )
        sys.exit(1)
    log.warning(
        f"{where}: signing in, signed-in requests, rate limits and subscriptions fail "
        f"until it does; {fix}"
    )


async def ensure_admin(settings: Settings, email: str, password: str) -> None:
    """Create or promote the admin named by the settings (or by `hom create-admin`).

    A promoted account's live sessions get the role once the change is committed.
    """
    from hom.accounts import admin
    from hom.accounts.sessions import SessionStore
    from hom.core.db import sessions_once
    from hom.core.logging import mask_email
    from hom.core.redis import RedisKeys, create_redis
    from hom.core.unit_of_work import unit_of_work

    assert settings.db_url
    redis = create_redis(settings)
    sessions = SessionStore(redis, RedisKeys(settings.redis_prefix), settings)
    try:
        async with sessions_once(settings.db_url) as maker, unit_of_work(maker) as session:
            user = await admin.ensure_admin(
                session, sessions=sessions, email=email, password=password
            )
    finally:
        await redis.aclose()
    log.debug("admin ready", user_id=user.id, email=mask_email(user.email))


async def _database_state(db_url: str) -> migrations.DatabaseState:
    from hom.core.db import connect_once

    async with connect_once(db_url) as connection:
        return await migrations.database_state(connection)

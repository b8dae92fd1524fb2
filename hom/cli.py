"""The `hom` command: serve, worker, migrate, downgrade, export-schema, create-admin, seed-demo,
check-inventory."""

from __future__ import annotations

import asyncio
import atexit
import getpass
import importlib.util
import os
import shutil
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NoReturn
from urllib.parse import parse_qs, urlsplit

import click
import structlog

from hom.core import migrations
from hom.core.config import ConfigError, Settings, load_settings
from hom.core.data_dir import dev_jwt_secret
from hom.core.logging import configure_logging

if TYPE_CHECKING:
    import uvicorn

    from hom.core.demo import SeedReport
    from hom.core.embedded import EmbeddedService
    from hom.inventory.reconcile import LedgerCheck

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
        asyncio.run(_ensure_admin(settings, settings.admin_email, password))


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


async def _ensure_admin(settings: Settings, email: str, password: str) -> None:
    """Create or promote the admin named by the settings (or by `hom create-admin`).

    A promoted account's live sessions get the role once the change is committed.
    """
    from hom.accounts import service
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
            user = await service.ensure_admin(
                session, sessions=sessions, email=email, password=password
            )
    finally:
        await redis.aclose()
    log.info("admin ready", user_id=user.id, email=mask_email(user.email))


async def _database_state(db_url: str) -> migrations.DatabaseState:
    from hom.core.db import connect_once

    async with connect_once(db_url) as connection:
        return await migrations.database_state(connection)


class WholeHelp(click.Group):
    """Lists each command with the whole first paragraph of its help (click cuts it short)."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                first = (command.help or "").split("\n\n")[0]
                rows.append((name, " ".join(first.split())))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(
    cls=WholeHelp,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(package_name="hom", prog_name="hom", message="%(prog)s %(version)s")
def main() -> None:
    """H.O.M: the GraphQL API server for a shop that sells goods and books appointments."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8000, show_default=True, help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, help="Worker processes.")
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
@click.option("--ssl-keyfile", type=click.Path(exists=True), help="TLS private key (PEM).")
@click.option("--ssl-certfile", type=click.Path(exists=True), help="TLS certificate (PEM).")
@click.option("--no-migrate", is_flag=True, help="Do not apply pending migrations first.")
def serve(
    host: str,
    port: int,
    workers: int,
    reload: bool,
    ssl_keyfile: str | None,
    ssl_certfile: str | None,
    no_migrate: bool,
) -> None:
    """Serve the API (GraphQL at /graphql, /auth, /health, /metrics).

    With nothing configured in dev, runs a private PostgreSQL and Redis with
    their data under ./.hom/. Applies pending migrations first unless --no-migrate.
    """
    from hom.core import listeners

    base = settings_or_exit()
    _share_dev_secret(base)
    with backing_services(base) as settings:
        check_redis(settings)
        prepare_database(settings, migrate=not no_migrate)
        _exit_cleanly_on_sigterm()
        _metrics_for_workers(settings, workers)
        config = server_config(host, port, workers, reload, ssl_keyfile, ssl_certfile)
        sock = _listen_or_exit(config)
        listeners.when_accepting(sock, lambda: click.echo(ready_line(settings, config, sock)))
        listeners.run(config, sock)


def server_config(
    host: str,
    port: int,
    workers: int,
    reload: bool,
    ssl_keyfile: str | None,
    ssl_certfile: str | None,
) -> uvicorn.Config:
    import uvicorn

    return uvicorn.Config(
        "hom.app:main_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        ssl_keyfile=ssl_keyfile,
        ssl_certfile=ssl_certfile,
        log_config=None,
        access_log=False,  # our middleware logs one line per request
        timeout_graceful_shutdown=20,
        loop=fast_loop(),
        http=fast_http(),
    )


def _listen_or_exit(config: uvicorn.Config) -> socket.socket:
    """The address bound, or one line saying why not and what to do, and exit code 3
    (uvicorn's for a server that cannot start)."""
    from hom.core import listeners

    try:
        return listeners.listen(config)
    except OSError as error:
        click.echo(f"hom: {listeners.cannot_listen(config.host, config.port, error)}", err=True)
        sys.exit(3)


def ready_line(settings: Settings, config: uvicorn.Config, sock: socket.socket) -> str:
    """What `hom serve` says once it accepts connections: where to send GraphQL."""
    scheme = "https" if config.is_ssl else "http"
    host = f"[{config.host}]" if ":" in config.host else config.host
    where = "GraphQL and the playground" if settings.graphiql_enabled else "GraphQL"
    return f"H.O.M is up: {where} at {scheme}://{host}:{sock.getsockname()[1]}/graphql"


def fast_loop() -> Literal["uvloop", "asyncio"]:
    """uvloop, named (uvicorn[standard] installs it and uvicorn would pick it on its own):
    where it is missing (Windows), asyncio's loop runs, with a warning."""
    return "uvloop" if _installed("uvloop", fallback="asyncio") else "asyncio"


def fast_http() -> Literal["httptools", "h11"]:
    """httptools, named, as uvloop is (h11 where it is missing)."""
    return "httptools" if _installed("httptools", fallback="h11") else "h11"


def _installed(module: str, fallback: str) -> bool:
    if importlib.util.find_spec(module) is not None:
        return True
    log.warning(f"{module} is not installed: serving with {fallback} (slower)")
    return False


def _exit_cleanly_on_sigterm() -> None:
    """uvicorn re-raises SIGTERM after its graceful shutdown; make that an exit that
    still runs our `finally` blocks (stopping the embedded servers)."""

    def exit_now(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, exit_now)


def _metrics_for_workers(settings: Settings, workers: int) -> None:
    """Several workers count into files in one directory; /metrics adds them up."""
    if workers < 2 or settings.prometheus_multiproc_dir is not None:
        return
    directory = settings.data_dir.resolve() / "metrics" / str(os.getpid())
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    atexit.register(shutil.rmtree, directory, ignore_errors=True)


def _share_dev_secret(settings: Settings) -> None:
    """In dev without JWT_SECRET, sign with the data directory's own secret (made once), so
    every worker and the next run too accept the same tokens."""
    if settings.is_dev and "JWT_SECRET" not in os.environ and "SECRET_KEY" not in os.environ:
        os.environ["JWT_SECRET"] = dev_jwt_secret(settings.data_dir.resolve())


@main.command()
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


@main.command()
@click.argument("revision", default="head")
def migrate(revision: str) -> None:
    """Upgrade the database to REVISION (default: head)."""
    with backing_services(settings_or_exit()) as settings:
        _migrate_or_exit(migrations.upgrade, settings, revision)


@main.command()
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Downgrade the database to REVISION (`base` removes everything)."""
    with backing_services(settings_or_exit()) as settings:
        _migrate_or_exit(migrations.downgrade, settings, revision)


def _migrate_or_exit(step: Callable[[str, str], None], settings: Settings, revision: str) -> None:
    """Run `step`; a revision Alembic does not know is one line and exit code 2."""
    assert settings.db_url
    try:
        step(settings.db_url, revision)
    except migrations.RevisionError as error:
        click.echo(f"hom: {error}", err=True)
        sys.exit(2)


@main.command("export-schema")
@click.argument("path", default="schema.graphql", type=click.Path(dir_okay=False))
def export_schema(path: str) -> None:
    """Write the GraphQL SDL to PATH (default: schema.graphql)."""
    from hom.schema import sdl

    Path(path).write_text(sdl())
    click.echo(f"wrote {path}")


@main.command("create-admin")
@click.option("--email", required=True, help="The admin's email address.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input, for scripts (on a terminal without it, "
    "the password is asked for twice, unseen).",
)
@click.option("--no-migrate", is_flag=True, help="Do not apply pending migrations first.")
def create_admin(email: str, password_stdin: bool, no_migrate: bool) -> None:
    """Create an admin, or promote an existing account to admin.

    Applies pending migrations first unless --no-migrate (like `hom serve`), so it works
    on a database nothing has run on yet.
    """
    from hom.core.errors import DomainError

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else ask_password(email)
    with backing_services(settings_or_exit()) as settings:
        prepare_database(settings, migrate=not no_migrate, exit_code=2)
        try:
            asyncio.run(_ensure_admin(settings, email, password))
        except DomainError as error:
            _refuse(error.message)
    click.echo(f"admin ready: {email}")


def ask_password(email: str) -> str:
    """Asked twice on the terminal without echo; one line and exit code 2 for no terminal,
    two different answers, or a password the policy refuses (checked before anything starts;
    a password from --password-stdin is checked by the service, where an account is new)."""
    if not sys.stdin.isatty():
        _refuse("no terminal to ask for the password on: pipe it in with --password-stdin")
    password = getpass.getpass(f"Password for {email}: ")
    if getpass.getpass("The same password again: ") != password:
        _refuse("the two passwords differ; nothing changed")
    from hom.core.passwords import password_problem  # the accounts service's policy

    problem = password_problem(password)
    if problem:
        _refuse(f"{problem}; nothing changed")
    return password


def _refuse(message: str) -> NoReturn:
    click.echo(f"hom: {message}", err=True)
    sys.exit(2)


@main.command("seed-demo")
@click.option(
    "--products",
    default=200,
    show_default=True,
    type=click.IntRange(0, 999_999),
    help="How many demo products (SKUs DEMO-000001 on).",
)
@click.option("--no-migrate", is_flag=True, help="Do not apply pending migrations first.")
def seed_demo(products: int, no_migrate: bool) -> None:
    """Fill the database with demo data: a catalog (categories, products, customers, favorites,
    views) and its stock in two warehouses.

    Idempotent: what exists already is left alone, so running it again changes
    nothing. With nothing configured in dev, uses the embedded PostgreSQL (like
    `hom serve`) and applies pending migrations first unless --no-migrate.
    """
    base = settings_or_exit()
    with backing_services(base) as settings:
        prepare_database(settings, migrate=not no_migrate)
        started = time.monotonic()
        report = asyncio.run(_seed_demo(settings, products))
    seconds = time.monotonic() - started
    click.echo(f"demo data ready in {seconds:.1f} s: {report.summary()}")


async def _seed_demo(settings: Settings, products: int) -> SeedReport:
    from tqdm import tqdm

    from hom.core.db import sessions_once
    from hom.core.demo import DemoRun
    from hom.core.unit_of_work import unit_of_work
    from hom.domains import demo_seeders

    assert settings.db_url
    # Shown only on a terminal (disable=None), and on stderr: stdout keeps the summary.
    with tqdm(total=products, unit="product", file=sys.stderr, disable=None) as bar:
        run = DemoRun(products=products, progress=bar.update)
        async with sessions_once(settings.db_url) as maker, unit_of_work(maker) as session:
            for seed in demo_seeders():
                await seed(session, run=run)
        return run.report


@main.command("check-inventory")
def check_inventory() -> None:
    """Compare every stock level with the sum of its movements; exit 1 on any difference.

    Prints one line per difference (sku, warehouse, the level's numbers and the
    ledger's), then a summary. Read-only; exit 2 when the database is not usable.
    """
    with backing_services(settings_or_exit()) as settings:
        assert settings.db_url
        prepare_database(settings, migrate=False, exit_code=2)
        try:
            check = asyncio.run(_check_inventory(settings.db_url))
        except Exception as error:
            click.echo(f"hom: database not usable: {type(error).__name__}: {error}", err=True)
            sys.exit(2)
    for difference in check.differences:
        click.echo(difference.describe())
    click.echo(check.summary())
    sys.exit(1 if check.differences else 0)


async def _check_inventory(db_url: str) -> LedgerCheck:
    from hom.core.db import sessions_once
    from hom.inventory.reconcile import check_ledger

    async with sessions_once(db_url) as maker, maker() as session:
        return await check_ledger(session)

"""`hom serve`: the API server, and what it needs before it listens (a shared dev secret,
uvloop and httptools named, a metrics directory for several workers, the address bound,
SIGTERM that still stops the embedded servers) and the line it says once it is up."""

from __future__ import annotations

import atexit
import importlib.util
import os
import shutil
import signal
import socket
import sys
from typing import TYPE_CHECKING, Any, Literal

import click
import structlog

from hom.cli.backing import backing_services, check_redis, prepare_database, settings_or_exit
from hom.core.config import Settings
from hom.core.data_dir import dev_jwt_secret

if TYPE_CHECKING:
    import uvicorn

log = structlog.get_logger("hom.cli")


@click.command()
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

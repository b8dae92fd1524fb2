"""The system under test: a fresh migrated database, seeded data and users, `hom serve` (or
any other server: `serving`) as a subprocess in its own process group."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
from redis.asyncio import Redis

from hom.core import migrations
from hom.core.passwords import HASHER
from tests.support import admin_execute, asyncpg_dsn, with_database

JWT_SECRET = "perf-secret-" + "x" * 40
PASSWORD = "correct horse battery"
# Variables of the caller's environment that must not leak into the server's settings.
_DROPPED = ("DB_URL", "DATABASE_URL", "REDIS_URL", "REDIS_PREFIX", "SECRET_KEY", "JWT_")


@asynccontextmanager
async def fresh_database(admin_url: str) -> AsyncIterator[tuple[str, str]]:
    """(name, url) of a new database migrated to head; dropped afterwards, whatever happens."""
    name = f"hom_perf_{uuid.uuid4().hex[:12]}"
    await admin_execute(admin_url, f'CREATE DATABASE "{name}"')
    url = with_database(admin_url, name)
    try:
        await asyncio.to_thread(migrations.upgrade, url)
        yield name, url
    finally:
        await admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def seed_users(
    db_url: str, count: int, role: str = "CUSTOMER", prefix: str = "perf"
) -> list[str]:
    """`count` verified users of `role` sharing one real argon2id hash of PASSWORD (hashed
    once), `<prefix>-00000@example.com` on."""
    password_hash = await asyncio.to_thread(HASHER.hash, PASSWORD)
    emails = [f"{prefix}-{i:05d}@example.com" for i in range(count)]
    connection = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        await connection.executemany(
            "INSERT INTO user_account (email, full_name, password_hash, role, email_verified_at)"
            " VALUES ($1, 'Perf User', $2, $3, now())",
            [(email, password_hash, role) for email in emails],
        )
    finally:
        await connection.close()
    return emails


async def sessions_opened(admin_url: str, database: str) -> int:
    """Connections ever opened to `database` (pg_stat_database.sessions, PostgreSQL 14+).

    Read from the admin database on a fresh connection. Backends report lazily (at exit,
    or within about a second of going idle), so read after a short pause.
    """
    connection = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        value = await connection.fetchval(
            "SELECT sessions FROM pg_stat_database WHERE datname = $1", database
        )
    finally:
        await connection.close()
    return int(value or 0)


async def delete_keys(redis_url: str, prefix: str) -> None:
    client = Redis.from_url(redis_url)
    try:
        async for key in client.scan_iter(match=f"{prefix}*", count=1000):
            await client.delete(key)
    finally:
        await client.aclose()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _hom_command() -> list[str]:
    script = Path(sys.executable).with_name("hom")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from hom.cli import main; main()"]


@dataclass
class RunningServer:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    @property
    def pgid(self) -> int:
        return self.process.pid  # start_new_session: the leader's pid is the group's id


def hom_env(db_url: str, redis_url: str, redis_prefix: str, workdir: Path) -> dict[str, str]:
    """The environment of a `hom` command run against the benchmark's database and Redis."""
    env = {k: v for k, v in os.environ.items() if not k.startswith((*_DROPPED, "OTEL_"))}
    return env | {
        "APP_ENV": "dev",
        "DB_URL": db_url,
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": redis_prefix,
        "JWT_SECRET": JWT_SECRET,
        "LOG_LEVEL": "WARNING",
        "HOM_DATA_DIR": str(workdir / ".hom"),
        "MEDIA_DIR": str(workdir / "media"),
    }


def hom_command(*args: str) -> list[str]:
    return [*_hom_command(), *args]


@asynccontextmanager
async def hom_server(
    db_url: str,
    redis_url: str,
    redis_prefix: str,
    workdir: Path,
    name: str = "server",
    workers: int = 1,
    settings: dict[str, str] | None = None,
) -> AsyncIterator[RunningServer]:
    """`hom serve --workers N --no-migrate` on a free loopback port, in its own process
    group (killed as a group afterwards, whatever happens); `settings`: more variables
    of its environment (DB_POOL_SIZE=…)."""
    port = free_port()
    env = hom_env(db_url, redis_url, redis_prefix, workdir) | (settings or {})
    serve = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    command = [*_hom_command(), *serve, "--no-migrate"]
    async with serving(command, env, workdir, name, port, _health_live) as server:
        yield server


async def _health_live(http: httpx.AsyncClient) -> bool:
    return (await http.get("/health/live")).status_code == 200


Probe = Callable[[httpx.AsyncClient], Awaitable[bool]]


@asynccontextmanager
async def serving(
    command: list[str], env: dict[str, str], workdir: Path, name: str, port: int, ready: Probe
) -> AsyncIterator[RunningServer]:
    """`command` (a server listening on 127.0.0.1:`port`) in its own process group, its
    output in `workdir/<name>.log`; yielded once `ready` says so, and killed as a group
    afterwards, whatever happens."""
    log_path = workdir / f"{name}.log"
    process = _spawn(command, env, workdir, log_path)
    server = RunningServer(process, f"http://127.0.0.1:{port}", log_path)
    try:
        await _wait_ready(server, name, ready)
        yield server
    finally:
        await asyncio.to_thread(_stop, process)


def _spawn(
    command: list[str], env: dict[str, str], workdir: Path, log_path: Path
) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        return subprocess.Popen(
            command,
            cwd=workdir,  # no stray .env is read
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as a whole
        )


READY_SECONDS = 60.0


async def _wait_ready(server: RunningServer, name: str, ready: Probe) -> None:
    deadline = time.monotonic() + READY_SECONDS
    async with httpx.AsyncClient(base_url=server.base_url, timeout=2) as http:
        while True:
            if server.process.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{server.log_path.read_text()[-3000:]}")
            try:
                if await ready(http):
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not ready in {READY_SECONDS:.0f} s")
            await asyncio.sleep(0.2)


def _stop(process: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 25.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(wait)
            # the leader is gone; make sure nothing else of the group lingers
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            break
        except subprocess.TimeoutExpired:
            continue
        break


async def seed_demo(
    db_url: str, redis_url: str, prefix: str, workdir: Path, products: int
) -> float:
    """`hom seed-demo --products N` (categories, products, demo customers with favorites
    and views, two warehouses with stock); the seconds it took."""
    env = hom_env(db_url, redis_url, prefix, workdir)
    started = time.monotonic()
    await asyncio.to_thread(
        subprocess.run,
        hom_command("seed-demo", "--products", str(products)),
        env=env,
        cwd=workdir,
        check=True,
        capture_output=True,
    )
    return time.monotonic() - started


async def sign_in(base_url: str, email: str) -> str:
    """An access token for `email` (password PASSWORD), from POST /auth/login."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        response = await http.post("/auth/login", data={"username": email, "password": PASSWORD})
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token

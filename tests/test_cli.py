"""The `hom` command: schema export, help, migrations, and `hom serve` end to end."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import signal
import subprocess
import time
from importlib.metadata import version
from pathlib import Path

import click
import httpx
import psutil  # type: ignore[import-untyped]
import pytest
from click.testing import CliRunner

from hom.cli import main, serve
from hom.core import migrations
from hom.core.db import connect_once
from hom.schema import sdl
from tests.conftest import TEST_SECRET
from tests.serving import (
    HOM,
    answering,
    free_port,
    hom_env,
    served,
    stop_group,
    wait_until_healthy,
)

ROOT = Path(__file__).resolve().parents[1]
STOP_TIMEOUT = 15.0


def run_hom(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HOM), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


async def revisions(db_url: str) -> set[str]:
    async with connect_once(db_url) as connection:
        return await migrations.current_revisions(connection)


# --- export-schema and help ---------------------------------------------------------------


def test_export_schema_writes_the_sdl(tmp_path: Path) -> None:
    target = tmp_path / "out.graphql"
    result = CliRunner().invoke(main, ["export-schema", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text() == sdl()


def test_export_schema_defaults_to_schema_graphql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["export-schema"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "schema.graphql").read_text() == sdl()


def test_checked_in_schema_is_current() -> None:
    checked_in = (ROOT / "schema.graphql").read_text()
    assert checked_in == sdl(), "schema.graphql is stale: run `uv run hom export-schema`"


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(main, ["--help"], prog_name="hom")
    assert result.exit_code == 0
    assert "Usage: hom" in result.output
    for name, command in main.commands.items():
        assert name in result.output
        assert command.get_short_help_str().strip(), f"`hom {name}` has no help"


@pytest.mark.parametrize("name", sorted(main.commands))
def test_command_help_explains_every_option(name: str) -> None:
    result = CliRunner().invoke(main, [name, "--help"], prog_name="hom")
    assert result.exit_code == 0, result.output
    assert f"Usage: hom {name}" in result.output
    for param in main.commands[name].params:
        if isinstance(param, click.Option):
            assert param.help, f"`hom {name} {param.opts[0]}` has no help text"
            assert all(opt in result.output for opt in param.opts)


def test_serve_help_names_its_options() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"], prog_name="hom")
    for option in ("--host", "--port", "--workers", "--reload", "--ssl-keyfile", "--ssl-certfile"):
        assert option in result.output
    assert "--no-migrate" in result.output


# --- migrate / downgrade / serve against a database of the test's own ------------------------


async def test_serve_without_migrating_refuses_an_unmigrated_database(
    fresh_db_url: str, redis_url: str, tmp_path: Path
) -> None:
    env = hom_env(
        APP_ENV="dev",
        DB_URL=fresh_db_url,
        REDIS_URL=redis_url,
        JWT_SECRET=TEST_SECRET,
        LOG_LEVEL="WARNING",
    )
    result = await asyncio.to_thread(run_hom, "serve", "--no-migrate", env=env, cwd=tmp_path)

    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "revision" in lines[0]
    assert "hom migrate" in lines[0]
    assert await revisions(fresh_db_url) == set(), "--no-migrate must not migrate"


AWAY = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def test_serve_in_dev_warns_in_one_line_that_redis_is_away_and_serves(
    db_url: str, tmp_path: Path
) -> None:
    env = {"APP_ENV": "dev", "DB_URL": db_url, "REDIS_URL": AWAY, "JWT_SECRET": TEST_SECRET}
    with served(
        tmp_path, "--no-migrate", env={**env, "LOG_LEVEL": "WARNING"}, ready=answering
    ) as server:
        answer = httpx.post(
            f"{server.base_url}/graphql", json={"query": "{ serverInfo { version } }"}
        )
        assert answer.json()["data"] == {"serverInfo": {"version": version("hom")}}
    assert "Traceback" not in log_of(tmp_path)
    warnings = [line for line in log_of(tmp_path).splitlines() if "Redis" in line]
    assert len(warnings) == 1, log_of(tmp_path)
    assert (
        "Redis at 127.0.0.1:1 does not answer (Connection refused): signing in, signed-in "
        "requests, rate limits and subscriptions fail until it does; start it or fix REDIS_URL"
    ) in warnings[0]


def log_of(directory: Path) -> str:
    (log,) = directory.glob("serve-*.log")
    return log.read_text()


@pytest.mark.parametrize("app_env", ["staging", "prod"])
async def test_serve_outside_dev_refuses_to_start_without_redis(
    app_env: str, db_url: str, tmp_path: Path
) -> None:
    env = hom_env(
        APP_ENV=app_env, DB_URL=db_url, REDIS_URL=AWAY, JWT_SECRET=TEST_SECRET, LOG_LEVEL="WARNING"
    )
    result = await asyncio.to_thread(run_hom, "serve", "--port", "1", env=env, cwd=tmp_path)

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "hom: Redis at 127.0.0.1:1 does not answer (Connection refused); refusing to start "
        f"with APP_ENV={app_env}: start it or fix REDIS_URL\n"
    )


async def test_migrate_then_downgrade_base(
    fresh_db_url: str, redis_url: str, tmp_path: Path
) -> None:
    env = hom_env(APP_ENV="dev", DB_URL=fresh_db_url, REDIS_URL=redis_url)

    result = await asyncio.to_thread(run_hom, "migrate", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert await revisions(fresh_db_url) == migrations.head_revisions()

    result = await asyncio.to_thread(run_hom, "downgrade", "base", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert await revisions(fresh_db_url) == set()


@pytest.mark.parametrize("command", ["migrate", "downgrade"])
async def test_an_unknown_revision_is_one_line_naming_it_and_the_known_ones(
    command: str, fresh_db_url: str, redis_url: str, tmp_path: Path
) -> None:
    env = hom_env(APP_ENV="dev", DB_URL=fresh_db_url, REDIS_URL=redis_url)
    result = await asyncio.to_thread(run_hom, command, "nosuchrev", env=env, cwd=tmp_path)

    (head,) = migrations.head_revisions()
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "hom: Can't locate revision identified by 'nosuchrev'; "
        f"name base or one of 0001 … {head} ({head} is the head)\n"
    )
    assert await revisions(fresh_db_url) == set()


# --- `hom serve` with nothing configured ------------------------------------------------------


def pid_in(pidfile: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(pidfile.read_text().split()[0])
    return None


def embedded_processes(data_dir: Path) -> list[psutil.Process]:
    """The embedded PostgreSQL (with its children) and Redis serving `data_dir`."""
    found: dict[int, psutil.Process] = {}
    for pidfile in (data_dir / "postgres" / "postmaster.pid", data_dir / "redis" / "redis.pid"):
        pid = pid_in(pidfile)
        with contextlib.suppress(psutil.Error):
            if pid is not None:
                process = psutil.Process(pid)
                found.update({p.pid: p for p in [process, *process.children(recursive=True)]})
    for process in psutil.process_iter(["cmdline"]):
        if str(data_dir) in " ".join(process.info["cmdline"] or []):
            found[process.pid] = process
    return list(found.values())


def running(process: psutil.Process) -> bool:
    """Alive and not a zombie (an orphan's reaping is up to init, which may be slow)."""
    try:
        return bool(process.is_running() and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def survivors(processes: list[psutil.Process], grace: float) -> list[psutil.Process]:
    deadline = time.monotonic() + grace
    while (alive := [p for p in processes if running(p)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


def kill_everything(server: subprocess.Popen[bytes], data_dir: Path) -> None:
    """Leave nothing behind, whatever happened: the server's group and the embedded servers."""
    stop_group(server)
    for process in embedded_processes(data_dir):
        with contextlib.suppress(psutil.Error):
            process.kill()


def test_serve_with_nothing_configured_serves_and_stops_cleanly(
    tmp_path: Path, embedded_tmp_path: Path
) -> None:
    data_dir, workdir, log = embedded_tmp_path / "data", tmp_path / "cwd", tmp_path / "serve.log"
    workdir.mkdir()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [str(HOM), "serve", "--port", str(port)],
            env=hom_env(HOM_DATA_DIR=str(data_dir)),
            cwd=workdir,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_healthy(server, base_url, log)
        embedded = embedded_processes(data_dir)
        names = {process.name() for process in embedded}
        assert {"postgres", "redis-server"} <= names, f"embedded servers not found: {embedded}"

        response = httpx.post(f"{base_url}/graphql", json={"query": "{ serverInfo { version } }"})
        assert response.status_code == 200
        assert response.json()["data"] == {"serverInfo": {"version": version("hom")}}

        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"hom serve ignored SIGTERM for {STOP_TIMEOUT}s:\n{log.read_text()}")
        assert code == 0, log.read_text()
        # A deadline, not a delay: returns as soon as they are gone.
        left = survivors(embedded, grace=10.0) + survivors(embedded_processes(data_dir), 0)
        assert not left, f"embedded servers outlived hom serve: {left}\n{log.read_text()}"
        assert "Traceback" not in log.read_text()
    finally:
        kill_everything(server, data_dir)


def test_serve_names_uvloop_and_httptools() -> None:
    assert (serve.fast_loop(), serve.fast_http()) == ("uvloop", "httptools")


def test_serve_falls_back_where_they_are_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert (serve.fast_loop(), serve.fast_http()) == ("asyncio", "h11")


def test_version_and_whole_help_texts() -> None:
    runner = CliRunner()
    shown = runner.invoke(main, ["--version"])
    assert shown.exit_code == 0
    assert shown.output == f"hom {version('hom')}\n"
    listed = " ".join(runner.invoke(main, ["--help"]).output.split("Commands:")[1].split())
    assert (
        "Compare every stock level with the sum of its movements; exit 1 on any difference."
        in listed
    )
    assert "..." not in listed

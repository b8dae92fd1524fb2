"""Running `hom serve` as a real process in tests: start, wait until healthy, always clean up."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

HOM = Path(sys.executable).with_name("hom")
UNCONFIGURED = ("DB_URL", "DATABASE_URL", "REDIS_URL", "JWT_SECRET", "SECRET_KEY", "APP_ENV")
START_TIMEOUT = 60.0


def hom_env(**values: str) -> dict[str, str]:
    """This environment without any of the app's connection settings, plus `values`."""
    env = {name: value for name, value in os.environ.items() if name not in UNCONFIGURED}
    return {**env, **values}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def wait_until_healthy(server: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    last = "no answer"
    while time.monotonic() < deadline:
        assert server.poll() is None, f"hom serve exited early:\n{log.read_text()}"
        with contextlib.suppress(httpx.TransportError):
            response = httpx.get(f"{base_url}/health", timeout=2)
            last = f"{response.status_code} {response.text}"
            if response.status_code == 200 and set(response.json()["checks"].values()) == {"ok"}:
                return
        time.sleep(0.1)
    pytest.fail(f"/health not ok after {START_TIMEOUT}s ({last}):\n{log.read_text()}")


@dataclass
class Served:
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, as an orchestrator would; the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


@contextlib.contextmanager
def served(directory: Path, *args: str, env: dict[str, str]) -> Iterator[Served]:
    """`hom serve --port <free> *args` in its own process group, killed whatever happens."""
    port = free_port()
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / f"serve-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(HOM), "serve", "--port", str(port), *args],
            env=hom_env(HOM_DATA_DIR=str(directory / "data"), **env),
            cwd=directory,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_until_healthy(process, base_url, log)
        yield Served(base_url, process, log)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

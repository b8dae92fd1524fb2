"""Running `hom serve` as a real process in tests: start, wait until healthy, always clean up;
read its metrics, summed up or worker by worker."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

HOM = Path(sys.executable).with_name("hom")
CONDITION_TIMEOUT = 60.0
UNCONFIGURED = ("DB_URL", "DATABASE_URL", "REDIS_URL", "JWT_SECRET", "SECRET_KEY", "APP_ENV")
START_TIMEOUT = 60.0
STOP_GRACE = 15.0


def hom_env(**values: str) -> dict[str, str]:
    """This environment without any of the app's connection settings, plus `values`."""
    env = {name: value for name, value in os.environ.items() if name not in UNCONFIGURED}
    return {**env, **values}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


Ready = Callable[[str], bool]


def healthy(base_url: str) -> bool:
    """/health answers ok for every check."""
    response = httpx.get(f"{base_url}/health", timeout=2)
    return response.status_code == 200 and set(response.json()["checks"].values()) == {"ok"}


def answering(base_url: str) -> bool:
    """The smallest GraphQL query answers (whatever /health says)."""
    response = httpx.post(f"{base_url}/graphql", json={"query": "{ serverInfo { version } }"})
    return response.status_code == 200


def wait_until_ready(
    server: subprocess.Popen[bytes], base_url: str, log: Path, ready: Ready = healthy
) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert server.poll() is None, f"hom serve exited early:\n{log.read_text()}"
        with contextlib.suppress(httpx.TransportError):
            if ready(base_url):
                return
        time.sleep(0.1)
    pytest.fail(f"not {ready.__name__} after {START_TIMEOUT}s:\n{log.read_text()}")


def wait_until_healthy(server: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    wait_until_ready(server, base_url, log, healthy)


@dataclass
class Served:
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def data_dir(self) -> Path:
        """The server's HOM_DATA_DIR (its workers' metrics are under it)."""
        return self.log.parent / "data"

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, as an orchestrator would; the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


@contextlib.contextmanager
def served(
    directory: Path, *args: str, env: dict[str, str], ready: Ready = healthy
) -> Iterator[Served]:
    """`hom serve --port <free> *args` in its own process group, killed whatever happens;
    yielded once `ready`."""
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
        wait_until_ready(process, base_url, log, ready)
        yield Served(base_url, process, log)
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM first (a process killed outright never writes its coverage data), then SIGKILL
    to its whole group, whatever is left."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_GRACE)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


async def until(
    condition: Callable[[], Awaitable[bool]], what: str, within: float = CONDITION_TIMEOUT
) -> None:
    """Wait for `condition` to hold (polling); fail, saying `what`, if it never does."""
    deadline = time.monotonic() + within
    while not await condition():
        assert time.monotonic() < deadline, f"still not {what} after {within}s"
        await asyncio.sleep(0.02)


async def refuses_connections(server: Served) -> bool:
    """True once the server has stopped accepting (its listening socket is closed)."""
    address = urlsplit(server.base_url)
    try:
        _, writer = await asyncio.open_connection(address.hostname, address.port)
    except (ConnectionRefusedError, ConnectionResetError):  # reset: closed with us in its backlog
        return True
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return False


def total(families: Iterable[Metric], name: str, **labels: str) -> float:
    """The sum of the samples called `name` whose labels include `labels`."""
    return sum(
        sample.value
        for family in families
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


async def scrape(http: httpx.AsyncClient, server: Served) -> list[Metric]:
    """One GET /metrics (itself a request in progress while it runs), parsed."""
    text = (await http.get(f"{server.base_url}/metrics")).text
    return list(text_string_to_metric_families(text))


def per_worker(data_dir: Path, name: str, **labels: str) -> dict[str, float]:
    """`total` of each worker's own counters (multiprocess mode), by worker pid."""
    counts = {}
    for path in data_dir.glob("metrics/*/counter_*.db"):
        families = MultiProcessCollector.merge([str(path)])
        counts[path.stem.rsplit("_", 1)[-1]] = total(families, name, **labels)
    return counts

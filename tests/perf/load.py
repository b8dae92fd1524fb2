"""Closed-loop load against the server: wrk (Lua script `auth.lua`) or, without wrk, httpx."""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx

SCRIPT = Path(__file__).with_name("auth.lua")
ME_QUERY = {"query": "{ me { id } }"}
Mode = Literal["me", "login", "query"]


@dataclass(frozen=True)
class LoadResult:
    connections: int
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int  # connect/read/write/timeout
    status_errors: int  # answers other than 2xx/3xx

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Target:
    """What to send: the server's base URL, the `me` token (mode "query": none when
    empty), the login users."""

    base_url: str
    token: str
    users_file: Path
    password: str
    body: str = ""  # mode "query": the JSON body POSTed to /graphql

    def users(self) -> list[str]:
        return [line for line in self.users_file.read_text().splitlines() if line]


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


async def run_load(
    target: Target,
    mode: Mode,
    connections: int,
    seconds: float,
    use_wrk: bool,
    rate: float = 0.0,
) -> LoadResult:
    """Closed loop; with `rate` > 0 paced: each connection pauses a random (exponential)
    time before each request, so that all together offer about `rate` req/s."""
    pace_ms = connections * 1000 / rate if rate > 0 else 0.0
    if use_wrk:
        return await _wrk(target, mode, connections, seconds, pace_ms)
    return await _httpx(target, mode, connections, seconds, pace_ms)


async def _wrk(
    target: Target, mode: Mode, connections: int, seconds: float, pace_ms: float
) -> LoadResult:
    path = "/auth/login" if mode == "login" else "/graphql"
    duration = max(round(seconds), 1)
    env = {
        **os.environ,
        "WRK_MODE": mode,
        "WRK_TOKEN": target.token,
        "WRK_USERS_FILE": str(target.users_file),
        "WRK_PASSWORD": target.password,
        "WRK_PACE_MS": f"{pace_ms:.3f}",
        "WRK_BODY": target.body,
    }
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "10s"]
    process = await asyncio.create_subprocess_exec(
        *command,
        "-s",
        str(SCRIPT),
        f"{target.base_url}{path}",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), duration + 30)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    text = output.decode(errors="replace")
    line = next((x for x in text.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no RESULT line:\n{text}")
    values = dict(pair.split("=", 1) for pair in line.split()[1:])
    return LoadResult(
        connections=connections,
        requests=int(values["requests"]),
        seconds=float(values["seconds"]),
        p50_ms=float(values["p50_ms"]),
        p90_ms=float(values["p90_ms"]),
        p99_ms=float(values["p99_ms"]),
        max_ms=float(values["max_ms"]),
        errors=int(values["errors"]),
        status_errors=int(values["status_errors"]),
    )


def percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(int(fraction * len(ordered)), len(ordered) - 1)]


async def _httpx(
    target: Target, mode: Mode, connections: int, seconds: float, pace_ms: float
) -> LoadResult:
    """The same closed loop from this process (costs more CPU than wrk: numbers are rougher)."""
    latencies: list[float] = []
    errors = [0, 0]
    users: Iterator[str] = itertools.cycle(target.users() if mode == "login" else [])
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        headers = {"authorization": f"Bearer {target.token}"} if target.token else {}
        async with httpx.AsyncClient(base_url=target.base_url, limits=limits, timeout=10) as http:
            while time.monotonic() < deadline:
                if pace_ms:
                    await asyncio.sleep(min(random.expovariate(1), 4) * pace_ms / 1000)
                started = time.perf_counter()
                try:
                    if mode == "me":
                        response = await http.post("/graphql", json=ME_QUERY, headers=headers)
                    elif mode == "query":
                        json_headers = headers | {"content-type": "application/json"}
                        response = await http.post(
                            "/graphql", content=target.body, headers=json_headers
                        )
                    else:
                        form = {"username": next(users), "password": target.password}
                        response = await http.post("/auth/login", data=form)
                except httpx.HTTPError:
                    errors[0] += 1
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
                if response.status_code >= 400:
                    errors[1] += 1

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.monotonic() - started
    ordered = sorted(latencies)
    return LoadResult(
        connections=connections,
        requests=len(ordered),
        seconds=elapsed,
        p50_ms=percentile(ordered, 0.50),
        p90_ms=percentile(ordered, 0.90),
        p99_ms=percentile(ordered, 0.99),
        max_ms=ordered[-1] if ordered else float("nan"),
        errors=errors[0],
        status_errors=errors[1],
    )

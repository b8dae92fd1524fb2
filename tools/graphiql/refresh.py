"""Refresh the GraphiQL files that hom ships, from npm, checked against two sets of hashes.

    uv run python tools/graphiql/refresh.py

Strawberry's GraphiQL page names the files it loads from unpkg, each with an SRI hash.
This script pins those packages in package.json (and has npm update package-lock.json
when Strawberry pins other versions), downloads each package's tarball with `npm pack`,
checks the tarball against the lock's integrity hash, takes the page's files (and the
package's LICENSE) out of it, checks each file against the page's SRI hash, and writes
them to hom/core/vendor/graphiql/<package>@<version>/ along with provenance.json: the
record that tests/core/test_graphiql_assets.py checks offline against the lock and the page.
Needs npm and the registry; the server and the tests need neither.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from hom.core.graphiql import ASSETS_DIR, Asset, pinned_assets, strawberry_page

HERE = Path(__file__).resolve().parent
PACKAGE_JSON = HERE / "package.json"
LOCK = HERE / "package-lock.json"
PROVENANCE = ASSETS_DIR / "provenance.json"
LICENSE = "LICENSE"
MAX_BYTES = 4 * 1024 * 1024  # each file stays well within what git hosts take gladly
NPM_FLAGS = ["--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]


class RefreshError(Exception):
    """A download or a hash that does not check out; nothing was written."""


def sri(content: bytes, algorithm: str) -> str:
    """The SRI / npm integrity string ("sha384-<base64>") of some bytes."""
    return f"{algorithm}-{base64.b64encode(hashlib.new(algorithm, content).digest()).decode()}"


def matches(content: bytes, integrity: str) -> bool:
    """Whether the bytes match one of the integrity string's hashes."""
    return any(sri(content, token.partition("-")[0]) == token for token in integrity.split())


def npm(*args: str, cwd: Path) -> str:
    """Run npm in a folder and return what it printed; its errors stop the script."""
    executable = shutil.which("npm")
    if executable is None:
        raise RefreshError("npm is not installed (apt-get install npm)")
    # A fixed argument list, no shell.
    done = subprocess.run(  # noqa: S603
        [executable, *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RefreshError(f"npm {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def package_pins(assets: list[Asset]) -> dict[str, str]:
    """{package: version} for the page's files; one version per package."""
    pins: dict[str, str] = {}
    for asset in assets:
        if pins.setdefault(asset.package, asset.version) != asset.version:
            raise RefreshError(f"Strawberry's page loads two versions of {asset.package}")
    return dict(sorted(pins.items()))


def pin_package_json(pins: dict[str, str]) -> None:
    """Make package.json depend on exactly the page's versions and the lock follow it."""
    manifest = json.loads(PACKAGE_JSON.read_text())
    if manifest["dependencies"] == pins:
        return
    print(f"Strawberry pins {pins}: updating {PACKAGE_JSON.name} and {LOCK.name}")
    manifest["dependencies"] = pins
    PACKAGE_JSON.write_text(json.dumps(manifest, indent=2) + "\n")
    npm("install", "--package-lock-only", *NPM_FLAGS, cwd=HERE)


def locked_integrity(lock: dict[str, Any], package: str, version: str) -> str:
    """The lock's integrity hash for the package's tarball, at exactly that version."""
    entry = lock["packages"].get(f"node_modules/{package}", {})
    if entry.get("version") != version:
        raise RefreshError(f"{LOCK.name} has {package}@{entry.get('version')}, not {version}")
    integrity: str = entry["integrity"]
    return integrity


def download(package: str, version: str, into: Path) -> bytes:
    """The package's tarball from the registry (npm's cache and configuration apply)."""
    packed = npm(
        "pack", f"{package}@{version}", "--json", "--pack-destination", str(into), cwd=into
    )
    filename: str = json.loads(packed)[0]["filename"]
    return (into / filename).read_bytes()


def unpack(tarball: bytes, names: list[str]) -> dict[str, bytes]:
    """The named files of an npm tarball (whose paths start with package/), LICENSE if any."""
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
        members = {member.name.removeprefix("package/"): member for member in tar.getmembers()}
        wanted = [*names, LICENSE] if LICENSE in members else names
        missing = [name for name in wanted if name not in members]
        if missing:
            raise RefreshError(f"not in the tarball: {missing}")
        return {name: _read(tar, members[name]) for name in wanted}


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    extracted = tar.extractfile(member) if member.isfile() else None
    if extracted is None:
        raise RefreshError(f"{member.name} is not a regular file")
    return extracted.read()


def check_files(files: dict[str, bytes], assets: list[Asset]) -> None:
    """Each page file matches Strawberry's SRI hash; no file is too large to commit."""
    for asset in assets:
        if not matches(files[asset.file], asset.integrity):
            raise RefreshError(f"{asset.ref} does not match Strawberry's {asset.integrity}")
    for name, content in files.items():
        if len(content) >= MAX_BYTES:
            raise RefreshError(f"{name} is {len(content)} bytes, more than {MAX_BYTES}")


def fetch_package(
    package: str, version: str, assets: list[Asset], lock: dict[str, Any], into: Path
) -> tuple[str, dict[str, bytes]]:
    """(the tarball's integrity, its checked files) for one package."""
    tarball = download(package, version, into)
    integrity = locked_integrity(lock, package, version)
    if not matches(tarball, integrity):
        raise RefreshError(f"{package}@{version} from npm does not match {LOCK.name}")
    own = [asset for asset in assets if asset.package == package]
    files = unpack(tarball, [asset.file for asset in own])
    check_files(files, own)
    return integrity, files


def write(packages: dict[str, tuple[str, dict[str, bytes]]]) -> None:
    """Replace ASSETS_DIR with the files and their provenance record."""
    shutil.rmtree(ASSETS_DIR, ignore_errors=True)
    record: dict[str, Any] = {}
    for name, (integrity, files) in packages.items():
        for file, content in files.items():
            path = ASSETS_DIR / name / file
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        hashes = {file: sri(content, "sha384") for file, content in sorted(files.items())}
        record[name] = {"integrity": integrity, "files": hashes}
    PROVENANCE.write_text(json.dumps({"packages": record}, indent=2) + "\n")


def main() -> int:
    assets = pinned_assets(strawberry_page())
    pins = package_pins(assets)
    try:
        pin_package_json(pins)
        lock = json.loads(LOCK.read_text())
        with tempfile.TemporaryDirectory() as tmp:
            packages = {
                f"{package}@{version}": fetch_package(package, version, assets, lock, Path(tmp))
                for package, version in pins.items()
            }
    except RefreshError as error:
        print(f"refresh failed, nothing written: {error}", file=sys.stderr)
        return 1
    write(packages)
    print(f"wrote {sum(len(files) for _, files in packages.values())} files to {ASSETS_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

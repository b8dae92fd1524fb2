"""Where a dev run keeps its files (embedded servers' data, the dev JWT secret, metrics).

`HOM_DATA_DIR` when set (and not empty); else `.hom/` at the root of the H.O.M checkout the command
runs in (found from any directory inside it), so `cd hom && hom check-inventory` reads
the database `hom serve` writes; else `./.hom` (an installed copy, outside a checkout).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tomllib
from pathlib import Path

DATA_DIR_NAME = ".hom"
PROJECT_NAME = "hom"
_SECRET_FILE = "jwt-secret"  # noqa: S105 - a file name, not a secret


def find_data_dir(start: Path | None = None) -> Path:
    """`.hom/` at the root of the checkout around `start` (the working directory)."""
    return (project_root(start) or (start or Path.cwd()).resolve()) / DATA_DIR_NAME


def env_file(start: Path | None = None) -> Path:
    """The `.env` the settings read: the checkout's, from whichever directory inside it."""
    return (project_root(start) or (start or Path.cwd()).resolve()) / ".env"


def project_root(start: Path | None = None) -> Path | None:
    """The nearest directory above `start` holding the pyproject.toml of the `hom` project."""
    here = (start or Path.cwd()).resolve()
    return next((path for path in (here, *here.parents) if _is_hom_checkout(path)), None)


def _is_hom_checkout(directory: Path) -> bool:
    pyproject = directory / "pyproject.toml"
    if not pyproject.is_file():
        return False
    with contextlib.suppress(OSError, tomllib.TOMLDecodeError):
        project = tomllib.loads(pyproject.read_text()).get("project", {})
        return isinstance(project, dict) and project.get("name") == PROJECT_NAME
    return False


def dev_jwt_secret(data_dir: Path) -> str:
    """The data directory's JWT secret, made on first use: a dev restart keeps sessions."""
    path = data_dir / _SECRET_FILE
    with contextlib.suppress(FileNotFoundError):
        secret = path.read_text().strip()
        if secret:
            return secret
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    # Readable by its owner only, never seen half-written, and the first of two processes
    # making it at once wins (link fails where the file exists): both then use one secret.
    partial = path.with_name(f".{_SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(secret + "\n")
    try:
        os.link(partial, path)
    except FileExistsError:
        secret = path.read_text().strip()
    finally:
        partial.unlink()
    return secret

"""tests/perf is collected only on demand: `pytest tests/perf` (or a path inside it), or `-m perf`.

A plain `pytest` (testpaths = tests) skips this directory, so the suite never runs the
benchmark by accident.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _requested(config: pytest.Config) -> bool:
    if "perf" in (config.option.markexpr or ""):
        return True
    base = config.invocation_params.dir
    for arg in config.invocation_params.args:
        if arg.startswith("-"):
            continue
        path = (base / arg.split("::", 1)[0]).resolve()
        if path == HERE or HERE in path.parents:
            return True
    return False


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if HERE in collection_path.resolve().parents and not _requested(config):
        return True
    return None

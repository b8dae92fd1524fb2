"""The auth benchmark as a pytest run: `uv run pytest tests/perf -s` (prints the tables).

HOM_PERF_DURATION (seconds per load run, default 10) and HOM_PERF_JSON (a path for
the results) tune it.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from tests.perf.auth_bench import Options, run_benchmark

pytestmark = pytest.mark.perf


async def test_auth_benchmark(admin_db_url: str, redis_url: str) -> None:
    options = Options(duration=float(os.environ.get("HOM_PERF_DURATION", "10")))
    report = await run_benchmark(admin_db_url, redis_url, options)
    print(report.render())
    if path := os.environ.get("HOM_PERF_JSON"):
        await asyncio.to_thread(Path(path).write_text, json.dumps(report.as_json(), indent=2))
    assert report.me_alone
    assert report.me_alone.me
    assert report.me_alone.me.requests > 0
    measured = [r for run in report.login_alone + report.mixed for r in (run.login, run.me) if r]
    assert all(r.errors == 0 and r.status_errors == 0 for r in measured)

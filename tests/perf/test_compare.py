"""H.O.M vs PostGraphile as a pytest run: `uv run pytest tests/perf/test_compare.py -s`.

HOM_PERF_ROUNDS (default 3), HOM_PERF_DURATION (seconds of load per run, default 15),
HOM_PERF_PRODUCTS (default 20 000) and HOM_PERF_JSON (a path for the results) tune it.
It fails when the servers answer different data, or on any error under load; it asserts
no ratio (those are for reading).
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from tests.perf.compare import Options, run_comparison

pytestmark = pytest.mark.perf


async def test_compare_with_postgraphile(admin_db_url: str, redis_url: str) -> None:
    options = Options(
        products=int(os.environ.get("HOM_PERF_PRODUCTS", "20000")),
        rounds=int(os.environ.get("HOM_PERF_ROUNDS", "3")),
        duration=float(os.environ.get("HOM_PERF_DURATION", "15")),
    )
    report = await run_comparison(admin_db_url, redis_url, options)
    print(report.render())
    if path := os.environ.get("HOM_PERF_JSON"):
        text = json.dumps(report.as_json(), indent=2, default=str)
        await asyncio.to_thread(Path(path).write_text, text)
    assert len(report.runs) == options.rounds * len(report.counts)
    assert all(run.load.requests > 0 and run.errors == 0 for run in report.runs)

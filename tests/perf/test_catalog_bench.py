"""The catalog benchmark as a pytest run: `uv run pytest tests/perf/test_catalog_bench.py -s`.

HOM_PERF_DURATION (seconds of load, default 15) and HOM_PERF_PRODUCTS (default 20 000)
tune it.
"""

from __future__ import annotations

import os

import pytest

from tests.perf.catalog_bench import Options, run_benchmark

pytestmark = pytest.mark.perf


async def test_catalog_benchmark(admin_db_url: str, redis_url: str) -> None:
    options = Options(
        products=int(os.environ.get("HOM_PERF_PRODUCTS", "20000")),
        duration=float(os.environ.get("HOM_PERF_DURATION", "15")),
    )
    report = await run_benchmark(admin_db_url, redis_url, options)
    print(report.render())
    assert report.load.requests > 0
    assert report.load.errors == report.load.status_errors == 0
    assert report.queries_per_request <= 5

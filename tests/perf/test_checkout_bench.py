"""The checkout benchmark as a pytest run: `uv run pytest tests/perf/test_checkout_bench.py -s`.

HOM_PERF_DURATION (seconds per run, default 10); HOM_PERF_FLOOR_ONLY=1 runs pgbench alone
(what works before the server has a `checkout` mutation).
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime

import pytest

from tests.perf import checkout_floor as floor
from tests.perf.checkout_bench import Options, run_benchmark

pytestmark = pytest.mark.perf


def captured(order_number: str = "HOM-8400001") -> floor.Captured:
    statements = [
        floor.Statement(
            "INSERT INTO customer_order (user_id, idempotency_key, placed_at) VALUES ($1, $2, $3)",
            (3_100_001, "key-1", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ),
        floor.Statement(
            "INSERT INTO outbox_message (key, context) VALUES ($1, $2)",
            ("order:7300001:order_received", '{"order": "HOM-8400001", "it\'s": 7300001}'),
        ),
        floor.Statement("SELECT * FROM product WHERE id IN ($1, $2)", (5_200_001, 12)),
    ]
    return floor.Captured(statements, 3_100_001, 5_200_001, 7_300_001, order_number, "key-1")


def test_the_script_puts_variables_where_the_captured_values_were() -> None:
    script = floor.script(captured(), distinct=True)
    lines = script.splitlines()
    assert lines[:3] == [
        "\\set uid 3100001 + :client_id",
        "\\set pid 5200001 + :client_id",
        "\\set k random(1, 1000000000000)",
    ]
    assert lines[3] == (
        "INSERT INTO customer_order (user_id, idempotency_key, placed_at) VALUES "
        "(:uid, 'floor-:client_id-:k', '2026-01-02T03:04:05+00:00')"
    )
    assert lines[4] == "\\gset o_"
    # `::` would hide the variable from pgbench: the text is cut there.
    assert lines[5] == (
        "INSERT INTO outbox_message (key, context) VALUES (('order:' || ':o_id:order_received'), "
        """'{"order": ":o_number", "it''s": :o_id}');"""
    )
    assert lines[6] == "SELECT * FROM product WHERE id IN (:pid, 12);"


def test_the_hot_product_stays_a_constant() -> None:
    script = floor.script(captured(), distinct=False)
    assert "IN (5200001, 12)" in script


@pytest.mark.skipif(shutil.which("pgbench") is None, reason="pgbench is not installed")
async def test_checkout_benchmark(admin_db_url: str, redis_url: str) -> None:
    options = Options(
        duration=float(os.environ.get("HOM_PERF_DURATION", "10")),
        floor_only=os.environ.get("HOM_PERF_FLOOR_ONLY") == "1",
    )
    report = await run_benchmark(admin_db_url, redis_url, options)
    print(report.render())
    assert not report.http_skipped, report.http_skipped
    for case in report.cases:
        assert case.floor.transactions > 0
        assert case.floor.failed == 0
        if case.http is not None:
            assert case.http.checkouts > 0
            assert case.http.unexpected() == {}, case.case

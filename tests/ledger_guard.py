"""The suite-wide ledger guard: after every test with a database of its own, every stock
level there still equals the sum of its movements (what `hom check-inventory` checks).

One statement on a bare asyncpg connection, run on the clones' background loop. A test
that corrupts the ledger on purpose says so with `@pytest.mark.ledger_corrupted`.
"""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy.dialects import postgresql

from hom.inventory.reconcile import LevelDifference, differences_statement
from tests.support import asyncpg_dsn

MARKER = "ledger_corrupted"
DIFFERENCES_SQL = str(
    differences_statement().compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
    )
)


async def ledger_differences(db_url: str) -> list[LevelDifference]:
    """The differences in that database; none where it has no stock levels (not migrated
    that far, or downgraded by the test)."""
    connection = await asyncpg.connect(
        asyncpg_dsn(db_url), server_settings={"statement_timeout": "30s"}
    )
    try:
        rows = await connection.fetch(DIFFERENCES_SQL)
    except asyncpg.UndefinedTableError:
        return []
    finally:
        await connection.close()
    return [LevelDifference.from_row(dict(row)) for row in rows]


def fail_on(differences: list[LevelDifference]) -> None:
    if differences:
        lines = "\n".join(difference.describe() for difference in differences)
        pytest.fail(
            f"stock levels differ from their ledger after this test (mark it "
            f"@pytest.mark.{MARKER} if it corrupts the ledger on purpose):\n{lines}",
            pytrace=False,
        )

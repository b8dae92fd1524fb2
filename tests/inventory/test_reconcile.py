"""Reconciliation: `level_differences`, `hom check-inventory`, and the append-only ledger."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from hom.core.db import sessions_once
from hom.core.unit_of_work import SessionMaker, unit_of_work
from hom.inventory.models import MovementKind, StockLevel, StockMovement, Warehouse
from hom.inventory.reconcile import LevelDifference, check_ledger, level_differences
from tests.catalog.factories import create_category, create_products
from tests.conftest import TEST_SECRET
from tests.ledger_guard import ledger_differences
from tests.serving import hom_env
from tests.support import new_database_name, with_database
from tests.test_cli import run_hom

K = MovementKind
# (product, warehouse) → its movements; levels are their sums (P2/EAST: a level, no movements).
LEDGER: dict[tuple[int, str], list[tuple[MovementKind, int]]] = {
    (0, "MAIN"): [(K.RECEIPT, 10), (K.RESERVATION, 3), (K.SHIPMENT, -1)],
    (1, "MAIN"): [(K.RECEIPT, 5), (K.ADJUSTMENT, -5)],
    (0, "EAST"): [(K.TRANSFER_IN, 4), (K.RESERVATION, 2), (K.RELEASE, -2)],
    (1, "EAST"): [],
}
MOVEMENTS = "SELECT id, product_id, warehouse_id, kind, quantity FROM stock_movement ORDER BY id"
LEVELS = {(0, "MAIN"): (9, 2), (1, "MAIN"): (0, 0), (0, "EAST"): (4, 0), (1, "EAST"): (0, 0)}


@dataclass
class Stocked:
    db_url: str
    maker: SessionMaker
    product_ids: list[int]
    skus: list[str]
    warehouse_ids: dict[str, int]

    async def execute(self, sql: str, **params: object) -> None:
        async with unit_of_work(self.maker) as session:
            await session.exec(text(sql).bindparams(**params))  # type: ignore[call-overload]

    def keys(self, product: int, code: str) -> dict[str, object]:
        return {"p": self.product_ids[product], "w": self.warehouse_ids[code]}

    async def add_on_hand(self, product: int, code: str, quantity: int) -> None:
        """Change a level by hand, without its movement."""
        await self.execute(
            "UPDATE stock_level SET on_hand = on_hand + :q WHERE product_id = :p "
            "AND warehouse_id = :w",
            q=quantity,
            **self.keys(product, code),
        )

    async def add_receipt_alone(self, product: int, code: str, quantity: int) -> None:
        """A movement written without its level change."""
        await self.execute(
            "INSERT INTO stock_movement (product_id, warehouse_id, kind, quantity) "
            "VALUES (:p, :w, 'RECEIPT', :q)",
            q=quantity,
            **self.keys(product, code),
        )

    async def differences(self) -> list[LevelDifference]:
        async with self.maker() as session:
            return await level_differences(session)


async def add_warehouses(maker: SessionMaker) -> dict[str, int]:
    warehouses = [Warehouse(code=code, name=code.title()) for code in ("MAIN", "EAST")]
    async with unit_of_work(maker) as session:
        session.add_all(warehouses)
    return {w.code: w.id for w in warehouses if w.id is not None}


def ledger_rows(product_ids: list[int], warehouse_ids: dict[str, int]) -> list[object]:
    """The levels of LEVELS and the movements of LEDGER, as rows."""
    rows: list[object] = []
    for (product, code), (on_hand, reserved) in LEVELS.items():
        keys = {"product_id": product_ids[product], "warehouse_id": warehouse_ids[code]}
        rows.append(StockLevel(**keys, on_hand=on_hand, reserved=reserved))
        rows += [StockMovement(**keys, kind=k, quantity=q) for k, q in LEDGER[(product, code)]]
    return rows


@pytest.fixture
async def stocked(db_url: str) -> AsyncIterator[Stocked]:
    """Three products (the third with no stock anywhere), two warehouses, a consistent ledger."""
    async with sessions_once(db_url) as maker:
        products = await create_products(maker, await create_category(maker, "Tools"), 3)
        product_ids = [p.id for p in products if p.id is not None]
        warehouse_ids = await add_warehouses(maker)
        async with unit_of_work(maker) as session:
            session.add_all(ledger_rows(product_ids, warehouse_ids))
        yield Stocked(db_url, maker, product_ids, [p.sku for p in products], warehouse_ids)


async def test_a_consistent_ledger_has_no_differences(stocked: Stocked) -> None:
    assert await stocked.differences() == []
    async with stocked.maker() as session:
        check = await check_ledger(session)
    assert check.summary() == "4 stock levels checked, no differences"


@pytest.mark.ledger_corrupted
async def test_a_level_changed_by_hand_is_a_difference(stocked: Stocked) -> None:
    await stocked.add_on_hand(0, "MAIN", 3)
    (difference,) = await stocked.differences()
    assert difference == LevelDifference(
        product_id=stocked.product_ids[0],
        warehouse_id=stocked.warehouse_ids["MAIN"],
        sku=stocked.skus[0],
        warehouse_code="MAIN",
        level_on_hand=12,
        level_reserved=2,
        ledger_on_hand=9,
        ledger_reserved=2,
    )
    assert difference.describe() == (
        f"{stocked.skus[0]} in MAIN: level on hand 12, reserved 2; ledger on hand 9, reserved 2"
    )


@pytest.mark.ledger_corrupted
async def test_reserved_changed_by_hand_is_a_difference(stocked: Stocked) -> None:
    await stocked.execute(
        "UPDATE stock_level SET reserved = 1 WHERE product_id = :p AND warehouse_id = :w",
        **stocked.keys(0, "EAST"),
    )
    (difference,) = await stocked.differences()
    assert (difference.level_reserved, difference.ledger_reserved) == (1, 0)
    assert (difference.level_on_hand, difference.ledger_on_hand) == (4, 4)


@pytest.mark.ledger_corrupted
async def test_a_movement_without_its_level_is_a_difference(stocked: Stocked) -> None:
    await stocked.add_receipt_alone(2, "EAST", 7)
    (difference,) = await stocked.differences()
    assert (difference.sku, difference.warehouse_code) == (stocked.skus[2], "EAST")
    assert (difference.level_on_hand, difference.level_reserved) == (None, None)
    assert (difference.ledger_on_hand, difference.ledger_reserved) == (7, 0)
    assert difference.describe().endswith("EAST: no level; ledger on hand 7, reserved 0")


@pytest.mark.ledger_corrupted
async def test_a_level_without_movements_that_holds_stock_is_a_difference(
    stocked: Stocked,
) -> None:
    await stocked.execute(
        "INSERT INTO stock_level (product_id, warehouse_id, on_hand) VALUES (:p, :w, 2)",
        **stocked.keys(2, "MAIN"),
    )
    (difference,) = await stocked.differences()
    assert (difference.level_on_hand, difference.ledger_on_hand) == (2, 0)


@pytest.mark.ledger_corrupted
async def test_the_guard_sees_what_level_differences_sees(stocked: Stocked) -> None:
    """The suite's guard runs the same statement on a bare asyncpg connection."""
    await stocked.execute("UPDATE stock_level SET on_hand = on_hand + 1")
    assert await ledger_differences(stocked.db_url) == await stocked.differences()
    assert len(await stocked.differences()) == 4


async def test_the_guard_skips_a_database_without_stock_levels(fresh_db_url: str) -> None:
    assert await ledger_differences(fresh_db_url) == []


# --- the ledger is append-only ----------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE stock_movement SET quantity = 5",
        "DELETE FROM stock_movement",
        "TRUNCATE stock_movement",
    ],
)
async def test_the_database_refuses_to_change_a_movement(stocked: Stocked, statement: str) -> None:
    async with stocked.maker() as session:
        before = (await session.exec(text(MOVEMENTS))).all()  # type: ignore[call-overload]
    with pytest.raises(DBAPIError, match="append-only") as raised:
        await stocked.execute(statement)
    assert raised.value.orig is not None
    assert getattr(raised.value.orig, "sqlstate", None) == "23001"  # restrict_violation
    async with stocked.maker() as session:
        assert (await session.exec(text(MOVEMENTS))).all() == before  # type: ignore[call-overload]
    assert await stocked.differences() == []


# --- hom check-inventory -------------------------------------------------------------------


async def run_check(db_url: str, redis_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = hom_env(
        APP_ENV="dev",
        DB_URL=db_url,
        REDIS_URL=redis_url,
        JWT_SECRET=TEST_SECRET,
        LOG_LEVEL="WARNING",
    )
    return await asyncio.to_thread(run_hom, "check-inventory", env=env, cwd=cwd)


async def check_inventory(db_url: str, redis_url: str, cwd: Path) -> list[str]:
    """`hom check-inventory`'s output lines, after checking its exit code is 0 or 1."""
    result = await run_check(db_url, redis_url, cwd)
    lines = result.stdout.splitlines()
    assert result.returncode == (1 if len(lines) > 1 else 0), result
    return lines


@pytest.mark.ledger_corrupted
async def test_check_inventory_exits_0_when_the_ledger_agrees_and_1_on_a_difference(
    stocked: Stocked, redis_url: str, tmp_path: Path
) -> None:
    lines = await check_inventory(stocked.db_url, redis_url, tmp_path)
    assert lines == ["4 stock levels checked, no differences"]

    await stocked.add_on_hand(0, "MAIN", 3)
    await stocked.add_receipt_alone(2, "EAST", 7)
    lines = await check_inventory(stocked.db_url, redis_url, tmp_path)

    assert sorted(lines[:-1]) == sorted(
        [
            f"{stocked.skus[0]} in MAIN: level on hand 12, reserved 2; ledger on hand 9, "
            "reserved 2",
            f"{stocked.skus[2]} in EAST: no level; ledger on hand 7, reserved 0",
        ]
    )
    assert lines[-1] == "4 stock levels checked, 2 differences"


async def test_check_inventory_exits_2_when_the_database_is_not_usable(
    admin_db_url: str, redis_url: str, tmp_path: Path
) -> None:
    missing = with_database(admin_db_url, new_database_name())
    result = await run_check(missing, redis_url, tmp_path)
    assert result.returncode == 2, result
    assert result.stdout == ""
    assert result.stderr.startswith("hom: database not usable: "), result.stderr

"""The floor of the checkout benchmark: the SQL one checkout sends, replayed by pgbench.

`capture` places one order through the service layer (`place_order`, in a unit of work,
as the HTTP checkout does) and records every statement SQLAlchemy sends, with its
parameters. `script` turns them into a pgbench script: the parameters become literals,
and the values that differ per client or per transaction become pgbench variables —
the customer (`:uid`, from the client's number), the product (`:pid`, on distinct
products), the idempotency key (fresh each transaction) and the order's id and number
(read back from the INSERT with `\\gset`). To tell those values apart from any other,
the benchmark's users, products, orders and order numbers start at ids no other value
has (`MAGIC`). `run_pgbench` runs it with N clients for some seconds and reads the
per-transaction log for p50/p99.

pgbench runs in simple query mode (each statement parsed and planned every time, where
asyncpg prepares once per connection): if anything, the floor is a little low.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import Redis
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from hom.core.db import create_session_maker
from hom.core.pubsub import Publisher, session_info
from hom.core.redis import RedisKeys
from hom.core.unit_of_work import SessionMaker, unit_of_work
from hom.orders import service as orders
from tests.perf.load import percentile

# First ids of the benchmark's rows: values no quantity, price or other id takes.
MAGIC = {
    "user_account": 3_100_001,
    "product": 5_200_001,
    "customer_order": 7_300_001,
}
NUMBER_START = 8_400_001  # order_number_seq: the captured order is HOM-8400001
PGBENCH = "pgbench"


@dataclass(frozen=True)
class Statement:
    sql: str
    parameters: tuple[Any, ...]


@dataclass(frozen=True)
class Captured:
    statements: list[Statement]
    user_id: int
    product_id: int
    order_id: int
    order_number: str
    key: str  # the capture's idempotency key


async def start_ids_apart(db_url: str) -> None:
    """Make the next user, product and order ids (and order number) the MAGIC ones."""
    engine = create_async_engine(db_url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            for table, first in MAGIC.items():
                sql = "SELECT setval(pg_get_serial_sequence(:t, 'id'), :v, false)"
                await connection.execute(text(sql), {"t": table, "v": first})
            sql = "SELECT setval('order_number_seq', :v, false)"
            await connection.execute(text(sql), {"v": NUMBER_START})
    finally:
        await engine.dispose()


@asynccontextmanager
async def publishing_sessions(db_url: str, redis_url: str, prefix: str) -> AsyncIterator[Any]:
    """(engine, session maker) whose sessions publish after commit, as the app's do."""
    engine = create_async_engine(db_url, poolclass=NullPool)
    redis = Redis.from_url(redis_url)
    try:
        yield (
            engine,
            create_session_maker(engine, session_info(Publisher(redis, RedisKeys(prefix)))),
        )
    finally:
        await redis.aclose()
        await engine.dispose()


async def capture(
    db_url: str, redis_url: str, prefix: str, *, user_id: int, product_id: int, key: str
) -> Captured:
    """The statements of one checkout of one `product_id` by `user_id`, as SQLAlchemy
    sent them (BEGIN and COMMIT added: asyncpg's driver sends them itself)."""
    recorded: list[Statement] = []

    def record(conn: Any, cursor: Any, sql: str, parameters: Any, context: Any, many: Any) -> None:
        recorded.append(Statement(sql, tuple(parameters or ())))

    async with publishing_sessions(db_url, redis_url, prefix) as (engine, maker):
        event.listen(engine.sync_engine, "before_cursor_execute", record)
        order = await _place(maker, user_id, product_id, key)
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert order.id is not None
    statements = [Statement("BEGIN", ()), *recorded, Statement("COMMIT", ())]
    return Captured(statements, user_id, product_id, order.id, order.number, key)


async def _place(maker: SessionMaker, user_id: int, product_id: int, key: str) -> orders.Order:
    async with unit_of_work(maker) as session:
        return await orders.place_order(
            session, user_id=user_id, lines={product_id: 1}, idempotency_key=key
        )


# --- the pgbench script ---------------------------------------------------------------------


def literal(value: Any) -> str:
    """`value` as SQL text (simple query protocol: what $n stood for)."""
    if value is None:
        return "NULL"
    if isinstance(value, Raw):
        return value.sql
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return quoted(value.isoformat())
    if isinstance(value, list | tuple):
        return "ARRAY[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return quoted(json.dumps(value))
    if isinstance(value, bytes):
        return quoted("\\x" + value.hex()) + "::bytea"
    return quoted(str(value))


def quoted(text_value: str) -> str:
    return "'" + text_value.replace("'", "''") + "'"


@dataclass(frozen=True)
class Raw:
    """SQL text that goes in as it is (a pgbench variable)."""

    sql: str


@dataclass(frozen=True)
class Variables:
    """What stands for the captured values in the script."""

    captured: Captured
    distinct: bool  # each client its own product (:pid), else the captured one for all

    def substitute(self, value: Any) -> Any:
        c = self.captured
        if isinstance(value, int) and not isinstance(value, bool):
            names = {c.user_id: ":uid", c.order_id: ":o_id"}
            if self.distinct:
                names[c.product_id] = ":pid"
            return Raw(names[value]) if value in names else value
        if isinstance(value, list | tuple):
            return [self.substitute(item) for item in value]
        if isinstance(value, str):
            given = value
            value = value.replace(c.key, "floor-:client_id-:k")
            value = value.replace(c.order_number, ":o_number")
            value = value.replace(str(c.order_id), ":o_id")
            return _apart(value) if value != given and "::" in value else value
        return value


def _apart(value: str) -> Raw:
    """pgbench reads `::` as a cast and skips what follows ("order::o_id" keeps its
    variable): such a text becomes a concatenation, each variable behind its own quote."""
    pieces = value.replace("::", ":\x00:").split("\x00")
    return Raw("(" + " || ".join(quoted(piece) for piece in pieces) + ")")


def render(statement: Statement, variables: Variables) -> str:
    """The statement with its $n replaced by literals (or variables), in one pass."""
    values = [literal(variables.substitute(value)) for value in statement.parameters]
    return re.sub(r"\$(\d+)", lambda match: values[int(match.group(1)) - 1], statement.sql)


def is_order_insert(statement: Statement) -> bool:
    return statement.sql.lstrip().upper().startswith("INSERT INTO CUSTOMER_ORDER")


def script(captured: Captured, *, distinct: bool) -> str:
    """The pgbench script of one checkout per transaction."""
    variables = Variables(captured, distinct)
    lines = [
        f"\\set uid {captured.user_id} + :client_id",
        f"\\set pid {captured.product_id} + :client_id",
        "\\set k random(1, 1000000000000)",
    ]
    for statement in captured.statements:
        sql = " ".join(render(statement, variables).split())
        if is_order_insert(statement):
            lines.append(f"{sql}\n\\gset o_")
        else:
            lines.append(f"{sql};")
    return "\n".join(lines) + "\n"


async def placed_by_pgbench(db_url: str) -> tuple[int, int, int]:
    """(orders, lines, mails) the floor's transactions wrote: each must write one of each,
    as a checkout does (a variable left unsubstituted would make them collide)."""
    sql = """
    SELECT count(DISTINCT o.id), count(DISTINCT l.id), count(DISTINCT m.id)
    FROM customer_order o JOIN order_line l ON l.order_id = o.id
    LEFT JOIN outbox_message m ON m.key = 'order:' || o.id || '\\:order_received'
    WHERE o.idempotency_key LIKE 'floor-%' AND o.idempotency_key NOT LIKE 'floor-capture-%'
    """
    engine = create_async_engine(db_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            orders_, lines, mails = (await connection.execute(text(sql))).one()
    finally:
        await engine.dispose()
    return int(orders_), int(lines), int(mails)


# --- running it -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FloorResult:
    clients: int
    transactions: int
    failed: int
    seconds: float
    tps: float
    p50_ms: float
    p99_ms: float
    statements: int  # per transaction, BEGIN and COMMIT included


def pgbench_available() -> bool:
    return shutil.which(PGBENCH) is not None


def libpq_url(db_url: str) -> str:
    """postgresql+asyncpg://… → postgresql://… (what pgbench takes)."""
    parts = urlsplit(db_url)
    return urlunsplit(parts._replace(scheme="postgresql"))


async def run_pgbench(
    db_url: str, script_text: str, *, clients: int, seconds: float, statements: int
) -> FloorResult:
    """pgbench -c clients -T seconds on the script; latencies from its transaction log."""
    if not pgbench_available():
        raise RuntimeError(
            "pgbench not found: install postgresql-client (Debian: apt-get "
            "install postgresql-client) or put it on PATH"
        )
    with tempfile.TemporaryDirectory(prefix="hom-floor-") as directory:
        workdir = Path(directory)
        (workdir / "checkout.sql").write_text(script_text)
        prefix = f"floor_{uuid.uuid4().hex[:8]}"
        command = [
            PGBENCH, "-n", "-M", "simple", "-f", "checkout.sql",
            "-c", str(clients), "-j", "1", "-T", str(max(1, round(seconds))),
            "--log", f"--log-prefix={prefix}", libpq_url(db_url),
        ]  # fmt: skip
        done = await asyncio.to_thread(
            subprocess.run, command, cwd=workdir, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"pgbench failed ({done.returncode}):\n{done.stderr[-3000:]}")
        latencies = await asyncio.to_thread(_latencies, workdir, prefix)
    return _result(done.stdout, latencies, clients, seconds, statements)


def _latencies(workdir: Path, prefix: str) -> list[float]:
    """Milliseconds per transaction: pgbench's log lines are `client tx µs script …`."""
    found = []
    for path in sorted(workdir.glob(f"{prefix}*")):
        for line in path.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 3 and fields[2].isdigit():
                found.append(int(fields[2]) / 1000)
    return sorted(found)


def _number(pattern: str, output: str) -> float:
    match = re.search(pattern, output)
    return float(match.group(1)) if match else 0.0


def _result(
    output: str, latencies: list[float], clients: int, seconds: float, statements: int
) -> FloorResult:
    return FloorResult(
        clients=clients,
        transactions=int(_number(r"number of transactions actually processed: (\d+)", output)),
        failed=int(_number(r"number of failed transactions: (\d+)", output)),
        seconds=seconds,
        tps=_number(r"tps = ([\d.]+) \(without initial connection time\)", output),
        p50_ms=percentile(latencies, 0.50) if latencies else float("nan"),
        p99_ms=percentile(latencies, 0.99) if latencies else float("nan"),
        statements=statements,
    )

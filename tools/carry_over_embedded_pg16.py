"""Carry the rows of the old embedded PostgreSQL 16 (.hom/pg) over to PostgreSQL 18.

Run once, with `hom serve` stopped, from anywhere in the checkout:

    uv run --with pgserver==0.1.4 python tools/carry_over_embedded_pg16.py

It brings the old database to the current migration head (on PostgreSQL 16, with the
old server), dumps its rows, makes a new database in .hom/postgres at head (setting an
existing one aside as .hom/postgres.replaced-<time>, never deleting it), loads the rows
into it, and renames .hom/pg to .hom/pg16.carried-over. PostgreSQL 18's pg_dump reads
PostgreSQL 16, so only the old server itself comes from pgserver.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

from sqlalchemy import text

from hom.core import embedded, migrations
from hom.core.data_dir import find_data_dir
from hom.core.db import connect_once


def main() -> int:
    data_dir = find_data_dir()
    old = embedded.old_postgres_dir(data_dir)
    if old is None:
        print(f"nothing to carry over: no old embedded database in {data_dir / 'pg'}")
        return 0
    new = data_dir / embedded.POSTGRES_DIR
    if (new / "postmaster.pid").exists():
        print(f"{new} is in use: stop `hom serve` (and other hom commands) first")
        return 1
    dump = data_dir / f"pg16-{time.strftime('%Y%m%d-%H%M%S')}.dump"
    dump_old_rows(old, dump)
    if new.exists():
        new.rename(new.with_name(f"{new.name}.replaced-{time.strftime('%Y%m%d-%H%M%S')}"))
    load_rows(data_dir, dump)
    old.rename(old.with_name("pg16.carried-over"))
    print(f"done: {new} holds the rows of {old.name} (now pg16.carried-over; dump in {dump})")
    return 0


def dump_old_rows(old: Path, dump: Path) -> None:
    """The old database at head, then its rows (not its schema) into `dump`."""
    import pgserver  # type: ignore[import-not-found]  # only for this run (uv run --with)

    server = pgserver.get_server(old, cleanup_mode="stop")
    try:
        socket_dir = str(server.get_postmaster_info().socket_dir)
        migrations.upgrade(_url(socket_dir))
        _postgres_tool(
            "pg_dump",
            *("--data-only", "--format=custom", "--exclude-table=alembic_version"),
            *("--file", str(dump), "--host", socket_dir, "--username", "postgres", "postgres"),
        )
    finally:
        server.cleanup()


def load_rows(data_dir: Path, dump: Path) -> None:
    """A new database at head, emptied of the rows migrations put there, then the dump's."""
    service = embedded.start_embedded_postgres(data_dir)
    try:
        migrations.upgrade(service.url)
        asyncio.run(_empty_tables(service.url))
        socket_dir = parse_qs(urlsplit(service.url).query)["host"][0]
        _postgres_tool(
            "pg_restore",
            *("--data-only", "--disable-triggers", "--single-transaction", "--exit-on-error"),
            *("--host", socket_dir, "--username", "postgres", "--dbname", "postgres", str(dump)),
        )
    finally:
        service.stop()


async def _empty_tables(url: str) -> None:
    async with connect_once(url) as connection:
        names = await connection.scalars(
            text(
                "SELECT quote_ident(tablename) FROM pg_tables "
                "WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
        )
        # A new database: its append-only guards (triggers) have nothing to guard yet.
        await connection.execute(text("SET LOCAL session_replication_role = replica"))
        await connection.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
        await connection.commit()


def _url(socket_dir: str) -> str:
    return f"postgresql+asyncpg://postgres@/postgres?host={quote(socket_dir, safe='/')}"


def _postgres_tool(name: str, *args: str) -> None:
    subprocess.run([str(embedded.postgres_binary(name)), *args], check=True)  # noqa: S603


if __name__ == "__main__":
    sys.exit(main())

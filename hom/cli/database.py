"""The commands about the database's contents: migrate, downgrade, seed-demo and
check-inventory."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from hom.cli.backing import backing_services, prepare_database, settings_or_exit
from hom.core import migrations
from hom.core.config import Settings

if TYPE_CHECKING:
    from hom.core.demo import SeedReport
    from hom.inventory.reconcile import LedgerCheck


@click.command()
@click.argument("revision", default="head")
def migrate(revision: str) -> None:
    """Upgrade the database to REVISION (default: head)."""
    _migrate(migrations.upgrade, revision)


@click.command()
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Downgrade the database to REVISION (`base` removes everything)."""
    _migrate(migrations.downgrade, revision)


def _migrate(step: Callable[[str, str], None], revision: str) -> None:
    """Run `step`; a revision Alembic does not know is one line and exit code 2 (a plain
    name no script has, before any server starts or is connected to)."""
    try:
        migrations.check_revision(revision)
        with backing_services(settings_or_exit()) as settings:
            assert settings.db_url
            step(settings.db_url, revision)
    except migrations.RevisionError as error:
        click.echo(f"hom: {error}", err=True)
        sys.exit(2)


@click.command("seed-demo")
@click.option(
    "--products",
    default=200,
    show_default=True,
    type=click.IntRange(0, 999_999),
    help="How many demo products (SKUs DEMO-000001 on).",
)
@click.option("--no-migrate", is_flag=True, help="Do not apply pending migrations first.")
def seed_demo(products: int, no_migrate: bool) -> None:
    """Fill the database with demo data: a catalog (categories, products, customers, favorites,
    views), its stock in two warehouses, and a few orders in every state.

    Idempotent: what exists already is left alone, so running it again changes
    nothing. With nothing configured in dev, uses the embedded PostgreSQL (like
    `hom serve`) and applies pending migrations first unless --no-migrate.
    """
    base = settings_or_exit()
    with backing_services(base) as settings:
        prepare_database(settings, migrate=not no_migrate)
        started = time.monotonic()
        report = asyncio.run(_seed_demo(settings, products))
    seconds = time.monotonic() - started
    click.echo(f"demo data ready in {seconds:.1f} s: {report.summary()}")


async def _seed_demo(settings: Settings, products: int) -> SeedReport:
    from tqdm import tqdm

    from hom.core.demo import DemoRun
    from hom.core.services import Services
    from hom.core.unit_of_work import unit_of_work
    from hom.domains import demo_seeders

    assert settings.db_url
    # The app's sessions: the demo orders' notifications are published (Redis) on commit.
    services = Services.create(settings)
    # Shown only on a terminal (disable=None), and on stderr: stdout keeps the summary.
    try:
        with tqdm(total=products, unit="product", file=sys.stderr, disable=None) as bar:
            run = DemoRun(products=products, progress=bar.update)
            async with unit_of_work(services.session_maker) as session:
                for seed in demo_seeders():
                    await seed(session, run=run)
            return run.report
    finally:
        await services.close()


@click.command("check-inventory")
def check_inventory() -> None:
    """Compare every stock level with the sum of its movements; exit 1 on any difference.

    Prints one line per difference (sku, warehouse, the level's numbers and the
    ledger's), then a summary. Read-only; exit 2 when the database is not usable.
    """
    with backing_services(settings_or_exit()) as settings:
        assert settings.db_url
        prepare_database(settings, migrate=False, exit_code=2)
        try:
            check = asyncio.run(_check_inventory(settings.db_url))
        except Exception as error:
            click.echo(f"hom: database not usable: {type(error).__name__}: {error}", err=True)
            sys.exit(2)
    for difference in check.differences:
        click.echo(difference.describe())
    click.echo(check.summary())
    sys.exit(1 if check.differences else 0)


async def _check_inventory(db_url: str) -> LedgerCheck:
    from hom.core.db import sessions_once
    from hom.inventory.reconcile import check_ledger

    async with sessions_once(db_url) as maker, maker() as session:
        return await check_ledger(session)

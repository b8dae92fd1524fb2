"""The layers of STYLE rule 1 hold, and the tool that says so notices when they do not."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.domain_modules import plain_modules

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
# Every domain module but its GraphQL edge, and the core modules services lean on.
SERVICE_MODULES = [*plain_modules(), "hom.core.pubsub"]


def lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=project,
        env={"PYTHONPATH": str(project), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_the_layers_hold() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


PLANTED = {
    "core imports the schema": ("hom/core/redis.py", "import hom.schema", "Layers:"),
    "a service imports strawberry": (
        "hom/accounts/service.py",
        "import strawberry",
        "never reach GraphQL",
    ),
    "a service imports another domain's types": (
        "hom/audit/service.py",
        "import hom.accounts.types",
        "never reach GraphQL",
    ),
    "the inbox imports strawberry": (
        "hom/notifications/inbox.py",
        "import strawberry",
        "never reach GraphQL",
    ),
    "the catalog's batch reads import strawberry": (
        "hom/catalog/reads.py",
        "import strawberry",
        "never reach GraphQL",
    ),
    "a domain reads another's models": (
        "hom/inventory/checks.py",
        "import hom.catalog.models",
        "Domains talk through their services",
    ),
    "a domain writes another's inbox": (
        "hom/accounts/avatars.py",
        "from hom.notifications import inbox",
        "Domains talk through their services",
    ),
    "a domain seeds through another's demo": (
        "hom/inventory/demo.py",
        "from hom.catalog import demo",
        "Domains talk through their services",
    ),
    "models import their service": (
        "hom/audit/models.py",
        "import hom.audit.service",
        "Domain layers",
    ),
}


@pytest.mark.parametrize("plant", PLANTED)
def test_a_planted_reverse_import_breaks_a_contract(tmp_path: Path, plant: str) -> None:
    path, statement, contract = PLANTED[plant]
    shutil.copytree(ROOT / "hom", tmp_path / "hom", ignore=shutil.ignore_patterns("vendor"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / path
    target.write_text(target.read_text() + f"\n{statement}  # planted\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0, result.stdout
    broken = [line for line in result.stdout.splitlines() if " BROKEN" in line]
    assert any(contract in line for line in broken), result.stdout


def test_importing_the_services_does_not_import_strawberry() -> None:
    """All of them in one fresh interpreter: if together they import none, each imports none."""
    check = (
        f"import sys, importlib; [importlib.import_module(m) for m in {SERVICE_MODULES!r}]; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('strawberry', 'graphql')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "[]"

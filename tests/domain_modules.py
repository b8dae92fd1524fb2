"""The domains' modules, found from `hom.domains.DOMAINS` and the files (for the tests that
hold every domain to a rule without keeping a list of modules)."""

from __future__ import annotations

from pathlib import Path

from hom.domains import DOMAINS

ROOT = Path(__file__).resolve().parents[1]
# A domain's GraphQL and HTTP edge: the rest of it never reaches GraphQL.
EDGE = {"schema", "types", "loaders", "inputs", "mutation_types"}


def domain_packages() -> list[str]:
    return [f"hom.{name}" for name in DOMAINS]


def modules_of(package: str) -> list[str]:
    """The package's modules and subpackages, one level down."""
    folder = ROOT / package.replace(".", "/")
    names = [path.stem for path in folder.glob("*.py") if path.stem != "__init__"]
    names += [path.parent.name for path in folder.glob("*/__init__.py")]
    return sorted(f"{package}.{name}" for name in names)


def plain_modules() -> list[str]:
    """Every domain module but the edge (schema, types, loaders, inputs, HTTP routes)."""
    return [
        module
        for package in domain_packages()
        for module in modules_of(package)
        if (name := module.rpartition(".")[2]) not in EDGE and not name.endswith("_routes")
    ]

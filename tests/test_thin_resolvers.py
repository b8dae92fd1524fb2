"""Resolvers call one service (or reads, or loader) function: no SQL run, no loader primed
and no shared state written in a resolver module (STYLE rule 1)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.domain_modules import ROOT, domain_packages

FORBIDDEN_CALLS = {"exec", "execute", "scalar", "scalars", "prime", "prime_many"}


def resolver_files() -> list[Path]:
    """Each domain's schema module or package, and the data export's."""
    found = [ROOT / "hom" / "export.py"]
    for package in domain_packages():
        folder = ROOT / package.replace(".", "/")
        found += [folder / "schema.py"] if (folder / "schema.py").exists() else []
        found += sorted((folder / "schema").glob("*.py"))
    return found


def offences(source: str) -> list[str]:
    """`line: what` for every SQL call, loader priming and attribute written."""
    found = []
    for node in ast.walk(ast.parse(source)):
        call = node.func if isinstance(node, ast.Call) else None
        if isinstance(call, ast.Attribute) and call.attr in FORBIDDEN_CALLS:
            found.append(f"{call.lineno}: .{call.attr}(…)")
        targets = node.targets if isinstance(node, ast.Assign) else []
        targets += [node.target] if isinstance(node, ast.AugAssign | ast.AnnAssign) else []
        found += [f"{t.lineno}: writes {ast.unparse(t)}" for t in targets if _is_attribute(t)]
    return found


def _is_attribute(target: ast.expr) -> bool:
    """`a.b = …` or `a.b[k] = …`: state that outlives the call (a local's item is no such)."""
    if isinstance(target, ast.Subscript):
        target = target.value
    return isinstance(target, ast.Attribute)


def test_every_domain_has_its_resolvers_checked() -> None:
    names = {path.relative_to(ROOT / "hom").parts[0] for path in resolver_files()}
    assert names >= {package.removeprefix("hom.") for package in domain_packages()}


@pytest.mark.parametrize("path", resolver_files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_resolver_modules_leave_sql_loaders_and_state_to_the_services(path: Path) -> None:
    assert offences(path.read_text()) == []


@pytest.mark.parametrize(
    "line",
    [
        "found = (await session.exec(query)).first()",
        "info.context.loaders.get(category_by_id).prime(1, found)",
        "features.pg_trgm = True",
        "info.context.cache['x'] = 1",
    ],
)
def test_the_check_notices_each_kind(line: str) -> None:
    assert offences(f"async def resolve(info, session, query, found, features):\n    {line}\n")

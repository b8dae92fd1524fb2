"""The domains H.O.M is made of, and the parts gathered from them.

Each domain declares what it brings in its package (`DOMAIN`, see `hom.core.domain`);
the schema, the models registry, the worker, `hom seed-demo` and `exportMyData` take
their lists from here. A new domain is one more name in DOMAINS. Order matters where
parts meet: the root types show the domains' fields in this order, and the demo seeds
them in it (inventory stocks the catalog's products).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

from hom.core.demo import DemoSeeder
from hom.core.domain import Domain
from hom.core.export import ExportSection
from hom.core.periodic import PeriodicJob
from hom.core.unit_of_work import SessionMaker

if TYPE_CHECKING:
    from hom.notifications.service import Preparer

DOMAINS = ("accounts", "audit", "catalog", "inventory", "notifications", "orders", "bookings")


def declared() -> list[Domain]:
    """Each domain's declaration, in DOMAINS order (importing only the packages)."""
    return [importlib.import_module(f"hom.{name}").DOMAIN for name in DOMAINS]


def declared_parts(domain: Domain, kind: str) -> list[Any]:
    """One domain's parts of one kind (`queries`, `jobs`…), loaded."""
    named: tuple[str, ...] | str | None = getattr(domain, kind)
    paths = named if isinstance(named, tuple) else (named,) if named else ()
    return [domain.load(path) for path in paths]


def gathered(kind: str) -> list[Any]:
    """Every domain's parts of one kind, in DOMAINS order."""
    return [part for domain in declared() for part in declared_parts(domain, kind)]


def query_mixins() -> list[type[Any]]:
    return gathered("queries")


def mutation_mixins() -> list[type[Any]]:
    return gathered("mutations")


def subscription_mixins() -> list[type[Any]]:
    return gathered("subscriptions")


def schema_types() -> list[type[Any]]:
    return gathered("types")


def model_modules() -> list[ModuleType]:
    return gathered("models")


def periodic_jobs(session_maker: SessionMaker) -> list[PeriodicJob]:
    return [job for jobs in gathered("jobs") for job in jobs(session_maker)]


def mail_preparers() -> dict[str, Preparer]:
    """Every domain's preparers by template; two domains never claim one template."""
    found: dict[str, Preparer] = {}
    for preparers in gathered("mail_preparers"):
        assert isinstance(preparers, Mapping)
        taken = found.keys() & preparers.keys()
        assert not taken, f"mail templates prepared by two domains: {sorted(taken)}"
        found.update(preparers)
    return found


def export_sections() -> list[ExportSection]:
    return gathered("export")


def demo_seeders() -> list[DemoSeeder]:
    return gathered("demo")

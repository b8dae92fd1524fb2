"""One place per domain: the app gathers exactly what each domain declares, a new domain
is one line in `hom.domains.DOMAINS`, and the import contracts list what that implies."""

from __future__ import annotations

import sys
import tomllib
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import strawberry
from sqlmodel import SQLModel

import hom.models
import hom.schema
from hom import domains
from hom.core.config import Settings
from hom.core.domain import Domain
from hom.core.graphql.permissions import Public
from hom.core.graphql.server_info import CoreQuery
from hom.core.periodic import PeriodicJob
from hom.export import ExportQuery
from hom.worker import mail_delivery
from tests.domain_modules import ROOT, domain_packages, plain_modules


def declared(kind: str) -> list[Any]:
    """What the domains declare of one kind, read from their declarations one by one."""
    return [part for domain in domains.declared() for part in domains.declared_parts(domain, kind)]


def test_the_domain_list_is_every_package_that_declares_itself() -> None:
    packages = {
        path.parent.name
        for path in (ROOT / "hom").glob("*/__init__.py")
        if "DOMAIN = Domain(" in path.read_text()
    }
    assert set(domains.DOMAINS) == packages
    assert [domain.package for domain in domains.declared()] == [
        f"hom.{name}" for name in domains.DOMAINS
    ]


def test_the_root_types_are_made_of_the_declared_mixins() -> None:
    assert hom.schema.Query.__bases__ == (*declared("queries"), ExportQuery, CoreQuery)
    assert hom.schema.Mutation.__bases__ == tuple(declared("mutations"))
    assert hom.schema.Subscription.__bases__ == tuple(declared("subscriptions"))


def test_every_table_comes_from_a_declared_models_module() -> None:
    assert declared("models") == hom.models.MODULES
    modules = {module.__name__ for module in declared("models")} | {"hom.core.periodic_models"}
    owners = {mapper.class_.__module__ for mapper in SQLModel._sa_registry.mappers}
    assert owners == modules


def test_the_worker_runs_the_declared_jobs_and_preparers() -> None:
    jobs = domains.periodic_jobs(session_maker=None)  # type: ignore[arg-type]
    assert [job.name for job in jobs] == [
        job.name for factory in declared("jobs") for job in factory(None)
    ]
    delivery = mail_delivery(Settings(), None, concurrency=1)  # type: ignore[arg-type]
    assert delivery.preparers == {
        template: preparer
        for preparers in declared("mail_preparers")
        for template, preparer in preparers.items()
    }


def test_export_and_demo_take_every_declared_section_in_domain_order() -> None:
    assert domains.export_sections() == declared("export")
    seeders = domains.demo_seeders()
    assert seeders == declared("demo")
    modules = [seed.__module__ for seed in seeders]
    assert modules == [
        "hom.catalog.demo",
        "hom.inventory.demo",
        "hom.orders.demo",
        "hom.bookings.demo",
    ]


# --- a new domain: its package, and one line in DOMAINS --------------------------------


@strawberry.type
class LoyaltyQuery:
    @strawberry.field(permission_classes=[Public], description="A new domain's field.")
    def loyalty_ready(self) -> bool:
        return True


def loyalty_jobs(session_maker: Any) -> list[PeriodicJob]:
    async def expire() -> None: ...

    return [PeriodicJob("loyalty.expire_points", timedelta(minutes=1), expire)]


async def prepare_points_mail(session: Any, message: Any) -> None: ...


async def loyalty_export(session: Any, *, request: Any) -> dict[str, Any]:
    return {"points": []}


async def loyalty_demo(session: Any, *, run: Any) -> None: ...


POINTS_PREPARERS = {"points_earned": prepare_points_mail}
LOYALTY = Domain(
    "tests",
    queries=("test_domains:LoyaltyQuery",),
    jobs="test_domains:loyalty_jobs",
    mail_preparers="test_domains:POINTS_PREPARERS",
    export="test_domains:loyalty_export",
    demo="test_domains:loyalty_demo",
)


def test_a_new_domain_is_one_line_in_the_domain_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "hom.loyalty", SimpleNamespace(DOMAIN=LOYALTY))
    monkeypatch.setattr(domains, "DOMAINS", (*domains.DOMAINS, "loyalty"))

    query, _, _ = hom.schema.root_types()
    assert "loyaltyReady: Boolean!" in hom.schema.build_schema(Settings(), query=query).as_str()
    assert domains.periodic_jobs(None)[-1].name == "loyalty.expire_points"  # type: ignore[arg-type]
    assert domains.mail_preparers()["points_earned"] is prepare_points_mail
    assert domains.export_sections()[-1] is loyalty_export
    assert domains.demo_seeders()[-1] is loyalty_demo


# --- the import contracts ----------------------------------------------------------------


def contract(name: str) -> dict[str, Any]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts: list[dict[str, Any]] = config["tool"]["importlinter"]["contracts"]
    [found] = [c for c in contracts if c["name"] == name]
    return found


def test_the_import_contracts_list_every_domain() -> None:
    expected = domain_packages()
    layers = contract("Layers: app/cli -> schema -> domains -> context -> core")["layers"]
    assert " : ".join(expected) in layers, f"the domains' layer should be {' : '.join(expected)}"
    containers = contract("Domain layers: schema -> types -> loaders -> service -> models")
    assert containers["containers"] == expected
    assert contract("Domains talk through their services")["modules"] == expected


def test_every_plain_domain_module_is_kept_from_graphql() -> None:
    sources = contract("Services and models never reach GraphQL or API modules")["source_modules"]
    assert {"hom.*.service", "hom.*.models", "hom.*.rules"} <= set(sources)
    wildcards = {m.rpartition(".")[2] for m in sources if m.startswith("hom.*.")}
    expected = [m for m in plain_modules() if m.rpartition(".")[2] not in wildcards]
    assert sorted(m for m in sources if "*" not in m) == sorted(expected)

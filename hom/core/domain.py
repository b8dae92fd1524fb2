"""What a domain brings to the app, declared in its package's `__init__` as `DOMAIN`.

Parts are named, not imported ("schema:CatalogQuery", relative to the domain's package),
so that declaring one costs nothing and cannot close an import cycle: importing
`hom.catalog.service` runs `hom/catalog/__init__.py`, and that must stay cheap.
`hom.domains` lists the domains and resolves their parts when the app, the CLI, the
worker, the models registry or the data export asks.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Domain:
    """A domain's parts, each "module" or "module:attribute" within its package.

    - queries, mutations, subscriptions: Strawberry mixins of the root types;
    - types: types the schema must know that no field reaches;
    - models: the module whose import registers the domain's tables;
    - jobs: `(session_maker) -> list[PeriodicJob]`, the worker's periodic jobs;
    - mail_preparers: a mapping of outbox template to `Preparer`;
    - export: an `ExportSection`, the domain's part of `exportMyData`;
    - demo: a `DemoSeeder`, the domain's part of `hom seed-demo` (domains seed in order).
    """

    package: str
    queries: tuple[str, ...] = ()
    mutations: tuple[str, ...] = ()
    subscriptions: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    models: str | None = None
    jobs: str | None = None
    mail_preparers: str | None = None
    export: str | None = None
    demo: str | None = None

    @property
    def name(self) -> str:
        return self.package.rpartition(".")[2]

    def load(self, part: str) -> Any:
        """The module, or the module's attribute, a part names."""
        module_name, _, attribute = part.partition(":")
        module = importlib.import_module(f"{self.package}.{module_name}")
        return getattr(module, attribute) if attribute else module

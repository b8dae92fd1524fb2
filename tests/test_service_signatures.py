"""Service inputs are passed by keyword, never by position (after the session)."""

from __future__ import annotations

import importlib
import inspect

import pytest

SERVICES = [
    "hom.accounts.service",
    "hom.accounts.account_tokens",
    "hom.accounts.auth",
    "hom.accounts.avatars",
    "hom.accounts.export",
    "hom.audit.service",
    "hom.catalog.collections",
    "hom.catalog.demo",
    "hom.catalog.favorites",
    "hom.catalog.shared",
    "hom.catalog.views",
    "hom.catalog.listing",
    "hom.catalog.service",
    "hom.catalog.reads",
    "hom.inventory.checks",
    "hom.inventory.demo",
    "hom.inventory.reconcile",
    "hom.inventory.service",
    "hom.inventory.warehouses",
    "hom.inventory.reads",
    "hom.notifications.service",
    "hom.notifications.outbox",
    "hom.notifications.inbox",
]
POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def positional_inputs(module_name: str) -> list[str]:
    """`function(parameter)` for every positional input of the module's public async functions."""
    module = importlib.import_module(module_name)
    found = []
    for name, function in inspect.getmembers(module, inspect.iscoroutinefunction):
        if name.startswith("_") or function.__module__ != module_name:
            continue
        parameters = list(inspect.signature(function).parameters.values())
        if parameters and parameters[0].name == "session":
            parameters = parameters[1:]
        found += [f"{name}({p.name})" for p in parameters if p.kind in POSITIONAL]
    return found


@pytest.mark.parametrize("module", SERVICES)
def test_service_functions_take_their_inputs_by_keyword(module: str) -> None:
    assert positional_inputs(module) == []

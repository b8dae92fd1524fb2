"""Service inputs are passed by keyword, never by position (after the connection: an ORM
`session`, or asyncpg's `driver` for the reads that skip the ORM), in every domain module
but its GraphQL edge."""

from __future__ import annotations

import importlib
import inspect

import pytest

from tests.domain_modules import plain_modules

# Called positionally by design: a mail preparer is a `Preparer(session, message)`; the
# ledger's statements are the inventory service's own building blocks.
CALLBACKS = {"hom.accounts.mail", "hom.inventory.ledger"}
SERVICES = [module for module in plain_modules() if module not in CALLBACKS]
CONNECTIONS = {"session", "driver"}
POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def positional_inputs(module_name: str) -> list[str]:
    """`function(parameter)` for every positional input of the module's public async functions."""
    module = importlib.import_module(module_name)
    found = []
    for name, function in inspect.getmembers(module, inspect.iscoroutinefunction):
        if name.startswith("_") or function.__module__ != module_name:
            continue
        parameters = list(inspect.signature(function).parameters.values())
        if parameters and parameters[0].name in CONNECTIONS:
            parameters = parameters[1:]
        found += [f"{name}({p.name})" for p in parameters if p.kind in POSITIONAL]
    return found


@pytest.mark.parametrize("module", SERVICES)
def test_service_functions_take_their_inputs_by_keyword(module: str) -> None:
    assert positional_inputs(module) == []

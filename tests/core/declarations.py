"""The walk that holds the declarations to STYLE rule 3: every type the compiled read path
serves declares who may read its rows, and every field of such a type is answered by the
compiled path (a column, the relay id, or a declared relation or value) or says that only
the executor answers it, and why."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry import relay

from hom.core.graphql.compiled.mapping import (
    EXECUTOR_ONLY,
    FIELD,
    TableMapping,
    ToMany,
    ToOne,
    mapping_of,
)
from hom.core.rules import Rule


def declared_types(schema: strawberry.Schema) -> dict[str, tuple[Any, TableMapping]]:
    """GraphQL name → (the Strawberry type, its table declaration), for declared types."""
    found = {}
    for name, concrete in schema.schema_converter.type_map.items():
        origin = getattr(concrete.definition, "origin", None)
        mapping = mapping_of(origin)
        if mapping is not None:
            found[name] = (origin, mapping)
    return found


def unruled_types(schema: strawberry.Schema) -> list[str]:
    return sorted(
        name
        for name, (_, mapping) in declared_types(schema).items()
        if not isinstance(mapping.rule, Rule)
    )


def undeclared_fields(schema: strawberry.Schema) -> list[str]:
    """`Type.field` for each field of a declared type that neither path declaration covers."""
    problems = []
    for name, (origin, mapping) in declared_types(schema).items():
        exposed = schema._schema.type_map[name].fields  # type: ignore[attr-defined]
        for field in origin.__strawberry_definition__.fields:
            graphql_name = schema.config.name_converter.get_graphql_name(field)
            if graphql_name not in exposed:  # the relay NodeID attribute
                continue
            problem = _problem(origin, mapping, field, graphql_name)
            if problem:
                problems.append(f"{name}.{graphql_name}: {problem}")
    return sorted(problems)


def _problem(origin: Any, mapping: TableMapping, field: Any, graphql_name: str) -> str | None:
    metadata = field.metadata or {}
    if metadata.get(EXECUTOR_ONLY):
        return None
    declared = metadata.get(FIELD)
    if isinstance(declared, ToOne | ToMany):
        return _target_problem(field)
    if declared is not None:
        return None
    if graphql_name == "id" and issubclass(origin, relay.Node):
        return None
    if field.base_resolver is None and field.python_name in mapping.table.c:
        return None
    return "neither declared for the compiled path nor marked executor_only(reason)"


def _target_problem(field: Any) -> str | None:
    target = field.type
    while hasattr(target, "of_type"):
        target = target.of_type
    resolved = getattr(target, "resolve_type", lambda: target)()
    if mapping_of(resolved) is None:
        return f"points at {getattr(resolved, '__name__', resolved)}, which declares no table"
    return None

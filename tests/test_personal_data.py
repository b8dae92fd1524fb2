"""Every field that exposes personal data sits on a type with a visibility rule (STYLE rule 4).

The walk finds personal fields by their `personal()` mark and, so that an unmarked
one cannot slip through, by the words their names are made of.
"""

from __future__ import annotations

import re
from typing import Any

import strawberry

from hom.core.config import Settings
from hom.core.graphql.visibility import PERSONAL, visibility_rule
from hom.schema import build_schema

PERSONAL_WORDS = {"email", "phone", "address", "ip", "agent", "birth", "password", "timezone"}


def words(name: str) -> set[str]:
    return {word.lower() for word in re.findall(r"[a-z]+|[A-Z][a-z]*", name)}


def is_personal(field: Any, graphql_name: str) -> bool:
    return bool(field.metadata.get(PERSONAL)) or bool(words(graphql_name) & PERSONAL_WORDS)


def unguarded_personal_fields(schema: strawberry.Schema) -> list[str]:
    """`Type.field` for every personal field of an output type that has no visibility rule."""
    problems = []
    for name, concrete in schema.schema_converter.type_map.items():
        definition = concrete.definition
        if getattr(definition, "is_input", True) or name in ("Query", "Mutation", "Subscription"):
            continue
        for field in definition.fields:
            graphql_name = schema.config.name_converter.get_graphql_name(field)
            if is_personal(field, graphql_name) and visibility_rule(definition.origin) is None:
                problems.append(f"{name}.{graphql_name}")
    return sorted(problems)


def test_every_personal_field_has_a_visibility_rule() -> None:
    assert unguarded_personal_fields(build_schema(Settings())) == []


def test_the_walk_knows_the_personal_fields_it_guards() -> None:
    schema = build_schema(Settings())
    personal = {
        f"{name}.{schema.config.name_converter.get_graphql_name(field)}"
        for name, concrete in schema.schema_converter.type_map.items()
        if not getattr(concrete.definition, "is_input", True)
        for field in concrete.definition.fields
        if is_personal(field, schema.config.name_converter.get_graphql_name(field))
    }
    assert {"User.email", "User.role", "Session.ip", "Session.userAgent"} <= personal


@strawberry.type
class Leaky:
    email: str
    contact_phone: str
    nickname: str


@strawberry.type
class LeakyQuery:
    @strawberry.field
    def leaky(self) -> Leaky:
        return Leaky(email="a@b.c", contact_phone="1", nickname="n")


def test_a_type_without_a_rule_fails_the_walk() -> None:
    schema = build_schema(Settings(), query=LeakyQuery, mutation=None)
    assert unguarded_personal_fields(schema) == ["Leaky.contactPhone", "Leaky.email"]

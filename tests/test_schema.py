"""The assembled schema: every root field declares who may call it; the SDL is reviewed."""

from __future__ import annotations

from syrupy.assertion import SnapshotAssertion

from hom.core.config import Settings
from hom.schema import build_schema, sdl


def root_fields() -> list[tuple[str, object]]:
    schema = build_schema(Settings())
    found = []
    for root in ("Query", "Mutation", "Subscription"):
        definition = schema.get_type_by_name(root)
        for field in getattr(definition, "fields", []):
            name = schema.config.name_converter.get_graphql_name(field)
            found.append((f"{root}.{name}", field))
    return found


def test_every_root_field_declares_its_permission() -> None:
    undeclared = [name for name, field in root_fields() if not field.permission_classes]  # type: ignore[attr-defined]
    assert undeclared == [], f"root fields without permission_classes: {undeclared}"


def test_there_are_root_fields_to_check() -> None:
    assert {name for name, _ in root_fields()} >= {"Query.serverInfo", "Query.node"}


def test_sdl_snapshot(snapshot: SnapshotAssertion) -> None:
    assert sdl() == snapshot

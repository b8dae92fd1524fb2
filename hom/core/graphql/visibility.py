"""Who may read which objects: one rule per type, obeyed by every path that produces one.

A type declares its rule once, as SQL over its rows (`hom.core.rules`): with its table
(`@rows_of(Model, visible=rule)`) when the compiled read path and the declared loaders
read it, or alone (`@visible_to(rule)`) for objects that are not rows. Lists,
`node(id:)`, relations and mutation payloads build its objects through `present`,
which applies the same rule in Python, so no path can forget the check. Fields holding
personal data are marked with `personal()` so a test can prove each such type has a rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import strawberry

from hom.core.graphql.compiled.mapping import declare_table
from hom.core.rules import Rule
from hom.core.viewer import Reader

PERSONAL = "hom_personal"
_RULE = "__hom_visibility__"
_BINDINGS = "hom_bind_table"

TypeT = TypeVar("TypeT", bound=type[Any])
ObjectT = TypeVar("ObjectT")


def visible_to(rule: Rule) -> Callable[[TypeT], TypeT]:
    """Class decorator: objects of the type reach only readers `rule` allows."""

    def register(cls: TypeT) -> TypeT:
        setattr(cls, _RULE, rule)
        return cls

    return register


def rows_of(model: Any, *, visible: Rule) -> Callable[[TypeT], TypeT]:
    """Class decorator (above `@strawberry.type`): the type's objects are rows of
    `model`'s table, which readers see as `visible` says (`everyone` for public ones)."""

    def register(cls: TypeT) -> TypeT:
        visible_to(visible)(cls)
        declare_table(cls, model, visible)
        for field in cls.__strawberry_definition__.fields:
            bind = field.metadata.get(_BINDINGS)
            if bind is not None:
                bind(model)
        return cls

    return register


def bound_to_table(bind: Callable[[Any], None]) -> dict[str, Any]:
    """Field metadata: `bind(model)` runs when the field's type declares its table."""
    return {_BINDINGS: bind}


def visibility_rule(type_: type[Any]) -> Rule | None:
    return getattr(type_, _RULE, None)


def present(reader: Reader, type_: type[ObjectT], model: Any) -> ObjectT | None:
    """The API object of `model`, or None when the reader may not see it (or it is None)."""
    if model is None:
        return None
    rule = visibility_rule(type_)
    if rule is not None and not rule.allows(reader, model):
        return None
    shown: ObjectT = type_.from_model(model)  # type: ignore[attr-defined]
    return shown


def present_all(reader: Reader, type_: type[ObjectT], models: Iterable[Any]) -> list[ObjectT]:
    """The visible ones of `models`, in order."""
    return [shown for model in models if (shown := present(reader, type_, model)) is not None]


def personal(description: str | None = None) -> Any:
    """A field holding personal data: its type must have a visibility rule (tested)."""
    return strawberry.field(description=description, metadata={PERSONAL: True})

"""Who may read which objects: one rule per type, obeyed by every path that produces one.

A type that holds personal data declares its rule once (`@visible_to(rule)`);
lists, `node(id:)`, relations and mutation payloads all build its objects
through `present`, so no path can forget the check. Fields holding personal
data are marked with `personal()` so a test can prove each such type has a rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import strawberry

from hom.core.viewer import Reader

Rule = Callable[[Reader, Any], bool]
PERSONAL = "hom_personal"
_RULE = "__hom_visibility__"


TypeT = TypeVar("TypeT", bound=type[Any])
ObjectT = TypeVar("ObjectT")


def visible_to(rule: Rule) -> Callable[[TypeT], TypeT]:
    """Class decorator: objects of the type reach only readers for whom `rule(reader, model)`."""

    def register(cls: TypeT) -> TypeT:
        setattr(cls, _RULE, rule)
        return cls

    return register


def visibility_rule(type_: type[Any]) -> Rule | None:
    return getattr(type_, _RULE, None)


def present(reader: Reader, type_: type[ObjectT], model: Any) -> ObjectT | None:
    """The API object of `model`, or None when the reader may not see it (or it is None)."""
    if model is None:
        return None
    rule = visibility_rule(type_)
    if rule is not None and not rule(reader, model):
        return None
    shown: ObjectT = type_.from_model(model)  # type: ignore[attr-defined]
    return shown


def present_all(reader: Reader, type_: type[ObjectT], models: Iterable[Any]) -> list[ObjectT]:
    """The visible ones of `models`, in order."""
    return [shown for model in models if (shown := present(reader, type_, model)) is not None]


def personal(description: str | None = None) -> Any:
    """A field holding personal data: its type must have a visibility rule (tested)."""
    return strawberry.field(description=description, metadata={PERSONAL: True})

"""The fields a selection set asks of one object type, as graphql-core's executor
collects them: fragments expanded, `@skip`/`@include` applied, fields with the same
response key merged, in document order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    BooleanValueNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    VariableNode,
    is_abstract_type,
)

from hom.core.graphql.compiled.errors import NotPlannable


@dataclass(frozen=True)
class Selection:
    """What the planner walks: the document's fragments and the coerced variables."""

    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]

    def fields(
        self, type_: GraphQLObjectType, selection_sets: Iterable[SelectionSetNode | None]
    ) -> dict[str, list[FieldNode]]:
        """Response key → the field nodes merged under it."""
        grouped: dict[str, list[FieldNode]] = {}
        for selection_set in selection_sets:
            if selection_set is not None:
                self._collect(type_, selection_set, grouped, set())
        return grouped

    def _collect(
        self,
        type_: GraphQLObjectType,
        selection_set: SelectionSetNode,
        grouped: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for node in selection_set.selections:
            if not self._included(node):
                continue
            if isinstance(node, FieldNode):
                key = node.alias.value if node.alias else node.name.value
                grouped.setdefault(key, []).append(node)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition.name.value if node.type_condition else None
                if self._matches(condition, type_):
                    self._collect(type_, node.selection_set, grouped, visited)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                fragment = self.fragments.get(name)
                if name in visited or fragment is None:
                    continue
                visited.add(name)
                if self._matches(fragment.type_condition.name.value, type_):
                    self._collect(type_, fragment.selection_set, grouped, visited)

    def _matches(self, condition: str | None, type_: GraphQLObjectType) -> bool:
        if condition is None or condition == type_.name:
            return True
        named = self.schema.get_type(condition)
        return is_abstract_type(named) and self.schema.is_sub_type(named, type_)

    def _included(self, node: Any) -> bool:
        for directive in node.directives or ():
            name = directive.name.value
            if name not in ("skip", "include"):
                if name == "defer" or name == "stream":
                    raise NotPlannable(f"@{name}")
                continue
            value = self._flag(directive.arguments)
            if (name == "skip") == value:
                return False
        return True

    def _flag(self, arguments: Any) -> bool:
        [argument] = arguments
        value = argument.value
        if isinstance(value, BooleanValueNode):
            return value.value
        if isinstance(value, VariableNode):
            return bool(self.variables.get(value.name.value))
        raise NotPlannable("a directive argument")

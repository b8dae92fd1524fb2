"""Look-ahead: the fields a selection asks for, exactly as GraphQL will execute them.

`@skip`/`@include` are applied, fragments count only for the object type they
match, aliases stay apart, and arguments are coerced like the resolver will
see them (variables and defaults included). List resolvers use it to prefetch
what their objects' relations will need.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import strawberry
from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSkipDirective,
    InlineFragmentNode,
    SelectionSetNode,
    get_argument_values,
    get_directive_values,
    get_named_type,
    is_abstract_type,
)
from graphql.execution.values import VariableValues

Info = GraphQLResolveInfo[Any]


@dataclass(frozen=True)
class SelectedField:
    """One response key of a selection: a field, its coerced arguments, its sub-selection."""

    info: Info
    definition: GraphQLField
    nodes: tuple[FieldNode, ...]

    @property
    def name(self) -> str:
        return self.nodes[0].name.value

    @cached_property
    def arguments(self) -> dict[str, Any]:
        """Coerced argument values by their GraphQL names."""
        return get_argument_values(self.definition, self.nodes[0], variables_of(self.info))

    def selection(self, type_name: str | None = None) -> Selection:
        """What is selected under this field (on `type_name` when the field is abstract)."""
        sets = [node.selection_set for node in self.nodes if node.selection_set]
        return Selection(self.info, _object_type(self.info, self.definition.type, type_name), sets)


class Selection:
    """The fields selected on one object type."""

    def __init__(
        self,
        info: Info,
        object_type: GraphQLObjectType | None,
        selection_sets: Sequence[SelectionSetNode],
    ) -> None:
        self.info = info
        self.object_type = object_type
        self._sets = selection_sets

    @cached_property
    def fields(self) -> list[SelectedField]:
        if self.object_type is None:
            return []
        grouped: dict[str, list[FieldNode]] = {}
        for node in self._field_nodes(self._sets, set()):
            key = node.alias.value if node.alias else node.name.value
            grouped.setdefault(key, []).append(node)
        definitions = self.object_type.fields
        return [
            SelectedField(self.info, definitions[nodes[0].name.value], tuple(nodes))
            for nodes in grouped.values()
            if nodes[0].name.value in definitions  # not __typename
        ]

    def __contains__(self, name: str) -> bool:
        return any(field.name == name for field in self.fields)

    def named(self, name: str) -> list[SelectedField]:
        """Every response key selecting field `name` (aliases make several)."""
        return [field for field in self.fields if field.name == name]

    def at(self, *path: str, type_name: str | None = None) -> Selection:
        """The selection along field names (`at("edges", "node")`), aliases merged."""
        selection = self
        for depth, name in enumerate(path):
            fields = selection.named(name)
            if not fields:
                return Selection(self.info, None, ())
            last = depth == len(path) - 1
            merged = [node for field in fields for node in field.nodes]
            selection = SelectedField(self.info, fields[0].definition, tuple(merged)).selection(
                type_name if last else None
            )
        return selection

    def along(self, paths: Sequence[tuple[str, ...]]) -> Selection:
        """The selections at several paths to one object type, as one (`edges.node` and
        `nodes` of a connection): a field both ask for is one field."""
        found = [selection for path in paths if (selection := self.at(*path)).object_type]
        if not found:
            return Selection(self.info, None, ())
        sets = [selection_set for selection in found for selection_set in selection._sets]
        return Selection(self.info, found[0].object_type, sets)

    def _field_nodes(
        self, selection_sets: Sequence[SelectionSetNode], seen_fragments: set[str]
    ) -> Iterator[FieldNode]:
        for selection_set in selection_sets:
            for node in selection_set.selections:
                if not _included(self.info, node):
                    continue
                if isinstance(node, FieldNode):
                    yield node
                else:
                    yield from self._fragment_fields(node, seen_fragments)

    def _fragment_fields(self, node: Any, seen_fragments: set[str]) -> Iterator[FieldNode]:
        if isinstance(node, InlineFragmentNode):
            fragment: Any = node
        elif isinstance(node, FragmentSpreadNode) and node.name.value not in seen_fragments:
            seen_fragments.add(node.name.value)
            fragment = self.info.fragments.get(node.name.value)
        else:
            return
        if fragment is not None and self._matches(fragment.type_condition):
            yield from self._field_nodes([fragment.selection_set], seen_fragments)

    def _matches(self, condition: Any) -> bool:
        if condition is None:
            return True
        conditional = self.info.schema.get_type(condition.name.value)
        if conditional is self.object_type:
            return True
        return is_abstract_type(conditional) and self.info.schema.is_sub_type(
            conditional,
            self.object_type,  # type: ignore[arg-type]
        )


def _included(info: Info, node: Any) -> bool:
    if not node.directives:
        return True
    variables = variables_of(info)
    skip = get_directive_values(GraphQLSkipDirective, node, variables)
    if skip and skip["if"]:
        return False
    include = get_directive_values(GraphQLIncludeDirective, node, variables)
    return not (include and not include["if"])


def variables_of(info: Info) -> VariableValues:
    """The operation's coerced variables (Strawberry's executor hands over a plain dict)."""
    values: Any = info.variable_values
    return values if isinstance(values, VariableValues) else VariableValues({}, dict(values or {}))


def _object_type(info: Info, output_type: Any, type_name: str | None) -> GraphQLObjectType | None:
    named = info.schema.get_type(type_name) if type_name else get_named_type(output_type)
    return named if isinstance(named, GraphQLObjectType) else None


def raw_info(info: strawberry.Info) -> Info:
    """graphql-core's info behind Strawberry's (which exposes no public field nodes)."""
    raw: Info = info._raw_info
    return raw


def selection_of(info: strawberry.Info, type_name: str | None = None) -> Selection:
    """What is selected under the field being resolved (on `type_name` for abstract fields)."""
    raw = raw_info(info)
    sets = [node.selection_set for node in raw.field_nodes if node.selection_set]
    return Selection(raw, _object_type(raw, raw.return_type, type_name), sets)


def selects(info: strawberry.Info, *path: str) -> bool:
    """Whether the selection under the field being resolved reaches `path` (a payload's
    member nobody asked for need not be computed)."""
    *parents, name = path
    return name in selection_of(info).at(*parents)

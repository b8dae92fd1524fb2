"""The fields a selection set asks of one object type, collected by graphql-core's own
code (the executor's): fragments expanded, `@skip`/`@include` applied (a null or
missing `if` refused as the executor refuses it), fields with the same response key
merged, in document order. Plans are cached, so this runs once per plan, not per
request."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.execution.collect_fields import (
    CollectFieldsContext,
    FieldDetails,
    FragmentDetails,
    visit_selection_sets,
)
from graphql.execution.values import VariableValues

from hom.core.graphql.compiled.errors import NotPlannable


def fragment_details(
    fragments: Mapping[str, FragmentDefinitionNode],
) -> dict[str, FragmentDetails]:
    return {name: FragmentDetails(definition) for name, definition in fragments.items()}


@dataclass(frozen=True)
class Selection:
    """What the planner walks: the operation, its fragments and the coerced variables."""

    schema: GraphQLSchema
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDetails]
    variables: VariableValues

    def fields(
        self, type_: GraphQLObjectType, selection_sets: Iterable[SelectionSetNode | None]
    ) -> dict[str, list[FieldNode]]:
        """Response key → the field nodes merged under it (graphql-core's
        `collect_subfields`, over selection sets rather than field nodes)."""
        context = CollectFieldsContext(
            self.schema, self.fragments, self.variables, self.operation, type_, {}, False, [], False
        )
        grouped: defaultdict[str, list[FieldDetails]] = defaultdict(list)
        deferred: list[object] = []
        for selection_set in selection_sets:
            if selection_set is not None:
                visit_selection_sets(context, selection_set, grouped, deferred)  # type: ignore[arg-type]
        if deferred:
            raise NotPlannable("@defer")
        return {key: [detail.node for detail in details] for key, details in grouped.items()}

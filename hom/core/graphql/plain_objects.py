"""Objects whose selected fields are all plain leaves, completed without the per-field
machinery of graphql-core's executor.

A list of such objects (e.g. `availableSlots { startsAt endsAt }`: 271 slots, 542 values)
spent most of its CPU building a resolve info, a path and the nested completion calls for
every field. Strawberry's basic fields (an attribute, no resolver, no permission, no
extension) ignore the resolve info, so an object whose grouped fields are all basic leaf
fields or `__typename` is completed here in one loop: the same attribute read, the same
`complete_leaf_value` (so serialisation and the response size count are unchanged).

Anything else takes the executor's own path, and so does any object where a value is not
plainly completable (null in a non-null field, an exception or an awaitable as the value,
a serialisation error): it is completed again from scratch by the executor, which then
answers (and reports errors) exactly as it always does.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
    TypeNameMetaFieldDef,
    is_leaf_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

# (response key, basic resolver or None for `__typename`, leaf type, whether null is allowed)
PlainField = tuple[str, Any, Any, bool]


class _Unplain(Exception):
    """A value the loop does not complete itself: the executor completes the object."""


def plain_fields(
    schema: Any, parent_type: GraphQLObjectType, grouped_field_set: Any
) -> list[PlainField] | None:
    """How to complete each grouped field, or None if any is not a plain leaf."""
    plan: list[PlainField] = []
    for response_key, details in grouped_field_set.items():
        field_def = schema.get_field(parent_type, details[0].node.name.value)
        if field_def is TypeNameMetaFieldDef:
            plan.append((response_key, None, GraphQLString, False))
            continue
        if field_def is None or field_def.args:
            return None
        resolve = field_def.resolve
        if not getattr(resolve, "_is_default", False):  # Strawberry's basic field marker
            return None
        type_ = field_def.type
        nullable = not isinstance(type_, GraphQLNonNull)
        leaf = type_ if nullable else type_.of_type
        if not is_leaf_type(leaf):
            return None
        plan.append((response_key, resolve, leaf, nullable))
    return plan


class PlainObjectExecution(StrawberryGraphQLCoreExecutionContext):
    """The executor, with objects of plain leaves completed in one loop (module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Strawberry always passes a manager; it wraps resolvers only with middlewares in it
        # (an extension's `resolve` hook), and then every field goes through them.
        manager = self.middleware_manager
        self.wrapped = manager is not None and bool(manager.middlewares)
        # id(grouped field set) -> (the set, kept alive so its id stays its own; the plan)
        self.plans: dict[tuple[Any, int], tuple[Any, list[PlainField] | None]] = {}

    def execute_collected_subfields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Any,
        grouped_field_set: Any,
        new_defer_usages: Any,
        delivery_group_map: Any,
    ) -> Any:
        plan = None
        if not new_defer_usages and delivery_group_map is None and not self.wrapped:
            plan = self._plan(parent_type, grouped_field_set)
        if plan is not None:
            completed = self._complete_plain(parent_type, source_value, plan)
            if completed is not None:
                return completed
        return super().execute_collected_subfields(
            parent_type, source_value, path, grouped_field_set, new_defer_usages, delivery_group_map
        )

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> Any:
        key = (parent_type, id(grouped_field_set))
        cached = self.plans.get(key)
        if cached is None:
            cached = (grouped_field_set, plain_fields(self.schema, parent_type, grouped_field_set))
            self.plans[key] = cached
        return cached[1]

    def _complete_plain(
        self, parent_type: GraphQLObjectType, source: Any, plan: list[PlainField]
    ) -> dict[str, Any] | None:
        """The object's fields, or None (nothing counted) where the executor must do it."""
        mark = self.mark()
        try:
            return {field[0]: self._leaf(parent_type, source, field) for field in plan}
        except Exception:  # any trouble: the executor completes the object instead
            self.rewind(mark)
            return None

    def mark(self) -> Any:
        """What completing leaves counts (nothing here), to rewind before a fallback."""
        return None

    def rewind(self, mark: Any) -> None:
        """Undo what the leaves completed since `mark` counted."""

    def _leaf(self, parent_type: GraphQLObjectType, source: Any, field: PlainField) -> Any:
        _, resolve, leaf, nullable = field
        value = parent_type.name if resolve is None else resolve(source, None)
        if value is None:
            if nullable:
                return None
            raise _Unplain
        if isinstance(value, Exception) or self.is_awaitable(value):
            raise _Unplain
        return self.complete_leaf_value(leaf, value)

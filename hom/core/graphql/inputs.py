"""Arguments checked before anything runs, the same way on both read paths.

- No NUL character reaches PostgreSQL (which refuses it in text): a string holding one,
  written in the document or sent in the variables, is BAD_USER_INPUT.
- A literal its type refuses (`minPrice: "1e1000000"`) names its argument
  (`filter.minPrice`) in `extensions.argument`.

The document's checks are validation rules (run once per document and cached); the
variables are looked at on every request.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from graphql import (
    SKIP,
    ArgumentNode,
    ASTValidationRule,
    GraphQLError,
    GraphQLInputType,
    ObjectFieldNode,
    StringValueNode,
    ValidationRule,
    ValueNode,
    ValuesOfCorrectTypeRule,
    VariableDefinitionNode,
    VisitorAction,
)
from graphql.utilities.validate_input_value import validate_input_literal
from strawberry.extensions import SchemaExtension

from hom.core.graphql.errors import bad_user_input

NUL = "\x00"
MESSAGE = "Text must not contain NUL characters (\\u0000)"


class NulFreeStrings(ValidationRule):
    """Refuses a string literal with a NUL, naming the argument (`filter.search`)."""

    def enter_string_value(
        self, node: StringValueNode, key: Any, parent: Any, path: Any, ancestors: Any
    ) -> None:
        if NUL in node.value:
            argument = _argument_of([*ancestors, parent])
            self.report_error(bad_user_input(f"{MESSAGE}: `{argument}`", argument))


def _argument_of(ancestors: Iterable[Any]) -> str:
    """The argument (or variable default) a literal is in, down its input fields."""
    names = []
    for ancestor in ancestors:
        if isinstance(ancestor, ArgumentNode | ObjectFieldNode):
            names.append(ancestor.name.value)
        elif isinstance(ancestor, VariableDefinitionNode):
            names.append(f"${ancestor.variable.name.value}")
    return ".".join(names)


class NamedValuesOfCorrectType(ValuesOfCorrectTypeRule):
    """graphql-core's rule, each error naming the argument its literal is in."""

    argument = ""

    def enter_argument(self, node: ArgumentNode, *_args: Any) -> None:
        self.argument = node.name.value

    def enter_variable_definition(self, node: VariableDefinitionNode, *_args: Any) -> None:
        self.argument = f"${node.variable.name.value}"

    def is_valid_value_node(
        self, node: ValueNode, input_type: GraphQLInputType | None
    ) -> VisitorAction:
        def on_error(error: GraphQLError, path: list[str | int]) -> None:
            argument = ".".join([self.argument, *(str(part) for part in path)])
            error.extensions = {**(error.extensions or {}), "argument": argument}
            self.report_error(error)

        if input_type:
            validate_input_literal(
                node, input_type, on_error, None, None, self.context.hide_suggestions
            )
        return SKIP


def checked_rules(rules: Iterable[type[ASTValidationRule]]) -> tuple[type[ASTValidationRule], ...]:
    """`rules` (graphql-core's specified ones, say) with this module's checks."""
    named = (
        NamedValuesOfCorrectType if rule is ValuesOfCorrectTypeRule else rule for rule in rules
    )
    return (*named, NulFreeStrings)


def nul_variable(variables: Any) -> str | None:
    """Where in the variables a string holds a NUL (`$input.name`), or None."""
    return next(_nul_paths(variables, "$"), None) if variables else None


def _nul_paths(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, str):
        if NUL in value:
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _nul_paths(item, f"{path}{'' if path == '$' else '.'}{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_paths(item, f"{path}[{index}]")


def _nul_variable_error(variables: Any) -> GraphQLError | None:
    path = nul_variable(variables)
    if path is None:
        return None
    error = bad_user_input(f"{MESSAGE}: variable `{path}`")
    error.extensions = {**(error.extensions or {}), "variable": path}
    return error


class CheckedInputs(SchemaExtension):
    """The executor's half (its validation rules are `checked_rules`, see
    hom.core.graphql.limits): variables with a NUL are refused once the document is
    valid. List it after the validation cache (it adds to what validation found)."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        error = _nul_variable_error(context.variables)
        if error is not None and not context.pre_execution_errors:
            # A new list: the validation cache's own must not keep this request's error.
            context.pre_execution_errors = [error]
        yield

"""The suite's requests: for every root field, its arguments' edge values and its
selection in every spelling; documents of several roots; malformed requests."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    get_named_type,
)

from tests.differential.arguments import Rows, argument_sets, literal_call, shape_arguments
from tests.differential.selection import Pick, root_picks
from tests.differential.spelling import Fragments, aliased, halves, plain

# Nested pages at their edge sizes, forward and backward.
NESTED_PAGES = ("first: 0", "first: 1", "first: 101", "last: 1", "last: 101")


# `$v: Boolean!` as true, false and null (refused: non-null); `$d: Boolean = true` as
# absent (its default), false and null (refused: `if` is non-null).
DIRECTIVE_VARIABLES = {
    "v=true,d=absent": {"v": True},
    "v=false,d=false": {"v": False, "d": False},
    "v=null": {"v": None},
    "d=null": {"v": True, "d": None},
}


# Request payloads whose `variables` member is not an object (a 400 on the executor).
BAD_VARIABLES: dict[str, Any] = {"[]": [], '""': "", "0": 0, "false": False}


@dataclass(frozen=True)
class Case:
    """One request of the suite: `name` is stable across runs (no ids in it)."""

    name: str
    root: str
    query: str
    variables: Any = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        return {"query": self.query, "variables": self.variables}


def cases(schema: GraphQLSchema, rows: Rows) -> list[Case]:
    """Every document of the suite, for the dataset described by `rows`."""
    query = schema.query_type
    assert query is not None
    found = [case for name in query.fields for case in root_cases(schema, name, rows)]
    return [*found, everything(schema, rows), *bad_variables()]


def root_cases(schema: GraphQLSchema, root: str, rows: Rows) -> Iterator[Case]:
    assert schema.query_type is not None
    definition = schema.query_type.fields[root]
    named = get_named_type(definition.type)
    for index, (label, values) in enumerate(argument_sets(root, definition, rows)):
        yield _with_arguments(root, definition, label, values, index % 2 == 1, schema)
    yield from shapes(schema, root, definition, named, shape_arguments(root, definition, rows))


def shapes(
    schema: GraphQLSchema,
    root: str,
    definition: GraphQLField,
    named: GraphQLNamedType,
    values: dict[str, Any],
) -> Iterator[Case]:
    """The root's whole selection (with its first argument set), nested pages at their
    edge sizes, and the selection the compiled path may plan (no nested pages) in every
    spelling."""
    call = literal_call(definition, values)
    whole = root_picks(schema, named, "")
    yield Case(f"{root}/whole", root, "{ " + _field(root + call, plain(whole)) + " }")
    for paging in NESTED_PAGES:
        nested = root_picks(schema, named, f"({paging})", depth=1)
        if nested != root_picks(schema, named, "", depth=1):
            body = _field(root + call, plain(nested))
            label = paging.replace(": ", "=")
            yield Case(f"{root}/nested-{label}", root, "{ " + body + " }")
    picks = root_picks(schema, named, None)
    yield Case(f"{root}/plain", root, "{ " + _field(root + call, plain(picks)) + " }")
    yield Case(f"{root}/aliased", root, "{ " + _aliased_root(root + call, picks) + " }")
    selection = plain(picks, directives=True)
    directed = (
        "query D($v: Boolean!, $d: Boolean = true) { "
        + _field(f"a: {root}{call} @include(if: $d)", selection)
        + " "
        + _field(f"b: {root}{call} @skip(if: $v)", selection)
        + " }"
    )
    for label, variables in DIRECTIVE_VARIABLES.items():
        yield Case(f"{root}/directives/{label}", root, directed, variables)
    yield _fragment_case(root, call, named, picks)


def _aliased_root(head: str, picks: Sequence[Pick]) -> str:
    if not picks:
        return f"a: {head} b: {head}"
    first, second = halves(picks)
    return f"a: {head} {{ {aliased(first)} }} b: {head} {{ {aliased(second)} }}"


def _fragment_case(root: str, call: str, named: GraphQLNamedType, picks: Sequence[Pick]) -> Case:
    if not picks:
        return Case(f"{root}/fragments", root, f"{{ ... on Query {{ {root}{call} }} }}")
    fragments = Fragments()
    body = fragments.spell(named.name, picks)
    query = f"{{ {root}{call} {{ {body} }} }} {fragments.definitions()}"
    return Case(f"{root}/fragments", root, query)


def _field(head: str, selection: str) -> str:
    return f"{head} {{ {selection} }}" if selection else head


def _with_arguments(
    root: str,
    definition: GraphQLField,
    label: str,
    values: dict[str, Any],
    as_variables: bool,
    schema: GraphQLSchema,
) -> Case:
    """The root with these arguments and its objects' own fields, as literals or variables."""
    picks = root_picks(schema, get_named_type(definition.type), None, depth=0)
    name = f"{root}/{label}"
    if not as_variables:
        call = literal_call(definition, values)
        return Case(name, root, "{ " + _field(root + call, plain(picks)) + " }")
    declared = ", ".join(f"${key}: {definition.args[key].type}" for key in values)
    call = "(" + ", ".join(f"{key}: ${key}" for key in values) + ")" if values else ""
    operation = f"query A({declared}) " if values else ""
    query = operation + "{ " + _field(root + call, plain(picks)) + " }"
    return Case(name + " (variables)", root, query, dict(values))


def everything(
    schema: GraphQLSchema, rows: Rows, roots: Iterable[str] | None = None, name: str = "every-root"
) -> Case:
    """The `roots` (all by default) in one document, each with its shape's arguments."""
    assert schema.query_type is not None
    fields = schema.query_type.fields
    parts = []
    for root in fields if roots is None else sorted(roots):
        definition = fields[root]
        values = shape_arguments(root, definition, rows)
        picks = root_picks(schema, get_named_type(definition.type), None, depth=1)
        parts.append(_field(f"{root}: {root}{literal_call(definition, values)}", plain(picks)))
    return Case(f"*/{name}", "*", "{ " + " ".join(parts) + " }")


def bad_variables() -> Iterator[Case]:
    """A document the compiled path serves, sent with a `variables` member that is not
    an object, and with `null` (allowed)."""
    query = "{ serverInfo { version } }"
    for label, value in BAD_VARIABLES.items():
        yield Case(f"*/variables-not-an-object={label}", "*", query, value)
    yield Case("*/variables=null", "*", query, None)


def connection_roots(schema: GraphQLSchema) -> list[str]:
    """Root fields that page with `after` (the suite asks each for a real cursor)."""
    assert schema.query_type is not None
    return [name for name, f in schema.query_type.fields.items() if "after" in f.args]


def cursor_probe(root: str) -> str:
    return f"{{ {root}(first: 1) {{ pageInfo {{ endCursor }} }} }}"

"""Documents derived from the schema for the differential suite (tests/test_differential.py).

Every root Query field, with each of its arguments at its edge values (ids and slugs of
seeded rows, `first` 0/1/100/101, a real cursor and garbage, every enum value, both
booleans), and with its type's selection two relations deep in four spellings: plain,
every field aliased (object fields twice, under two aliases with different halves of
their selection, at every level), under `@skip`/`@include` with literal and variable
conditions, and through named and inline fragments. Nothing here names a root field or a
type: adding one to the schema adds its documents.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
)
from graphql.pyutils import Undefined

# Relations below the root's own type: a type with an `id` is one level; connections,
# edges and value objects (Money, PageInfo) are not levels of their own.
DEPTH = 2
FIRST = (0, 1, 100, 101)
NESTED_FIRST = (0, 1, 101)
GARBAGE = "nonsense"
# Argument values by GraphQL scalar (ids and slugs come from the seeded rows).
SAMPLES: dict[str, Sequence[Any]] = {
    "Boolean": (True, False),
    "Int": (0, 1),
    "Decimal": ("10", "12.5"),
    "DateTime": ("2024-01-01T09:00:00+00:00", "2099-01-01T00:00:00+00:00"),
}
STRINGS: dict[str, Sequence[str]] = {
    "search": ("kettle", "cup"),
    "action": ("product.update",),
    "entity": ("Product",),
    "entityId": ("1",),
}
# `<name>Id` arguments whose type is not `<Name>`.
ID_TYPES = {"actor": "User"}
# (label, directive): literal and variable conditions, both outcomes of each.
DIRECTIVES = (
    ("", ""),
    ("skip-v", "@skip(if: $v)"),
    ("include-v", "@include(if: $v)"),
    ("skip-true", "@skip(if: true)"),
    ("include-false", "@include(if: false)"),
    ("skip-false", "@skip(if: false)"),
    ("include-true", "@include(if: true)"),
    ("include-d", "@include(if: $d)"),
)
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


@dataclass(frozen=True)
class Pick:
    """A field of a selection: a leaf, or an object with its own picks (and, for an
    interface, the picks of each type that implements it)."""

    name: str
    type_name: str
    arguments: str = ""
    children: tuple[Pick, ...] = ()
    possible: tuple[tuple[str, tuple[Pick, ...]], ...] = ()

    @property
    def is_leaf(self) -> bool:
        return not self.children


@dataclass(frozen=True)
class Rows:
    """What the seeded dataset offers: global ids and slugs by type name, and a real
    cursor of each connection root (None: the caller reads no page of it)."""

    ids: Mapping[str, Sequence[str]]
    slugs: Mapping[str, Sequence[str]]
    cursors: Mapping[str, str | None]


# --- selections ---------------------------------------------------------------------


def picks_of(
    schema: GraphQLSchema, type_: GraphQLNamedType, depth: int, nested: str | None
) -> tuple[Pick, ...]:
    """`__typename`, every leaf field, and relations while `depth` lasts; `nested` is
    the argument text given to nested fields that take `first`, None to leave out
    nested fields that take arguments (the compiled path plans no nested page)."""
    if not isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
        return ()
    found = [Pick("__typename", "String")]
    for name, definition in type_.fields.items():
        if _required_arguments(definition):
            continue  # no object field takes one today
        named = get_named_type(definition.type)
        if isinstance(named, GraphQLScalarType | GraphQLEnumType):
            found.append(Pick(name, named.name))
            continue
        left = depth - _level(named)
        if left >= 0 and (nested is not None or not definition.args):
            arguments = nested if nested and "first" in definition.args else ""
            found.append(_object_pick(schema, name, named, left, nested, arguments))
    return tuple(found)


def root_picks(
    schema: GraphQLSchema, type_: GraphQLNamedType, nested: str | None, depth: int = DEPTH
) -> tuple[Pick, ...]:
    """A root's selection: `depth` relations below its objects (a connection's nodes, a
    list's items), which are not a level of their own."""
    return picks_of(schema, type_, depth + 1 - _level(type_), nested)


def _object_pick(
    schema: GraphQLSchema,
    name: str,
    type_: GraphQLNamedType,
    depth: int,
    nested: str | None,
    arguments: str,
) -> Pick:
    possible: tuple[tuple[str, tuple[Pick, ...]], ...] = ()
    if isinstance(type_, GraphQLInterfaceType | GraphQLUnionType):
        possible = tuple(
            (kind.name, picks_of(schema, kind, depth, nested))
            for kind in schema.get_possible_types(type_)
        )
    children = picks_of(schema, type_, depth, nested) or (Pick("__typename", "String"),)
    return Pick(name, type_.name, arguments, children, possible)


def _level(type_: GraphQLNamedType) -> int:
    fields = getattr(type_, "fields", {})
    return 1 if "id" in fields else 0


def _required_arguments(definition: GraphQLField) -> bool:
    return any(_required(argument) for argument in definition.args.values())


# --- spellings ----------------------------------------------------------------------


def plain(picks: Sequence[Pick], directives: bool = False) -> str:
    """The picks as written; with `directives`, each field under the next directive."""
    out = []
    for index, pick in enumerate(picks):
        directive = DIRECTIVES[index % len(DIRECTIVES)][1] if directives else ""
        head = " ".join(part for part in (pick.name + pick.arguments, directive) if part)
        if pick.is_leaf:
            out.append(head)
            continue
        inner = plain(pick.children, directives)
        inner += "".join(
            f" ... on {kind} {directive} {{ {plain(sub, directives)} }}"
            for kind, sub in pick.possible
        )
        out.append(f"{head} {{ {inner} }}")
    return " ".join(out)


def aliased(picks: Sequence[Pick], prefix: str = "") -> str:
    """Every field under an alias: leaves as `x<i>` (the same aliases under sibling
    objects name different fields), objects twice, `a<i>` with one half of their picks
    and `b<i>` with the other (`e1: edges { n1: node { … } n2: node { … } }`)."""
    out = []
    for index, pick in enumerate(picks):
        if pick.is_leaf:
            out.append(f"{prefix}x{index}: {pick.name}")
            continue
        for label, half in zip("ab", _halves(pick.children), strict=True):
            inner = aliased(half) + "".join(
                f" ... on {kind} {{ {aliased(sub, kind.lower())} }}" for kind, sub in pick.possible
            )
            out.append(f"{prefix}{label}{index}: {pick.name}{pick.arguments} {{ {inner} }}")
    return " ".join(out)


def _halves(picks: Sequence[Pick]) -> tuple[Sequence[Pick], Sequence[Pick]]:
    if len(picks) < 2:
        return picks, picks
    return picks[0::2], picks[1::2]


@dataclass
class Fragments:
    """Named fragments of a document, one per distinct (type, selection)."""

    names: dict[tuple[str, str], str] = field(default_factory=dict)

    def spell(self, type_name: str, picks: Sequence[Pick]) -> str:
        """Half of the picks through a named fragment, half in an inline fragment on the
        type, `__typename` in one without a type condition."""
        first, second = _halves(picks)
        name = self._name(type_name, self._plain(first))
        return f"...{name} ... on {type_name} {{ {self._plain(second)} }} ... {{ __typename }}"

    def definitions(self) -> str:
        return " ".join(
            f"fragment {name} on {type_name} {{ {body} }}"
            for (type_name, body), name in self.names.items()
        )

    def _name(self, type_name: str, body: str) -> str:
        return self.names.setdefault((type_name, body), f"F{len(self.names)}{type_name}")

    def _plain(self, picks: Sequence[Pick]) -> str:
        out = []
        for pick in picks:
            head = pick.name + pick.arguments
            if pick.is_leaf:
                out.append(head)
                continue
            inner = self.spell(pick.type_name, pick.children) + "".join(
                f" ... on {kind} {{ {self.spell(kind, sub)} }}" for kind, sub in pick.possible
            )
            out.append(f"{head} {{ {inner} }}")
        return " ".join(out)


# --- documents ------------------------------------------------------------------------


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
    call = _literal_call(definition, values)
    whole = root_picks(schema, named, "")
    yield Case(f"{root}/whole", root, "{ " + _field(root + call, plain(whole)) + " }")
    for first in NESTED_FIRST:
        nested = root_picks(schema, named, f"(first: {first})", depth=1)
        if nested != root_picks(schema, named, "", depth=1):
            body = _field(root + call, plain(nested))
            yield Case(f"{root}/nested-first={first}", root, "{ " + body + " }")
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
    first, second = _halves(picks)
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
        call = _literal_call(definition, values)
        return Case(name, root, "{ " + _field(root + call, plain(picks)) + " }")
    declared = ", ".join(f"${key}: {definition.args[key].type}" for key in values)
    call = "(" + ", ".join(f"{key}: ${key}" for key in values) + ")" if values else ""
    operation = f"query A({declared}) " if values else ""
    query = operation + "{ " + _field(root + call, plain(picks)) + " }"
    return Case(name + " (variables)", root, query, dict(values))


def _literal_call(definition: GraphQLField, values: dict[str, Any]) -> str:
    if not values:
        return ""
    parts = [f"{key}: {literal(value, definition.args[key].type)}" for key, value in values.items()]
    return "(" + ", ".join(parts) + ")"


def literal(value: Any, type_: Any) -> str:
    """`value` as a GraphQL literal of `type_` (enum values bare, objects' fields by type)."""
    named = get_named_type(type_)
    if value is None:
        return "null"
    if isinstance(named, GraphQLInputObjectType):
        inner = ", ".join(f"{k}: {literal(v, named.fields[k].type)}" for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(named, GraphQLEnumType) or isinstance(value, bool | int):
        return json.dumps(value) if isinstance(value, bool | int) else str(value)
    return json.dumps(value)


# --- argument values -------------------------------------------------------------------


def argument_sets(
    root: str, definition: GraphQLField, rows: Rows
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(label, arguments): none at all (when allowed), the required one at each of its
    values, then each optional one at each value beside the first required value."""
    required = [key for key, argument in definition.args.items() if _required(argument)]
    base = shape_arguments(root, definition, rows) if required else {}
    if not required:
        yield "no-arguments", {}
    for key, argument in definition.args.items():
        for label, value in values_of(root, key, argument.type, definition, rows):
            yield f"{key}={label}", {**base, key: value}
    if {"id", "slug"} <= definition.args.keys() and not required:  # one of them, not both
        yield "id-and-slug", {k: _first_value(root, k, definition, rows) for k in ("id", "slug")}


def shape_arguments(root: str, definition: GraphQLField, rows: Rows) -> dict[str, Any]:
    """The arguments of the whole-selection documents: the first value (a real row) of
    the required argument, else of `id`, else none."""
    required = [key for key, argument in definition.args.items() if _required(argument)]
    keys = required or [key for key in definition.args if key == "id"]
    return {key: _first_value(root, key, definition, rows) for key in keys}


def _first_value(root: str, key: str, definition: GraphQLField, rows: Rows) -> Any:
    _, value = next(values_of(root, key, definition.args[key].type, definition, rows))
    return value


def _required(argument: Any) -> bool:
    return isinstance(argument.type, GraphQLNonNull) and argument.default_value is Undefined


def values_of(
    root: str, key: str, type_: Any, definition: GraphQLField, rows: Rows
) -> Iterator[tuple[str, Any]]:
    named = get_named_type(type_)
    if key == "first":
        yield from ((str(n), n) for n in FIRST)
    elif key == "after":
        cursor = rows.cursors.get(root)
        if cursor:
            yield "cursor", cursor
        yield "garbage", GARBAGE
    elif isinstance(named, GraphQLInputObjectType):
        for name, member in named.fields.items():
            for label, value in values_of(root, name, member.type, definition, rows):
                yield f"{{{name}={label}}}", {name: value}
    elif isinstance(named, GraphQLEnumType):
        yield from ((value, value) for value in named.values)
    elif named.name == "ID":
        yield from _ids(key, get_named_type(definition.type).name, rows)
    elif key == "slug":
        yield from (
            (slug, slug) for slug in rows.slugs.get(get_named_type(definition.type).name, ())
        )
    elif named.name == "String":
        yield from ((text, text) for text in STRINGS.get(key, ("x",)))
    else:
        yield from ((json.dumps(value), value) for value in SAMPLES.get(named.name, ()))


def _ids(key: str, returned: str, rows: Rows) -> Iterator[tuple[str, str]]:
    """Every seeded id of the argument's type (one of each type for a Node), an id of
    another type, and garbage."""
    type_name = returned if key == "id" else _id_type(key)
    if type_name in rows.ids:
        yield from ((f"{type_name}#{n}", id_) for n, id_ in enumerate(rows.ids[type_name]))
        other = next(name for name in sorted(rows.ids) if name != type_name)
        yield "wrong-type", rows.ids[other][0]
    else:  # an interface: one of each type
        yield from ((f"{name}#0", ids[0]) for name, ids in sorted(rows.ids.items()))
    yield "garbage", GARBAGE


def _id_type(key: str) -> str:
    base = key.removesuffix("Id")
    return ID_TYPES.get(base, base[:1].upper() + base[1:])


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
        parts.append(_field(f"{root}: {root}{_literal_call(definition, values)}", plain(picks)))
    return Case(f"*/{name}", "*", "{ " + " ".join(parts) + " }")


def bad_variables() -> Iterator[Case]:
    """A document the compiled path serves, sent with a `variables` member that is not
    an object."""
    query = "{ serverInfo { version } }"
    for label, value in BAD_VARIABLES.items():
        yield Case(f"*/variables={label}", "*", query, value)


def connection_roots(schema: GraphQLSchema) -> list[str]:
    """Root fields that page with `after` (the suite asks each for a real cursor)."""
    assert schema.query_type is not None
    return [name for name, f in schema.query_type.fields.items() if "after" in f.args]


def cursor_probe(root: str) -> str:
    return f"{{ {root}(first: 1) {{ pageInfo {{ endCursor }} }} }}"

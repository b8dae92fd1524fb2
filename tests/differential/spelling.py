"""One selection, spelt four ways: plain, under directives, every field aliased, and
through named and inline fragments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tests.differential.selection import Pick

# Literal and variable conditions, both outcomes of each (`$v: Boolean!`,
# `$d: Boolean = true`); fields take them in turn, the first field none.
DIRECTIVES = (
    "",
    "@skip(if: $v)",
    "@include(if: $v)",
    "@skip(if: true)",
    "@include(if: false)",
    "@skip(if: false)",
    "@include(if: true)",
    "@include(if: $d)",
)


def plain(picks: Sequence[Pick], directives: bool = False) -> str:
    """The picks as written; with `directives`, each field under the next directive."""
    out = []
    for index, pick in enumerate(picks):
        directive = DIRECTIVES[index % len(DIRECTIVES)] if directives else ""
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
        for label, half in zip("ab", halves(pick.children), strict=True):
            inner = aliased(half) + "".join(
                f" ... on {kind} {{ {aliased(sub, kind.lower())} }}" for kind, sub in pick.possible
            )
            out.append(f"{prefix}{label}{index}: {pick.name}{pick.arguments} {{ {inner} }}")
    return " ".join(out)


def halves(picks: Sequence[Pick]) -> tuple[Sequence[Pick], Sequence[Pick]]:
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
        first, second = halves(picks)
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

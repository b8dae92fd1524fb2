"""Asking both apps the same questions, and what their answers tell."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hom.core.graphql.limits import request_documents
from tests.collector import settle
from tests.differential.asgi import Answer, payload_bytes, post
from tests.differential.documents import Case
from tests.differential.world import World, refused

# Members whose value is the request's own (its time, its id), not either path's.
VOLATILE = frozenset({"exportedAt", "request_id"})
INTERNAL = "INTERNAL_SERVER_ERROR"


def steady(value: Any) -> Any:
    """`value` with the VOLATILE members' values masked."""
    if isinstance(value, dict):
        return {k: "<volatile>" if k in VOLATILE else steady(v) for k, v in value.items()}
    if isinstance(value, list):
        return [steady(item) for item in value]
    return value


@dataclass(frozen=True)
class Outcome:
    case: Case
    answered: bool  # by the compiled path
    compiled: Answer
    executed: Answer

    @property
    def same(self) -> bool:
        return self.compiled == self.executed

    @property
    def internal(self) -> bool:
        """Either answer carries an internal error (a crafted argument reached SQL)."""
        return INTERNAL in json.dumps([self.compiled, self.executed])

    @property
    def failed(self) -> bool:
        return not self.same or self.internal

    @property
    def refused(self) -> bool:
        return refused(self.executed)

    def describe(self) -> str:
        return (
            f"{self.case.name}\n  query: {abridged(self.case.query)}\n"
            f"  variables: {abridged(self.case.variables)}\n"
            f"  compiled: {abridged(self.compiled)}\n  executor: {abridged(self.executed)}"
        )


def abridged(value: Any, limit: int = 600) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} chars)"


SETTLE_EVERY = 100  # requests: a full collection amid thousands would stall for seconds
Asked = tuple[str, Case, int]  # the caller, the document, its place among the caller's


async def compare(world: World, chosen: Mapping[str, Sequence[Case]]) -> dict[str, list[Outcome]]:
    """Each caller's outcomes of its chosen documents, in their order. A query text is
    parsed and validated once for every caller and both apps, however heavy; a request
    made twice (the same text, variables and caller, under two names) is sent once."""
    by_text: dict[str, dict[bytes, list[Asked]]] = {}
    for caller, cases in chosen.items():
        for place, case in enumerate(cases):
            body = payload_bytes(case.payload())
            by_text.setdefault(case.query, {}).setdefault(body, []).append((caller, case, place))
    found: dict[str, dict[int, Outcome]] = {caller: {} for caller in chosen}
    sent = itertools.count(1)
    for requests in by_text.values():
        with request_documents():
            for body, asked in requests.items():
                answers: dict[str, tuple[bool, Answer, Answer]] = {}
                for caller, case, place in asked:
                    if caller not in answers:
                        answers[caller] = await both(world, caller, body)
                        if next(sent) % SETTLE_EVERY == 0:
                            settle()
                    found[caller][place] = Outcome(case, *answers[caller])
    return {caller: [found[caller][n] for n in range(len(found[caller]))] for caller in found}


async def both(world: World, caller: str, body: bytes) -> tuple[bool, Answer, Answer]:
    """Whether the compiled path answered, its answer and the executor's."""
    compiled = world.app.state.compiled
    before = compiled.answered
    status, mine = await post(world.app, body, world.seeds.tokens[caller])
    answered = compiled.answered > before
    theirs_status, theirs = await world.ask_executor(caller, body)
    return answered, (status, steady(mine)), (theirs_status, steady(theirs))


def coverage(caller: str, outcomes: list[Outcome], served: set[str]) -> str:
    """Per root field: how many documents the compiled path answered, of how many; for
    the roots it serves, which ones it left to the executor."""
    total = Counter(o.case.root for o in outcomes)
    answered = Counter(o.case.root for o in outcomes if o.answered)
    lines = [f"{caller}: compiled path answered {sum(answered.values())} of {len(outcomes)}"]
    for root in sorted(total):
        lines.append(f"  {root:<24} {answered[root]:>3} / {total[root]}")
        if root in served:
            left = [o.case.name for o in outcomes if o.case.root == root and not o.answered]
            lines.append("      left to the executor: " + (", ".join(left) or "none"))
    return "\n".join(lines)

"""The caches keyed by request text stay under their byte bound, whatever is sent."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from hom.app import learn_database_features
from hom.core.config import Settings
from hom.core.graphql.caches import CACHE_BYTES, ENTRY_BYTES
from hom.core.graphql.limits import PARSED

QUERY = "{ products(first: 1) { edges { node { name } } } }"
# Each spread of the fragment is two tokens: ~1 030 tokens weigh ~466 KB in a cache
# (hom.core.graphql.caches.document_weight), under ENTRY_BYTES. Tokens fill the caches for
# a third of the CPU that comments of the same weight take to lex.
SPREADS = 500
HEAVY = CACHE_BYTES // ENTRY_BYTES + 16  # ~37 MB of them: the caches must let some go


def heavy(number: int) -> str:
    """A distinct document of about ENTRY_BYTES by its weight, nearly all tokens."""
    spreads = " ...N" * SPREADS
    return (
        f"query Heavy{number} {{ products(first: 1) {{ edges {{ node {{{spreads} }} }} }} }}\n"
        "fragment N on Product { name }"
    )


def padded(number: int, size: int) -> str:
    """A distinct document of about `size` bytes (comments are not tokens)."""
    return f"# {number} {'x' * size}\n{QUERY}"


async def test_heavy_distinct_documents_leave_the_caches_under_their_bound(
    app: Starlette, client: httpx.AsyncClient, settings: Settings
) -> None:
    await learn_database_features(app.state.services)
    compiled = app.state.compiled
    caches = {"parsed": PARSED, "documents": compiled.documents, "plans": compiled.plans}
    for number in range(HEAVY):
        response = await client.post("/graphql", json={"query": heavy(number)})
        assert response.json()["data"] == {"products": {"edges": []}}
    huge = padded(HEAVY, 950_000)
    assert (await client.post("/graphql", json={"query": huge})).status_code == 200
    assert compiled.answered == HEAVY + 1
    for name, cache in caches.items():
        assert CACHE_BYTES - ENTRY_BYTES < cache.bytes <= CACHE_BYTES, name  # kept, up to full
        assert len(cache) < HEAVY, name  # they do not all fit: the oldest went
    assert PARSED.get((huge, settings.max_tokens)) is None
    assert compiled.documents.get((huge, None)) is None
    assert len(huge) > ENTRY_BYTES

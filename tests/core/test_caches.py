"""The caches keyed by request text stay under their byte bound, whatever is sent."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from hom.app import learn_database_features
from hom.core.config import Settings
from hom.core.graphql.caches import CACHE_BYTES, ENTRY_BYTES
from hom.core.graphql.limits import PARSED

QUERY = "{ products(first: 1) { edges { node { name } } } }"


def padded(number: int, size: int) -> str:
    """A distinct document of about `size` bytes (comments are not tokens)."""
    return f"# {number} {'x' * size}\n{QUERY}"


async def test_large_distinct_documents_leave_the_caches_under_their_bound(
    app: Starlette, client: httpx.AsyncClient, settings: Settings
) -> None:
    await learn_database_features(app.state.services)
    compiled = app.state.compiled
    caches = {"parsed": PARSED, "documents": compiled.documents, "plans": compiled.plans}
    for number in range(200):
        response = await client.post("/graphql", json={"query": padded(number, 200_000)})
        assert response.json()["data"] == {"products": {"edges": []}}
    huge = padded(200, 950_000)
    assert (await client.post("/graphql", json={"query": huge})).status_code == 200
    assert compiled.answered == 201
    for name, cache in caches.items():
        assert 0 < cache.bytes <= CACHE_BYTES, name
        assert len(cache) < 200, name  # 200 x 200 KB do not fit: the oldest went
    assert PARSED.get((huge, settings.max_tokens)) is None
    assert compiled.documents.get((huge, None)) is None
    assert len(huge) > ENTRY_BYTES

"""Fixtures of the plumbing schema (tests/core/plumbing_schema.py), for any test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from hom.core.config import Settings
from tests.core.plumbing_schema import plumbing_client
from tests.support import GraphQLClient


@pytest.fixture
async def plumbing(settings: Settings) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    app, http = await plumbing_client(settings)
    async with http:
        yield app, http
    await app.state.services.close()


@pytest.fixture
def pgql(plumbing: tuple[Starlette, httpx.AsyncClient]) -> GraphQLClient:
    return GraphQLClient(plumbing[1])

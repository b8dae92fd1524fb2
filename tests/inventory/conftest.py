"""Fixtures of the inventory tests."""

from __future__ import annotations

import httpx
import pytest

from hom.core.db import SessionMaker
from hom.core.roles import Role
from tests.factories import signed_in


@pytest.fixture
async def operator_token(client: httpx.AsyncClient, session_maker: SessionMaker) -> str:
    """The access token of a signed-in operator."""
    _, tokens = await signed_in(client, session_maker, Role.OPERATOR)
    return tokens.access_token

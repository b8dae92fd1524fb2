"""The request context resolves its viewer once, whoever asks and however often."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql import GraphQLError
from starlette.requests import Request

from hom.context import Context, context_factory
from hom.core.config import Settings
from hom.core.roles import Role
from hom.core.services import Services
from hom.core.tokens import Claims, TokenType, issue
from hom.core.viewer import Viewer


def request_with(token: str | None) -> Request:
    headers = [(b"authorization", f"Bearer {token}".encode())] if token else []
    return Request({"type": "http", "method": "POST", "path": "/graphql", "headers": headers})


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    services = Services.create(settings)
    yield services
    await services.close()


def make_context(
    services: Services, token: str | None, answers: list[Viewer | None]
) -> tuple[Context, list[Claims]]:
    asked: list[Claims] = []

    async def authenticate(claims: Claims) -> Viewer | None:
        asked.append(claims)
        await asyncio.sleep(0.01)  # other callers arrive meanwhile
        return answers[len(asked) - 1]

    return context_factory(services, authenticate)(request_with(token)), asked


async def test_concurrent_callers_share_one_resolution(
    settings: Settings, services: Services
) -> None:
    token = issue(settings, TokenType.ACCESS, user_id=5, sid="s").token
    viewer = Viewer(5, Role.CUSTOMER, "s", "j", 0)
    context, asked = make_context(services, token, [viewer])
    assert await asyncio.gather(*(context.viewer() for _ in range(5))) == [viewer] * 5
    assert await context.viewer() is viewer
    assert len(asked) == 1


async def test_a_refusal_is_raised_to_every_caller(settings: Settings, services: Services) -> None:
    token = issue(settings, TokenType.ACCESS, user_id=5, sid="s").token
    context, asked = make_context(services, token, [None])
    results: list[Any] = await asyncio.gather(
        *(context.viewer() for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(result, GraphQLError) for result in results)
    with pytest.raises(GraphQLError, match="session has ended"):
        await context.viewer()
    assert len(asked) == 1


async def test_a_fresh_check_asks_again(settings: Settings, services: Services) -> None:
    token = issue(settings, TokenType.ACCESS, user_id=5, sid="s").token
    viewer = Viewer(5, Role.CUSTOMER, "s", "j", 0)
    context, asked = make_context(services, token, [viewer, None])
    assert await context.viewer() is viewer
    with pytest.raises(GraphQLError):
        await context.fresh_viewer()
    assert len(asked) == 2


async def test_no_token_is_no_viewer(services: Services) -> None:
    context, asked = make_context(services, None, [])
    assert await context.viewer() is None
    assert asked == []

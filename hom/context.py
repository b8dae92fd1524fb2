"""The per-request context every resolver sees."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader

from hom.accounts.auth import bearer_token
from hom.accounts.sessions import SessionStore
from hom.core import tokens
from hom.core.config import Settings
from hom.core.db import RequestDatabase
from hom.core.errors import unauthenticated
from hom.core.rate_limit import RateLimiter
from hom.core.redis import RedisKeys
from hom.core.tokens import TokenType
from hom.core.viewer import Viewer

log = structlog.get_logger("hom.auth")
LoaderT = TypeVar("LoaderT", bound=DataLoader[Any, Any])


class Loaders:
    """The request's DataLoaders, each created on first use and shared by every resolver."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self._made: dict[Callable[[Context], Any], Any] = {}

    def get(self, factory: Callable[[Context], LoaderT]) -> LoaderT:
        """The request's loader made by `factory(context)`; one per factory per request."""
        loader = self._made.get(factory)
        if loader is None:
            loader = self._made[factory] = factory(self._context)
        return loader


@dataclass
class Context:
    settings: Settings
    request: Request | WebSocket
    db: RequestDatabase
    redis: Redis
    keys: RedisKeys
    request_id: str
    loaders: Loaders = field(init=False)
    # graphql-transport-ws: the `connection_init` payload (browsers cannot set headers).
    connection_params: dict[str, Any] | None = None
    _viewer: asyncio.Future[Viewer | None] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self)

    @cached_property
    def sessions(self) -> SessionStore:
        return SessionStore(self.redis, self.keys, self.settings)

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        return RateLimiter(self.redis, self.keys)

    def bearer_token(self) -> str | None:
        """From the Authorization header, or a websocket's connection_init payload."""
        header = self.request.headers.get("authorization")
        if header is None and isinstance(self.connection_params, dict):
            value = self.connection_params.get("Authorization") or self.connection_params.get(
                "authorization"
            )
            header = value if isinstance(value, str) else None
        return bearer_token(header)

    async def viewer(self) -> Viewer | None:
        """The caller, resolved once per request: token decoded, session and JTI checked."""
        if self._viewer is None:
            self._viewer = asyncio.ensure_future(self._resolve_viewer())
        return await asyncio.shield(self._viewer)

    async def _resolve_viewer(self) -> Viewer | None:
        token = self.bearer_token()
        if token is None:
            return None
        try:
            claims = tokens.decode(self.settings, token, TokenType.ACCESS)
        except tokens.InvalidToken:
            raise unauthenticated("Invalid or expired access token") from None
        try:
            viewer = await self.sessions.viewer(claims)
        except RedisError:
            log.warning("redis unavailable: authenticated fields fail closed")
            raise unauthenticated("Authentication is unavailable right now") from None
        if viewer is None:
            raise unauthenticated("This session has ended")
        self.request.state.user_id = viewer.user_id
        return viewer

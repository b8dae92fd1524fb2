"""The per-request context every resolver sees: infrastructure only.

Settings, the request's database handle, Redis and its key builder, the
process's pub/sub hub and database features, the request's DataLoaders and the viewer. Domains build
their own stores from it; how a bearer token becomes a viewer is handed in by the
app (accounts knows).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from redis.asyncio import Redis
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader

from hom.core import tokens
from hom.core.config import Settings
from hom.core.db import RequestDatabase
from hom.core.graphql.errors import unauthenticated
from hom.core.pubsub import PubSubHub
from hom.core.redis import RedisKeys
from hom.core.services import DatabaseFeatures, Services
from hom.core.tokens import Claims, TokenType
from hom.core.viewer import ANONYMOUS, Reader, Viewer

# What a caller with a token we no longer accept can do about it (issue 18: a dev restart
# or an expiry must not leave a playground failing every query with no way out).
_WAY_OUT = (
    "sign in again (POST /auth/login; or POST /auth/refresh with your refresh token), "
    "or remove the Authorization header to continue signed out"
)
STALE_TOKEN = f"This access token is expired or no longer valid: {_WAY_OUT}"
ENDED_SESSION = f"This session has ended: {_WAY_OUT}"

LoaderT = TypeVar("LoaderT", bound=DataLoader[Any, Any])
KeyT = TypeVar("KeyT")
ValueT = TypeVar("ValueT")
# The viewer behind valid access-token claims, or None when its session has ended.
Authenticate = Callable[[Claims], Awaitable[Viewer | None]]


class Loaders:
    """The request's DataLoaders, each created on first use and shared by every resolver."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self._made: dict[tuple[Any, ...], Any] = {}

    def get(self, factory: Callable[..., LoaderT], *args: Any) -> LoaderT:
        """The request's loader made by `factory(context, *args)`; one per factory and args."""
        self._context.db.ensure_not_held("Using a loader")
        key = (factory, *args)
        loader = self._made.get(key)
        if loader is None:
            loader = self._made[key] = factory(self._context, *args)
        return loader


def session_loader(
    context: Context, fetch: Callable[[AsyncSession, Sequence[KeyT]], Awaitable[list[ValueT]]]
) -> DataLoader[KeyT, ValueT]:
    """A DataLoader whose batches run `fetch(session, keys)` on the request's session."""

    async def load(keys: Sequence[KeyT]) -> list[ValueT]:
        async with context.db.session() as session:
            return await fetch(session, keys)

    return DataLoader(load_fn=load)


@dataclass(frozen=True)
class _Outcome:
    """A resolved viewer, or the error resolving it raised (raised again to every caller)."""

    viewer: Viewer | None = None
    error: Exception | None = None

    @classmethod
    async def of(cls, resolving: Awaitable[Viewer | None]) -> _Outcome:
        try:
            return cls(viewer=await resolving)
        except Exception as error:
            return cls(error=error)

    def value(self) -> Viewer | None:
        if self.error is not None:
            raise self.error
        return self.viewer


@dataclass
class Context:
    settings: Settings
    request: Request | WebSocket
    db: RequestDatabase
    redis: Redis
    keys: RedisKeys
    request_id: str
    authenticate: Authenticate
    pubsub: PubSubHub
    # The process's, shared: what the database offers (pg_trgm), known without a query.
    features: DatabaseFeatures = field(default_factory=DatabaseFeatures)
    loaders: Loaders = field(init=False)
    # graphql-transport-ws: the `connection_init` payload (browsers cannot set headers).
    connection_params: dict[str, Any] | None = None
    _viewer: _Outcome | None = field(default=None, init=False)
    _viewer_lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self)

    def bearer_token(self) -> str | None:
        """From the Authorization header, or a websocket's connection_init payload."""
        header = self.request.headers.get("authorization")
        if header is None and isinstance(self.connection_params, dict):
            value = self.connection_params.get("Authorization") or self.connection_params.get(
                "authorization"
            )
            header = value if isinstance(value, str) else None
        return tokens.bearer_token(header)

    async def viewer(self) -> Viewer | None:
        """The caller, resolved once per request: token decoded, session and JTI checked.

        The first caller resolves it (no task of its own); callers meanwhile wait for
        that answer, later ones get it at once.
        """
        if self._viewer is None:
            async with self._viewer_lock:
                if self._viewer is None:
                    self._viewer = await _Outcome.of(self._resolve_viewer())
        return self._viewer.value()

    async def fresh_viewer(self) -> Viewer | None:
        """The caller checked anew: a websocket outlives its first check (sessions end,
        tokens expire). Later `viewer()` calls get this answer too."""
        self._viewer = None
        return await self.viewer()

    async def reader(self) -> Reader:
        """Whom this response is read by (for visibility rules)."""
        viewer = await self.viewer()
        return viewer.reader if viewer is not None else ANONYMOUS

    async def _resolve_viewer(self) -> Viewer | None:
        token = self.bearer_token()
        if token is None:
            return None
        try:
            claims = tokens.decode(self.settings, token, TokenType.ACCESS)
        except tokens.InvalidToken:
            raise unauthenticated(STALE_TOKEN) from None
        # Redis down: the error surfaces as SERVICE_UNAVAILABLE (fail closed, and a
        # client does not take a passing outage for being signed out).
        viewer = await self.authenticate(claims)
        if viewer is None:
            raise unauthenticated(ENDED_SESSION)
        self.request.state.user_id = viewer.user_id
        return viewer

    async def close(self) -> None:
        await self.db.close()


def context_factory(
    services: Services, authenticate: Authenticate
) -> Callable[[Request | WebSocket], Context]:
    """How the GraphQL view makes each request's context."""

    def make(request: Request | WebSocket) -> Context:
        return Context(
            settings=services.settings,
            request=request,
            db=RequestDatabase(services.session_maker),
            redis=services.redis,
            keys=services.keys,
            request_id=getattr(request.state, "request_id", ""),
            authenticate=authenticate,
            pubsub=services.pubsub,
            features=services.features,
        )

    return make

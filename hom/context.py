"""The per-request context every resolver sees."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from redis.asyncio import Redis
from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader

from hom.core.config import Settings
from hom.core.db import RequestDatabase
from hom.core.redis import RedisKeys

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

    def __post_init__(self) -> None:
        self.loaders = Loaders(self)

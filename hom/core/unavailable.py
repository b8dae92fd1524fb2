"""A backing service (Redis) is down: REST answers 503 with Retry-After, GraphQL the code
SERVICE_UNAVAILABLE; never a 500 or INTERNAL_SERVER_ERROR, and never a silent bypass."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

import structlog
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

RETRY_AFTER_SECONDS = 5
UNAVAILABLE_DETAIL = "Temporarily unavailable; try again shortly"
log = structlog.get_logger("hom.unavailable")

Endpoint = Callable[[Request], Awaitable[Response]]
# Unreachable, timed out, still loading its data: not an error in a command (a bug).
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError)


def is_unavailable(error: BaseException | None) -> bool:
    """Whether `error` says a backing service is down rather than that our code is wrong."""
    return isinstance(error, UNAVAILABLE)


def service_unavailable() -> JSONResponse:
    return JSONResponse(
        {"detail": UNAVAILABLE_DETAIL},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def needs_redis(endpoint: Endpoint) -> Endpoint:
    """`endpoint`, answering 503 when Redis fails: it fails closed, never runs without it."""

    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        try:
            return await endpoint(request)
        except UNAVAILABLE as error:
            # The class says enough (refused, timed out); messages may name hosts.
            log.warning("redis unavailable", route=request.url.path, error=type(error).__name__)
            return service_unavailable()

    return guarded

"""Health checks: `/health` (all), `/health/db`, `/health/redis`, `/health/live`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hom.core.metrics import DEPENDENCY_UP
from hom.core.migrations import current_revisions, head_revisions
from hom.core.services import Services

CHECK_TIMEOUT_SECONDS = 2.0
log = structlog.get_logger("hom.health")


async def check_db(services: Services) -> None:
    async with services.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def check_redis(services: Services) -> None:
    await services.redis.ping()


async def check_migrations(services: Services) -> None:
    async with services.engine.connect() as connection:
        current = await current_revisions(connection)
    if current != head_revisions():
        raise RuntimeError(f"database at {sorted(current) or 'no revision'}, code at head")


Check = Callable[[Services], Awaitable[None]]
CHECKS: dict[str, Check] = {"db": check_db, "redis": check_redis, "migrations": check_migrations}


async def run_check(name: str, services: Services) -> str:
    """`ok`, or `error` (the reason goes to the log, not to the caller)."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await CHECKS[name](services)
    except Exception as error:
        log.warning("health check failed", check=name, error=str(error) or type(error).__name__)
        DEPENDENCY_UP.labels(name).set(0)
        return "error"
    DEPENDENCY_UP.labels(name).set(1)
    return "ok"


async def report(services: Services, names: list[str]) -> JSONResponse:
    results = await asyncio.gather(*(run_check(name, services) for name in names))
    checks = dict(zip(names, results, strict=True))
    healthy = all(result == "ok" for result in results)
    body = {"status": "ok" if healthy else "error", "checks": checks}
    return JSONResponse(body, status_code=200 if healthy else 503)


async def health(request: Request) -> JSONResponse:
    return await report(request.app.state.services, list(CHECKS))


def single(name: str) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def endpoint(request: Request) -> JSONResponse:
        return await report(request.app.state.services, [name])

    return endpoint


async def live(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def health_routes() -> list[Route]:
    return [
        Route("/health", health, methods=["GET"]),
        Route("/health/db", single("db"), methods=["GET"]),
        Route("/health/redis", single("redis"), methods=["GET"]),
        Route("/health/live", live, methods=["GET"]),
    ]

"""create_app(): routes, middleware and lifespan of the API."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import structlog
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.types import ASGIApp

from hom.accounts.auth_routes import auth_routes
from hom.accounts.media_routes import media_routes
from hom.accounts.sessions import SessionStore
from hom.catalog.listing import log_search_mode
from hom.context import context_factory
from hom.core.config import Settings, get_settings
from hom.core.executor import install_background_executor
from hom.core.graphiql import GRAPHIQL_ASSETS_PATH, graphiql_assets_app
from hom.core.graphql.compiled.endpoint import CompiledReads
from hom.core.graphql.schema import HomSchema
from hom.core.graphql.view import GraphQLView
from hom.core.health import health_routes
from hom.core.logging import configure_logging
from hom.core.metrics import DB_POOL_CHECKED_OUT, DB_POOL_SIZE, exposition, forget_this_worker
from hom.core.middleware import (
    BodyLimitMiddleware,
    GraphQLPostsFirst,
    RequestContextMiddleware,
)
from hom.core.services import Services
from hom.core.tracing import configure_tracing, shutdown_tracing
from hom.notifications.metrics import show_depth
from hom.notifications.outbox import queue_depth
from hom.schema import build_schema

log = structlog.get_logger("hom.app")

CORS_HEADERS = [
    "Authorization",
    "Content-Type",
    "X-Refresh-Token",
    "X-Request-ID",
    # Preflight-forcing headers that multipart uploads must carry (see graphql_view).
    "Apollo-Require-Preflight",
    "X-Apollo-Operation-Name",
    "GraphQL-Preflight",
]


async def metrics(request: Request) -> Response:
    services = request.app.state.services
    await _read_outbox(services)
    pool = services.engine.pool
    DB_POOL_CHECKED_OUT.set(getattr(pool, "checkedout", lambda: 0)())
    DB_POOL_SIZE.set(getattr(pool, "size", lambda: 0)())
    directory = request.app.state.services.settings.prometheus_multiproc_dir
    return Response(exposition(directory), media_type=CONTENT_TYPE_LATEST)


async def _read_outbox(services: Services) -> None:
    """The outbox's depth, read from the table: it shows even when no worker runs."""
    try:
        async with services.session_maker() as session:
            show_depth(await queue_depth(session))
    except Exception:  # the database is away: /health says so; the scrape still answers
        log.warning("outbox depth not read", exc_info=True)


async def learn_database_features(services: Services) -> None:
    """Which search runs (one log line), known to resolvers from now on without a query.
    The database away at start-up does not stop the app: the first search asks instead."""
    try:
        services.features.pg_trgm = await log_search_mode(connection=services.engine)
    except Exception:
        log.warning("search mode not known yet: the database did not answer", exc_info=True)


class HomStarlette(Starlette):
    """Starlette, with POSTs to /graphql answered before its own layers (see
    `GraphQLPostsFirst`)."""

    fast_graphql: tuple[Route, ASGIApp] | None = None

    def build_middleware_stack(self) -> ASGIApp:
        full = super().build_middleware_stack()
        if self.fast_graphql is None:
            return full
        route, view = self.fast_graphql
        return GraphQLPostsFirst(full, RequestContextMiddleware(view), route)


def body_limits(settings: Settings) -> dict[str, int]:
    return {"max_bytes": settings.max_body_bytes, "max_upload_bytes": settings.max_upload_bytes}


def middleware(settings: Settings) -> list[Middleware]:
    return [
        Middleware(RequestContextMiddleware),
        Middleware(
            CORSMiddleware,
            allow_origins=settings.effective_cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=CORS_HEADERS,
            expose_headers=["X-Request-ID", "Retry-After"],
        ),
        Middleware(BodyLimitMiddleware, **body_limits(settings)),
    ]


def main_app() -> Starlette:
    """The app as `hom serve` runs it, in each worker process: logging and tracing set up."""
    settings = get_settings()
    configure_logging(settings)
    configure_tracing(settings)
    app = create_app(settings)
    # What start-up built (modules, the schema, the app) lives as long as the worker:
    # out of the collector's sight, a full collection no longer walks it under load.
    gc.freeze()
    return app


def front_door(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    """`GET /`: the playground where it is on, else where the API is (not a bare 404)."""

    async def answer(request: Request) -> Response:
        if settings.graphiql_enabled:
            return RedirectResponse("/graphql", status_code=307)
        return JSONResponse({"graphql": "/graphql", "health": "/health"})

    return answer


def create_app(settings: Settings | None = None, schema: HomSchema | None = None) -> Starlette:
    """The ASGI app; `schema` is replaceable for tests of the GraphQL plumbing."""
    settings = settings or get_settings()
    services = Services.create(settings)
    authenticate = SessionStore(services.redis, services.keys, settings).viewer
    schema = schema or build_schema(settings)
    compiled = CompiledReads(
        schema, services.engine, settings, services.features, schema.operation_labels
    )
    view = GraphQLView(
        schema,
        settings,
        context_factory(services, authenticate),
        compiled if settings.compiled_reads else None,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        install_background_executor(asyncio.get_running_loop())
        await learn_database_features(services)
        yield
        await services.close()
        shutdown_tracing()
        forget_this_worker(settings.prometheus_multiproc_dir)

    graphql = Route("/graphql", view, methods=["GET", "POST"])
    routes = [
        graphql,
        WebSocketRoute("/graphql", view),
        *auth_routes(),
        *health_routes(),
        *media_routes(settings),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/", front_door(settings), methods=["GET", "HEAD"]),
        Mount(GRAPHIQL_ASSETS_PATH, app=graphiql_assets_app()),
    ]
    app = HomStarlette(routes=routes, middleware=middleware(settings), lifespan=lifespan)
    app.fast_graphql = (graphql, BodyLimitMiddleware(view, **body_limits(settings)))
    app.state.services = services
    app.state.compiled = compiled
    return app

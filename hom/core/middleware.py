"""ASGI middleware: request id, one log line and metrics per request, body size limit."""

from __future__ import annotations

import os
import re
import time
from typing import Any

import structlog
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hom.core.metrics import HTTP_IN_PROGRESS, HTTP_LATENCY, HTTP_REQUESTS, OTHER
from hom.core.tracing import span, tracing_on

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_KEY = REQUEST_ID_HEADER.encode()
# Set by whoever authenticates the request. Not a context variable: resolvers run in
# tasks of their own, whose context changes never reach this middleware.
USER_ID_STATE_KEY = "user_id"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Clients choose the method (h11 takes any token): labels get these and `other`.
_METHOD_LABELS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "WS"})
_QUIET_ROUTES = ("/health", "/metrics")  # measured, not logged
log = structlog.get_logger("hom.request")


def header(scope: Scope, name: bytes) -> bytes | None:
    """A request header's raw value (ASGI servers give names in lower case)."""
    for key, value in scope["headers"]:
        if key == name:
            return value  # type: ignore[no-any-return]
    return None


def request_id_from(scope: Scope) -> str:
    """The caller's X-Request-ID when it is sane, else a fresh one."""
    incoming = (header(scope, _REQUEST_ID_KEY) or b"").decode("latin-1")
    return incoming if _VALID_REQUEST_ID.fullmatch(incoming) else os.urandom(16).hex()


def method_label(scope: Scope) -> str:
    method = scope.get("method", "WS")
    return method if method in _METHOD_LABELS else OTHER


def route_label(scope: Scope) -> str:
    """The matched route's template (bounded), never the raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path is not None else "unmatched"


def bind_request_id(request_id: str) -> None:
    """The request's log context: its id, and nothing left from an earlier request run in
    the same context (in-process clients run requests in their own task)."""
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)


class _Response:
    """The app's `send`, echoing the request id and noting the status."""

    __slots__ = ("request_id", "send", "status")

    def __init__(self, send: Send, request_id: str) -> None:
        self.send = send
        self.request_id = request_id.encode()
        self.status = 500

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            message["headers"] = [*message.get("headers", ()), (_REQUEST_ID_KEY, self.request_id)]
        await self.send(message)


# A websocket's status in metrics and logs (see HTTP_REQUESTS' help): a normal end is 101,
# the handshake's own status; graphql-transport-ws closes for a client's fault with 4400-4499
# (4400 bad message, 4401 not initialised, 4403 refused, 4406 subprotocol, 4429 …), counted
# as that status less 4000; a server's failure is a 5xx.
_NORMAL_CLOSES = frozenset({1000, 1001})
_CLOSE_STATUSES = {1002: 400, 1003: 400, 1007: 400, 1008: 403, 1009: 413, 1012: 503, 1013: 503}


def websocket_status(close_code: int | None) -> int:
    """The HTTP status a websocket's end stands for; None: the client ended it."""
    if close_code is None or close_code in _NORMAL_CLOSES:
        return 101
    if 4400 <= close_code < 4600:
        return close_code - 4000
    return _CLOSE_STATUSES.get(close_code, 500)


class _WebSocketEnd:
    """A websocket's `send`, noting how it ended: 500 until the app accepts it or refuses it
    (an app that raises leaves it so)."""

    __slots__ = ("request_id", "send", "status")

    def __init__(self, send: Send, request_id: str) -> None:
        self.send = send
        self.request_id = request_id.encode()
        self.status = 500

    async def __call__(self, message: Message) -> None:
        kind = message["type"]
        if kind == "websocket.accept":
            self.status = websocket_status(None)
        elif kind == "websocket.close":
            self.status = websocket_status(message.get("code", 1000))
        elif kind == "websocket.http.response.start":
            self.status = message["status"]
        await self.send(message)


class RequestContextMiddleware:
    """Binds `request_id`, echoes it in the response, logs and measures every request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        bind_request_id(request_id)
        response = (
            _Response(send, request_id) if kind == "http" else _WebSocketEnd(send, request_id)
        )
        started = time.perf_counter()
        if kind == "http":  # a websocket is not a request in progress
            HTTP_IN_PROGRESS.inc()
        try:
            if tracing_on():
                await self._traced(scope, receive, response)
            else:
                await self.app(scope, receive, response)
        except Exception:
            if kind == "websocket":  # failed after its accept: a server error all the same
                response.status = websocket_status(1011)
            raise
        finally:
            if kind == "http":
                HTTP_IN_PROGRESS.dec()
            record(scope, response.status, time.perf_counter() - started)

    async def _traced(
        self, scope: Scope, receive: Receive, response: _Response | _WebSocketEnd
    ) -> None:
        with span("HTTP", headers=Headers(scope=scope), server=True) as current:
            try:
                await self.app(scope, receive, response)
            finally:
                annotate_http_span(current, scope, response.status, response.request_id.decode())


def record(scope: Scope, status: int, seconds: float) -> None:
    """The request's metrics and its one log line."""
    method, route = method_label(scope), route_label(scope)
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_LATENCY.labels(method, route).observe(seconds)
    if route.startswith(_QUIET_ROUTES):
        return
    log.info(
        "request",
        method=method,
        path=scope.get("path"),
        status=status,
        duration_ms=round(seconds * 1000, 2),
        user_id=scope.get("state", {}).get(USER_ID_STATE_KEY),
    )


def annotate_http_span(current: Any, scope: Scope, status: int, request_id: str) -> None:
    if current is None:
        return
    method, route = scope.get("method", "WS"), route_label(scope)
    current.update_name(f"{method} {route}")
    current.set_attributes(
        {
            "http.request.method": method,
            "http.route": route,
            "url.path": scope.get("path", ""),
            "http.response.status_code": status,
            "hom.request_id": request_id,
        }
    )


class BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuses bodies over the limit with 413 before anything parses them.

    Multipart uploads get their own (larger) limit; chunked bodies are counted
    as they arrive. A body whose declared Content-Length fits is passed through
    untouched: the server never delivers more than it declares.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit_for(header(scope, b"content-type") or b"")
        declared = (header(scope, b"content-length") or b"").decode("latin-1")
        if not declared.isdigit():
            await self._counted(scope, receive, send, limit)
        elif int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def _limit_for(self, content_type: bytes) -> int:
        is_upload = content_type.startswith(b"multipart/form-data")
        return self.max_upload_bytes if is_upload else self.max_bytes

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await _too_large(limit)(scope, receive, send)


def _too_large(limit: int) -> Any:
    return JSONResponse({"detail": f"Request body larger than {limit} bytes"}, status_code=413)


class GraphQLPostsFirst:
    """POSTs to /graphql without an Origin header go straight to `fast` (the same view
    behind the same request-context and body-limit middleware), past Starlette's error
    middleware, CORS (nothing to do without an Origin) and router: a quarter of the
    app's own CPU on a small query. Everything else takes the whole app."""

    def __init__(self, app: ASGIApp, fast: ASGIApp, route: Any, path: str = "/graphql") -> None:
        self.app = app
        self.fast = fast
        self.route = route
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] == self.path
            and scope["method"] == "POST"
            and header(scope, b"origin") is None
        ):
            scope["route"] = self.route  # the metrics' route label, as the router sets it
            await self.fast(scope, receive, send)
        else:
            await self.app(scope, receive, send)

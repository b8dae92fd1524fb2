"""ASGI middleware: request id, one log line and metrics per request, body size limit."""

from __future__ import annotations

import re
import time
import uuid
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import structlog
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hom.core.metrics import HTTP_IN_PROGRESS, HTTP_LATENCY, HTTP_REQUESTS, OTHER
from hom.core.tracing import span

REQUEST_ID_HEADER = "x-request-id"
# Set by whoever authenticates the request. Not a context variable: resolvers run in
# tasks of their own, whose context changes never reach this middleware.
USER_ID_STATE_KEY = "user_id"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Clients choose the method (h11 takes any token): labels get these and `other`.
_METHOD_LABELS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "WS"})
log = structlog.get_logger("hom.request")


def request_id_from(headers: Headers) -> str:
    """The caller's X-Request-ID when it is sane, else a fresh one."""
    incoming = headers.get(REQUEST_ID_HEADER, "")
    return incoming if _VALID_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


def method_label(scope: Scope) -> str:
    method = scope.get("method", "WS")
    return method if method in _METHOD_LABELS else OTHER


def in_progress(scope: Scope) -> AbstractContextManager[object]:
    """Counts HTTP requests being handled; a websocket is not a request in progress."""
    return HTTP_IN_PROGRESS.track_inprogress() if scope["type"] == "http" else nullcontext()


def route_label(scope: Scope) -> str:
    """The matched route's template (bounded), never the raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path is not None else "unmatched"


class RequestContextMiddleware:
    """Binds `request_id`, echoes it in the response, logs and measures every request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(Headers(scope=scope))
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status = {"code": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER.encode(), request_id.encode()),
                ]
            await send(message)

        started = time.perf_counter()
        with span("HTTP", headers=Headers(scope=scope), server=True) as current, in_progress(scope):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                self._record(scope, status["code"], time.perf_counter() - started)
                annotate_http_span(current, scope, status["code"], request_id)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        method, route = method_label(scope), route_label(scope)
        HTTP_REQUESTS.labels(method, route, str(status)).inc()
        HTTP_LATENCY.labels(method, route).observe(seconds)
        if route.startswith("/health") or route == "/metrics":
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
    as they arrive.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit = self._limit_for(headers)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        await self._counted(scope, receive, send, limit)

    def _limit_for(self, headers: Headers) -> int:
        is_upload = headers.get("content-type", "").startswith("multipart/form-data")
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

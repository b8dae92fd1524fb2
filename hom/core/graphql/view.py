"""The `/graphql` endpoint: Strawberry's ASGI view with our context, JSON and playground."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    Message as TransportMessage,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage

from hom.core.config import Settings
from hom.core.graphiql import graphiql_page
from hom.core.graphql.compiled.endpoint import CompiledReads
from hom.core.graphql.errors import CodedError, TopLevelCode
from hom.core.graphql.limits import request_documents
from hom.core.graphql.response_size import refusal_body
from hom.core.graphql.schema import HomSchema

_CONTEXT_STATE_KEY = "hom_context"
# Any of these forces a CORS preflight, so a cross-site form cannot send a multipart mutation.
PREFLIGHT_HEADERS = ("apollo-require-preflight", "x-apollo-operation-name", "graphql-preflight")
CSRF_MESSAGE = (
    "Multipart requests need a non-empty Apollo-Require-Preflight, "
    "X-Apollo-Operation-Name or GraphQL-Preflight header (CSRF protection)"
)


def is_csrf_safe(scope: Scope) -> bool:
    """False for a multipart POST (a CORS-simple request) without a preflight-forcing header."""
    headers = Headers(scope=scope)
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if scope.get("method") != "POST" or media_type != "multipart/form-data":
        return True
    return any(headers.get(name, "").strip() for name in PREFLIGHT_HEADERS)


def is_json_post(scope: Scope) -> bool:
    if scope["type"] != "http" or scope.get("method") != "POST":
        return False
    media_type = Headers(scope=scope).get("content-type", "").split(";", 1)[0].strip().lower()
    return media_type == "application/json"


def replay(body: bytes) -> Receive:
    """A receive channel that gives `body` once, as one message."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


class RequestContext(Protocol):
    """What the view needs of a request's context: to release it when the request ends."""

    async def close(self) -> None: ...


ContextFactory = Callable[[Request | WebSocket], RequestContext]


class TextWebSocketAdapter(ASGIWebSocketAdapter):
    """graphql-transport-ws speaks text frames; our JSON encoder returns bytes."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(self.view.encode_json_string(message))
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class LimitedTransportWSHandler(BaseGraphQLTransportWSHandler[Any, None]):
    """graphql-transport-ws whose operations-per-connection limit is a coded error, and whose
    malformed messages are all protocol errors (4400)."""

    async def handle_message(self, message: TransportMessage) -> None:
        """Strawberry reads any JSON as an object: a list, or a subscribe whose payload is
        not an object, crashed the connection (1011, a traceback) instead."""
        malformed = not isinstance(message, dict) or (
            message.get("type") == "subscribe" and not isinstance(message.get("payload"), dict)
        )
        if malformed:
            await self.handle_invalid_message("Failed to parse message")
            return
        await super().handle_message(message)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        limit = self.max_subscriptions_per_connection
        if self.connection_acknowledged and limit is not None and len(self.operations) >= limit:
            error = CodedError(
                f"At most {limit} operations at once on one connection",
                TopLevelCode.QUERY_TOO_COMPLEX,
            )
            payload = [error.formatted]
            await self.send_message({"id": message["id"], "type": "error", "payload": payload})
            return
        await super().handle_subscribe(message)


class GraphQLView(GraphQL[Any, None]):
    """POST JSON or multipart and GET queries, `graphql-transport-ws`, offline GraphiQL."""

    websocket_adapter_class = TextWebSocketAdapter
    graphql_transport_ws_handler_class = LimitedTransportWSHandler

    def __init__(
        self,
        schema: HomSchema,
        settings: Settings,
        make_context: ContextFactory,
        compiled: CompiledReads | None = None,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            allowed_origins=settings.effective_cors_origins,
            multipart_uploads_enabled=True,
        )
        self.make_context = make_context
        self.compiled = compiled
        self.max_subscriptions_per_connection = settings.max_subscriptions_per_connection
        self.max_response_bytes = settings.max_response_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not is_csrf_safe(scope):
            await PlainTextResponse(CSRF_MESSAGE, status_code=400)(scope, receive, send)
            return
        try:
            if scope["type"] == "http":
                with request_documents():  # a query the compiled path declines is parsed once
                    await self._answer_http(scope, receive, send)
            else:
                await super().__call__(scope, receive, send)
        finally:
            context = scope.get("state", {}).pop(_CONTEXT_STATE_KEY, None)
            if context is not None:
                await context.close()

    async def _answer_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.compiled is not None and is_json_post(scope):
            replayed = await self._answer_compiled(scope, receive, send)
            if replayed is None:
                return
            receive = replayed
        await super().__call__(scope, receive, send)

    async def _answer_compiled(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """Answers a plannable query (None: done); else the body, replayed for the executor."""
        assert self.compiled is not None
        request = Request(scope, receive)
        body = await request.body()
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return replay(body)
        answer = await self.compiled.answer(payload, self._context_of(request))
        if answer is None:
            return replay(body)
        await Response(answer, media_type="application/json")(scope, receive, send)
        return None

    def _context_of(self, request: Request | WebSocket) -> RequestContext:
        """The request's context, made once: the executor reuses the compiled path's."""
        context = getattr(request.state, _CONTEXT_STATE_KEY, None)
        if context is None:
            context = self.make_context(request)
            setattr(request.state, _CONTEXT_STATE_KEY, context)
        return context

    async def parse_multipart(self, request: AsyncHTTPRequestAdapter) -> dict[str, str]:
        """Strawberry's parser, with a `map` that does not fit `operations` a 400, not a 500."""
        try:
            return await super().parse_multipart(request)
        except json.JSONDecodeError:
            raise
        except (AttributeError, TypeError, ValueError, IndexError) as error:
            raise HTTPException(400, "The multipart `map` does not match `operations`") from error

    async def get_context(self, request: Request | WebSocket, response: Any) -> RequestContext:
        return self._context_of(request)

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(graphiql_page())

    def decode_json(self, data: str | bytes) -> object:
        """orjson: invalid UTF-8 and absurd nesting are decode errors (400), not crashes."""
        value = orjson.loads(data)
        if not isinstance(value, dict | list):
            raise json.JSONDecodeError("a GraphQL request is a JSON object", "", 0)
        return value

    def encode_json(self, data: object) -> bytes:
        """orjson; an answer over MAX_RESPONSE_BYTES becomes its refusal (as on the
        compiled path, which measures its bodies alike)."""
        body = orjson.dumps(data)
        if len(body) <= self.max_response_bytes or not isinstance(data, dict):
            return body
        if "data" not in data:  # a websocket message: subscriptions stream their own way
            return body
        return refusal_body(self.max_response_bytes, data.get("extensions"))

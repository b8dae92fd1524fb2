"""A GraphQL POST sent straight to an ASGI app, as httpx's ASGITransport sends it (the
same scope, body and receive channel), without the client around it: the suite sends
some 10 000 requests, and httpx's own work per request (URL and header models, cookie
jar, streams: nothing the suite compares) took about 15 % of their time in cProfile."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.types import ASGIApp, Message

Answer = tuple[int, Any]  # the status, and the body as JSON (as text when it is not JSON)


def payload_bytes(payload: Any) -> bytes:
    """The request body, encoded as httpx encodes `json=`."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode()


async def post(app: ASGIApp, body: bytes, token: str | None) -> Answer:
    """POST `body` to the app's /graphql, with `token` as the bearer if any."""
    headers = [
        (b"host", b"testserver"),
        (b"accept", b"*/*"),
        (b"content-length", str(len(body)).encode()),
        (b"content-type", b"application/json"),
    ]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "headers": headers,
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "server": ("testserver", None),
        "client": ("127.0.0.1", 123),
        "root_path": "",
    }
    status, parts, done = 0, [], asyncio.Event()
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:  # what the transport does: a disconnect once the response is complete
            await done.wait()
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))
            if not message.get("more_body", False):
                done.set()

    await app(scope, receive, send)
    return status, decoded(b"".join(parts))


def decoded(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", errors="replace")

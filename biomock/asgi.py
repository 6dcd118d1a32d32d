"""Small ASGI wrappers that apply to every route, the stream included.

CORS and request hygiene (the Host check, body size and media type) live here rather
than in Quart extensions because the stream route is served below Quart; one policy
then covers every response.
"""

from __future__ import annotations

from dataclasses import dataclass

import trio
from hypercorn.typing import ASGISendCallable, ASGISendEvent, HTTPScope, WebsocketScope

from biomock.errors import ApiError

ALLOWED_METHODS = b"GET, POST, DELETE, OPTIONS"
# `*` does not cover Authorization, so every header a client may send is listed.
ALLOWED_HEADERS = b"Last-Event-ID, Authorization, Content-Type, Cache-Control, X-Biomock-Session"


@dataclass(frozen=True, slots=True)
class CorsPolicy:
    """Which origins may read responses: ``("*",)`` (development) or an allow-list."""

    origins: tuple[str, ...]

    def headers_for(self, origin: str | None) -> list[tuple[bytes, bytes]]:
        if "*" in self.origins:
            return [(b"access-control-allow-origin", b"*")]
        if origin is not None and origin in self.origins:
            return [(b"access-control-allow-origin", origin.encode()), (b"vary", b"Origin")]
        return []


def header(scope: HTTPScope | WebsocketScope, name: bytes) -> str | None:
    """The first value of the (lower-case) header ``name``."""
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


async def refuse_websocket(send: ASGISendCallable, error: ApiError) -> None:
    """Refuse a WebSocket handshake with an HTTP answer in API.md's JSON shape.

    Uses the ASGI ``websocket.http.response`` extension, which Hypercorn supports.
    """
    body = error.body_bytes()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send(
        {"type": "websocket.http.response.start", "status": error.status, "headers": headers}
    )
    await send({"type": "websocket.http.response.body", "body": body, "more_body": False})


def _origin(scope: HTTPScope) -> str | None:
    return header(scope, b"origin")


def request_target(scope: HTTPScope | WebsocketScope) -> str:
    """The path and query as the client sent them: percent-escapes stay escaped (for logs)."""
    path = scope.get("raw_path") or scope["path"].encode()
    query = scope["query_string"]
    return (path + (b"?" + query if query else b"")).decode("latin-1")


def client_address(scope: HTTPScope | WebsocketScope) -> str:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else "-"


async def send_error(send: ASGISendCallable, error: ApiError) -> None:
    """Answer with API.md's JSON error (the final send shielded, see :func:`shield_final_send`)."""
    body = error.body_bytes()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in error.headers.items()),
    ]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    with trio.CancelScope(shield=True):
        await send({"type": "http.response.body", "body": body, "more_body": False})


def cors_send(policy: CorsPolicy, scope: HTTPScope, send: ASGISendCallable) -> ASGISendCallable:
    """Wrap ``send`` so the response start carries the CORS headers."""
    extra = policy.headers_for(_origin(scope))
    if not extra:
        return send

    async def send_with_cors(message: ASGISendEvent) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), *extra]}
        await send(message)

    return send_with_cors


async def preflight(scope: HTTPScope, send: ASGISendCallable) -> bool:
    """Answer a CORS preflight request; returns whether ``scope`` was one."""
    if scope["method"] != "OPTIONS":
        return False
    if not any(key.lower() == b"access-control-request-method" for key, _ in scope["headers"]):
        return False
    headers = [
        (b"access-control-allow-methods", ALLOWED_METHODS),
        (b"access-control-allow-headers", ALLOWED_HEADERS),
        (b"access-control-max-age", b"600"),
        (b"content-length", b"0"),
    ]
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    with trio.CancelScope(shield=True):
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    return True


def shield_final_send(send: ASGISendCallable) -> ASGISendCallable:
    """Shield the last body message from cancellation.

    Under Hypercorn's trio worker, quart-trio's request nursery can be cancelled by
    ``http.disconnect`` while its final send is in flight; the response then never
    completes and the connection is never closed. Shielding that one send lets the
    exchange finish, so idle keep-alive and ``Connection: close`` connections end.
    """

    async def send_shielded(message: ASGISendEvent) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            with trio.CancelScope(shield=True):
                await send(message)
        else:
            await send(message)

    return send_shielded

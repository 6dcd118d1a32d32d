"""``GET /api/ws``, as documented: the WebSocket stream itself is served below Quart.

``BiomockApp.asgi_app`` hands every WebSocket handshake to ``biomock.ws.serve_ws``
(and answers a plain GET with 426) before Quart routes it. OpenAPI has no words for
WebSocket messages, so this declaration documents the handshake (its query
parameters, the same model as ``/api/stream``'s, its ``Upgrade`` headers, ``101
Switching Protocols``) and the description lists the messages.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from quart import Blueprint, Response
from quart_schema import document_headers, document_querystring

from biomock.errors import ApiError
from biomock.models import StreamQuery
from biomock.openapi import UPGRADE_ATTRIBUTE
from biomock.ws import PATH

blueprint = Blueprint("ws", __name__)


class WsHeaders(BaseModel):
    upgrade: Literal["websocket"] = Field(description="The WebSocket handshake (RFC 6455).")
    connection: Literal["Upgrade"] = Field(description="The WebSocket handshake.")
    sec_websocket_key: str = Field(description="The WebSocket handshake's nonce.")
    sec_websocket_version: Literal["13"] = Field(description="The WebSocket handshake.")
    x_biomock_session: str | None = Field(
        None, description="A session's id, as ?session= (the query parameter wins)."
    )


MESSAGES = (
    "Server to client, JSON text messages: "
    '{"type": "samples", "items": [...]} one per wake-up, ids increasing, each item exactly '
    "as in the chosen format; "
    '{"type": "reset", "reason": "expired" | "unknown", "oldest_id", "newest_id"} first when a '
    "resume point cannot be honoured; "
    '{"type": "heartbeat", "time": "..."} after BIOMOCK_HEARTBEAT_S of silence; '
    '{"type": "error", "error": {"code", "message", "parameter"}} answering a bad message '
    "(the connection stays open). "
    'Client to server: {"type": "subscribe", "types": [...], "subject": "...", '
    '"format": "...", "last_event_id": N} replaces the subscription in place, with no gap or '
    "duplicate (omitted fields take their defaults; no last_event_id means the last id sent). "
    "Close codes: 1000 a replay without loop is finished, 1001 server shutting down, "
    "1008 too slow or lagged (reconnect with last_event_id), 1011 internal error, "
    "1013 try again later."
)


@blueprint.get(PATH)
@document_querystring(StreamQuery)
@document_headers(WsHeaders)
async def websocket_stream() -> Response:
    """WebSocket: every new sample, live, as JSON messages.

    The same stream as /api/stream: same ids, filters, formats, resume and slow-client
    policy. Invalid parameters are refused before the upgrade with the usual JSON error
    (400; 503 with Retry-After at the subscriber limit).
    """
    # biomock.app answers every request for /api/ws before Quart routes it.
    raise ApiError(426, "upgrade_required", "GET /api/ws is a WebSocket")


setattr(websocket_stream, UPGRADE_ATTRIBUTE, MESSAGES)

"""``GET /api/stream``, as documented: the route itself is served below Quart.

``BiomockApp.asgi_app`` hands every request for ``/api/stream`` to
``biomock.stream.StreamRoute`` before Quart routes it (Quart's per-chunk response
machinery would add a timeout and overhead to an endless response). This view only
declares the route, so that ``/openapi.json`` describes it from the same models
that validate it (``biomock.params.stream_request``).
"""

from __future__ import annotations

from quart import Blueprint, Response
from quart_schema import document_headers, document_querystring

from biomock.models import StreamHeaders, StreamQuery
from biomock.openapi import media_type

blueprint = Blueprint("stream", __name__)

PATH = "/api/stream"


@blueprint.get(PATH)
@document_querystring(StreamQuery)
@document_headers(StreamHeaders)
@media_type(
    "text/event-stream",
    "An endless stream: a retry: field first, then one event per sample (id: and data:), "
    "an event: reset when a resume point is gone, and a keepalive comment after 15 s of "
    "silence.",
)
async def stream() -> Response:
    """Server-Sent Events: every new sample, live.

    Resume with Last-Event-ID: the buffered samples after that id are replayed first,
    with no gap and no duplicate. Errors (400 for an unknown type, subject or format;
    503 with Retry-After at the subscriber limit) come before the stream starts.
    """
    raise RuntimeError("/api/stream is served by biomock.stream.StreamRoute")

"""``GET /api/history``: buffered samples as JSON pages, oldest first."""

from __future__ import annotations

from quart import Blueprint, Response
from quart_schema import document_headers, document_response, validate_querystring

from biomock.models import HistoryPage, HistoryQuery, SessionHeaders
from biomock.params import sample_filter
from biomock.state import current_simulation

blueprint = Blueprint("history", __name__)


@blueprint.get("/api/history")
@validate_querystring(HistoryQuery)
@document_headers(SessionHeaders)
@document_response(HistoryPage)
async def history(query_args: HistoryQuery) -> Response:
    """Buffered samples as JSON pages, oldest first."""
    simulation = await current_simulation()
    filter = sample_filter(query_args, simulation.source.subjects)
    since_ms, until_ms = query_args.bounds_ms()
    records, next_after_id = simulation.hub.history(
        filter,
        after_id=query_args.after_id,
        since_ms=since_ms,
        until_ms=until_ms,
        limit=query_args.limit,
    )
    # The samples' JSON was encoded once, at publish: join it rather than re-encode.
    items = b",".join(record.json(filter.format) or b"" for record in records)
    tail = b"null" if next_after_id is None else str(next_after_id).encode()
    body = b'{"items":[' + items + b'],"next_after_id":' + tail + b"}"
    return Response(body, content_type="application/json")

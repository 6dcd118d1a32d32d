"""Sessions: ``POST``/``GET /api/sessions`` and ``GET``/``DELETE /api/sessions/{id}``.

The registry (``biomock.sessions``) owns the sessions; these routes validate the body
with its model, say who is asking (with authentication on, a session belongs to the
token that created it) and shape the answers.
"""

from __future__ import annotations

from quart import Blueprint, Response, request
from quart_schema import document_response, validate_request

from biomock.auth import principal_of
from biomock.models import SessionCreate, SessionInfo, SessionList
from biomock.openapi import media_type
from biomock.routes.common import json_response
from biomock.state import current_state

blueprint = Blueprint("sessions", __name__)


@blueprint.post("/api/sessions")
@validate_request(SessionCreate)
@document_response(SessionInfo, 201)
async def create_session(data: SessionCreate) -> Response:
    """Create a private simulation: its own subjects, seed, scenario, clock, buffer and ids.

    503 too_many_sessions at BIOMOCK_MAX_SESSIONS.
    """
    sessions = current_state().sessions
    session = await sessions.create(data, principal_of(request.scope))
    return json_response(
        sessions.describe(session), 201, headers={"Location": f"/api/sessions/{session.id}"}
    )


@blueprint.get("/api/sessions")
@document_response(SessionList)
async def list_sessions() -> Response:
    """The sessions the caller may see: all with authentication off, its own with it on."""
    sessions = current_state().sessions
    return json_response({"items": await sessions.listing(principal_of(request.scope))})


@blueprint.get("/api/sessions/<id>")
@document_response(SessionInfo)
async def get_session(id: str) -> Response:
    """One session; 404 (parameter session) when it does not exist or is not the caller's."""
    sessions = current_state().sessions
    session = await sessions.get(id, principal_of(request.scope))
    return json_response(sessions.describe(session))


@blueprint.delete("/api/sessions/<id>")
@media_type(None, "Deleted: its streams end cleanly.")
async def delete_session(id: str) -> Response:
    """End a session now: its streams end cleanly (SSE: the response ends; WS: close 1000)."""
    await current_state().sessions.delete(id, principal_of(request.scope))
    return Response(b"", status=204)

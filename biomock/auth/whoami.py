"""``GET /api/whoami``: who the request's token is and what it may do.

A client (the dashboard) learns from it whether authentication is on, the token's
name (a static token's ``name`` or the JWT's ``sub``), which scopes it has and when it
expires, so that it can show who is signed in and hide the controls the token cannot
use. Any valid token may ask; the token itself is never repeated.
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from quart import Response, request
from quart_schema import document_response
from quart_trio import QuartTrio

from biomock.auth.gate import principal_of
from biomock.auth.scopes import SCOPES
from biomock.sample import format_time

PATH = "/api/whoami"


class WhoAmI(BaseModel):
    """The caller's identity and scopes."""

    authentication: bool = Field(description="Whether the server requires tokens.")
    name: str | None = Field(description="The token's name or JWT sub; null without auth.")
    scopes: list[str] = Field(
        description="What the caller may do (admin expanded); every scope without auth."
    )
    expires_at: str | None = Field(description="The JWT's exp (ISO 8601 UTC), else null.")


@document_response(WhoAmI)
async def whoami() -> Response:
    """Who the token is, and what it may do."""
    principal = principal_of(request.scope)
    if principal is None:  # the gate admitted the request without a token: auth is off
        body = WhoAmI(authentication=False, name=None, scopes=list(SCOPES), expires_at=None)
    else:
        expires = principal.expires_at
        body = WhoAmI(
            authentication=True,
            name=principal.name,
            scopes=[s for s in SCOPES if principal.allows(s)],
            expires_at=None if expires is None else format_time(int(expires * 1000)),
        )
    return Response(body.model_dump_json(), content_type="application/json")


def add_whoami_route(app: QuartTrio) -> None:
    app.add_url_rule(PATH, "whoami", whoami, methods=["GET"])

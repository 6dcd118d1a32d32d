"""The API's description: ``GET /openapi.json`` and the page for it, ``GET /docs``."""

from __future__ import annotations

import json

from jinja2 import Environment
from quart import Blueprint, Response, current_app
from quart_schema import document_response

from biomock.auth.openapi import TOKEN_BOX
from biomock.models import OpenAPIDocument
from biomock.openapi import DOCS_TEMPLATE, brief, build_document, media_type, pretty

blueprint = Blueprint("docs", __name__)

# A plain (synchronous) Jinja environment: Quart's renders through its context processors,
# which quart-trio runs in a worker thread; this page needs none of them.
DOCS_PAGE = Environment(autoescape=True).from_string(DOCS_TEMPLATE)


@blueprint.get("/openapi.json")
@document_response(OpenAPIDocument)
async def openapi() -> Response:
    """This document: OpenAPI 3.1, generated from the routes."""
    return Response(json.dumps(build_document(current_app)), content_type="application/json")


@blueprint.get("/docs")
@media_type("text/html", "The API reference as one page that needs no network.")
async def docs() -> Response:
    """The API reference, rendered from this document."""
    page = DOCS_PAGE.render(
        doc=build_document(current_app), dumps=pretty, brief=brief, token_box=TOKEN_BOX
    )
    return Response(page, content_type="text/html; charset=utf-8")

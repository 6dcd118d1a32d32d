"""The API's description: ``GET /openapi.json`` and the page for it, ``GET /docs``."""

from __future__ import annotations

import json

from quart import Blueprint, Response, current_app, render_template_string
from quart_schema import document_response

from biomock.models import OpenAPIDocument
from biomock.openapi import DOCS_TEMPLATE, brief, build_document, media_type, pretty

blueprint = Blueprint("docs", __name__)


@blueprint.get("/openapi.json")
@document_response(OpenAPIDocument)
async def openapi() -> Response:
    """This document: OpenAPI 3.1, generated from the routes."""
    return Response(json.dumps(build_document(current_app)), content_type="application/json")


@blueprint.get("/docs")
@media_type("text/html", "The API reference as one page that needs no network.")
async def docs() -> str:
    """The API reference, rendered from this document."""
    return await render_template_string(
        DOCS_TEMPLATE, doc=build_document(current_app), dumps=pretty, brief=brief
    )

"""App-wide hooks: API.md's JSON error for every failure, and one access-log line per request."""

from __future__ import annotations

import json
import logging
from typing import Any

import trio
from pydantic import BaseModel, ValidationError
from quart import Blueprint, Response, current_app, g, request
from quart_schema import RequestSchemaValidationError
from quart_schema.validation import QUART_SCHEMA_REQUEST_ATTRIBUTE
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from biomock.asgi import request_target
from biomock.errors import ApiError, from_validation, method_not_allowed, not_found
from biomock.logs import log_request

logger = logging.getLogger(__name__)

blueprint = Blueprint("common", __name__)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """``body`` as an ``application/json`` response."""
    return Response(
        json.dumps(body), status=status, headers=headers, content_type="application/json"
    )


@blueprint.before_app_request
async def start_timer() -> None:
    g.request_started = trio.current_time()


@blueprint.after_app_request
async def log_finished(response: Response) -> Response:
    log_request(
        request.method,
        request_target(request.scope),
        response.status_code,
        trio.current_time() - g.get("request_started", trio.current_time()),
        request.remote_addr or "-",
    )
    return response


@blueprint.app_errorhandler(ApiError)
async def api_error(error: ApiError) -> Response:
    return json_response(error.body(), error.status, error.headers)


@blueprint.app_errorhandler(RequestSchemaValidationError)
async def invalid_request(error: RequestSchemaValidationError) -> Response:
    """A query or body its model refused: ``invalid_parameter`` naming the field."""
    cause = error.validation_error
    if not isinstance(cause, ValidationError):  # quart-schema wraps TypeError/ValueError too
        return await api_error(ApiError(400, "invalid_json", "the request body is not valid"))
    return await api_error(from_validation(cause, _request_model()))


def _request_model() -> type[BaseModel] | None:
    rule = request.url_rule
    view = current_app.view_functions.get(rule.endpoint) if rule is not None else None
    declared = getattr(view, QUART_SCHEMA_REQUEST_ATTRIBUTE, None)
    return declared[0] if declared is not None else None


# Quart's own refusals, by status: what API.md calls them.
_HTTP_CODES = {
    400: "invalid_json",
    408: "request_timeout",
    413: "payload_too_large",
    415: "unsupported_media_type",
    431: "request_header_fields_too_large",
}


@blueprint.app_errorhandler(HTTPException)
async def http_error(error: HTTPException) -> Response:
    if isinstance(error, NotFound):
        return await api_error(not_found(f"no route {request.method} {request.path}"))
    if isinstance(error, MethodNotAllowed):
        return await api_error(method_not_allowed(request.method, request.path))
    status = error.code or 500
    code = _HTTP_CODES.get(status, "internal" if status >= 500 else "invalid_request")
    return json_response({"error": {"code": code, "message": error.description}}, status)


@blueprint.app_errorhandler(Exception)
async def unexpected(error: Exception) -> Response:
    logger.error("unexpected error on %s %s", request.method, request.path, exc_info=error)
    return json_response({"error": {"code": "internal", "message": "internal server error"}}, 500)

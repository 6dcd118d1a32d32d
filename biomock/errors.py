"""Domain errors and the one JSON error shape of API.md.

Every error a client can see is ``{"error": {"code", "message", "parameter"?}}``
with a 4xx/5xx status; nothing else (no stack trace, no HTML) ever leaves.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError


class ApiError(Exception):
    """An error answered to the client as API.md's JSON error.

    Args:
        status: the HTTP status (4xx/5xx).
        code: one of API.md's error codes, e.g. ``invalid_parameter``.
        message: a sentence a developer can act on.
        parameter: the offending query parameter or body field, if any.
        headers: extra response headers (e.g. ``Retry-After``).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        parameter: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.parameter = parameter
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.parameter is not None:
            error["parameter"] = self.parameter
        return {"error": error}

    def body_bytes(self) -> bytes:
        return json.dumps(self.body()).encode()


def invalid_parameter(parameter: str, message: str) -> ApiError:
    """A 400 ``invalid_parameter`` naming ``parameter``."""
    return ApiError(400, "invalid_parameter", message, parameter=parameter)


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


def invalid_json(message: str) -> ApiError:
    """A 400 ``invalid_json``: the body is not JSON, or not the JSON object expected."""
    return ApiError(400, "invalid_json", message)


def method_not_allowed(method: str, path: str) -> ApiError:
    return ApiError(405, "method_not_allowed", f"{method} is not allowed on {path}")


def from_validation(
    error: ValidationError,
    model: type[BaseModel] | None = None,
    *,
    names: Mapping[str, str] | None = None,
) -> ApiError:
    """API.md's error for the first problem pydantic found in a request model.

    Args:
        error: what validating ``model`` raised.
        model: the model validated, for the list of valid fields of an unknown one.
        names: how the client spells a field, where that differs from its name in the
            model (a header, for instance).
    """
    first = error.errors(include_url=False)[0]
    if not first["loc"]:  # the body as a whole is not an object
        return invalid_json("the request body must be a JSON object")
    field = str(first["loc"][0])
    name = (names or {}).get(field, field)
    kind = first["type"]
    if kind == "extra_forbidden":
        valid = f"; valid: {', '.join(model.model_fields)}" if model is not None else ""
        message = f"unknown field {name!r}{valid}"
    elif kind == "missing":
        message = f"{name} is required"
    elif kind == "value_error":
        reason = str(first.get("ctx", {}).get("error", first["msg"]))
        message = reason if reason.startswith(("unknown ", name)) else f"{name} {reason}"
    else:
        shown = repr(first.get("input"))
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        message = f"{name}: {first['msg'][:1].lower()}{first['msg'][1:]}, got {shown}"
    return invalid_parameter(name, message)


class TooManySubscribers(Exception):
    """The configured subscriber limit is reached."""


class HubClosed(Exception):
    """The hub is shutting down; no stream is served any more."""


class SubscriberLagged(Exception):
    """Samples this subscriber had not yet been sent were dropped from the buffer."""

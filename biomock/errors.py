"""Domain errors and the one JSON error shape of API.md.

Every error a client can see is ``{"error": {"code", "message", "parameter"?}}``
with a 4xx/5xx status; nothing else (no stack trace, no HTML) ever leaves.
"""

from __future__ import annotations

import json
from typing import Any


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


class TooManySubscribers(Exception):
    """The configured subscriber limit is reached."""


class HubClosed(Exception):
    """The hub is shutting down; no stream is served any more."""


class SubscriberLagged(Exception):
    """Samples this subscriber had not yet been sent were dropped from the buffer."""

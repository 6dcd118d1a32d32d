"""Which scope each route needs: the one table every request is checked against.

The table is applied once, at the ASGI layer (``biomock.auth.gate``), before a request
reaches Quart or the stream routes served below it; no route checks a token itself.
"""

from __future__ import annotations

import posixpath
import re
from typing import Final, Literal

Scope = Literal["read", "control", "metrics", "admin"]
SCOPES: Final[tuple[Scope, ...]] = ("read", "control", "metrics", "admin")

OPEN: Final = "open"
"""Answered without a token: health, readiness, the API reference and the dashboard."""

AUTHENTICATED: Final = "authenticated"
"""Any valid token: an API path the table does not list (its answer is a 404 or 405)."""

Requirement = Scope | Literal["open", "authenticated"]

# (method, path pattern) -> scope; ``{id}`` stands for one path segment. HEAD is read as GET.
ROUTE_SCOPES: Final[dict[tuple[str, str], Scope | Literal["authenticated"]]] = {
    ("GET", "/api/whoami"): "authenticated",
    ("GET", "/api/stream"): "read",
    ("GET", "/api/ws"): "read",
    ("GET", "/api/history"): "read",
    ("GET", "/api/types"): "read",
    ("GET", "/api/subjects"): "read",
    ("GET", "/api/scenarios"): "read",
    ("GET", "/api/clock"): "read",
    ("GET", "/api/stats"): "read",
    ("GET", "/api/sessions"): "read",
    ("GET", "/api/sessions/{id}"): "read",
    ("POST", "/api/scenario"): "control",
    ("POST", "/api/clock"): "control",
    ("POST", "/api/sessions"): "control",
    ("DELETE", "/api/sessions/{id}"): "control",
    ("GET", "/metrics"): "metrics",
}

OPEN_PATHS: Final = frozenset({"/healthz", "/readyz", "/docs", "/openapi.json"})

_PATTERNS: Final = [
    (method, re.compile(re.escape(path).replace(r"\{id\}", "[^/]+") + r"\Z"), scope)
    for (method, path), scope in ROUTE_SCOPES.items()
]


def _protected(path: str) -> bool:
    return any(path == root or path.startswith(root + "/") for root in ("/api", "/metrics"))


def required_scope(method: str, path: str) -> Requirement:
    """What a request for ``method path`` needs.

    Everything below ``/api`` and ``/metrics`` needs a token; a path that only
    normalises to such a path (``/x/../api/stats``) counts as that path. Every other
    path (``/``, the dashboard's files, ``/healthz``, ``/docs``) is open.
    """
    method = "GET" if method == "HEAD" else method
    for candidate in (path, posixpath.normpath(path) if path else path):
        if candidate in OPEN_PATHS or not _protected(candidate):
            continue
        for route_method, pattern, scope in _PATTERNS:
            if route_method == method and pattern.match(candidate):
                return scope
        return AUTHENTICATED
    return OPEN

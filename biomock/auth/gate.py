"""The gate: every request's token checked once, at the ASGI layer, against one table.

The gate sits below CORS (so a browser can read a 401) and answers preflights
before it, and above everything else: Quart's routes and the stream routes served
below Quart alike. An admitted request continues without its credentials: the
``Authorization`` header and the ``access_token`` query parameter are removed from
the scope, so no route, log line or error message downstream can ever repeat them.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar, cast
from urllib.parse import parse_qsl, unquote_plus

import trio
from hypercorn.typing import ASGISendCallable, HTTPScope, Scope, WebsocketScope
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from biomock.auth.credentials import (
    LEEWAY_S,
    Authenticator,
    AuthFailure,
    FailureReason,
    Principal,
)
from biomock.auth.scopes import AUTHENTICATED, OPEN, required_scope
from biomock.errors import ApiError
from biomock.logs import log_request

logger = logging.getLogger(__name__)

FAILURE_REASONS: tuple[FailureReason, ...] = ("missing", "invalid", "expired", "scope")
EXTENSION = "biomock.auth"
REALM = 'Bearer realm="biomock"'

S = TypeVar("S", HTTPScope, WebsocketScope)

_MESSAGES: Mapping[FailureReason, str] = {
    "missing": "a token is required: send Authorization: Bearer <token>, or access_token=<token>"
    " in the query",
    "invalid": "the token is not valid",
    "expired": "the token has expired; get a new one and reconnect",
}


class AuthGate:
    """Authenticates and authorizes every request (a pass-through when auth is off).

    Args:
        authenticator: checks tokens; ``None`` turns authentication off.
        wall_clock: epoch seconds now (injected by tests), to place a JWT's expiry
            on trio's clock.

    The failure counters belong to the gate; :meth:`failures` hands out a copy.
    """

    def __init__(
        self, authenticator: Authenticator | None, *, wall_clock: Callable[[], float] = time.time
    ) -> None:
        self.authenticator = authenticator
        self._wall_clock = wall_clock
        self._failures: dict[str, int] = dict.fromkeys(FAILURE_REASONS, 0)

    @property
    def enabled(self) -> bool:
        return self.authenticator is not None

    def failures(self) -> dict[str, int]:
        """Refused requests by reason: missing, invalid, expired, scope."""
        return dict(self._failures)

    async def admit(self, scope: S, send: ASGISendCallable) -> S | None:
        """Check ``scope`` (HTTP or WebSocket) against the route table.

        Returns:
            The scope to serve, without credentials and with the principal attached
            (see :func:`principal_of`), or ``None`` once a 401/403 has been sent.
        """
        if self.authenticator is None:
            return scope
        http = cast(dict[str, Any], scope)
        method = http.get("method", "GET")  # a WebSocket handshake is a GET
        needed = required_scope(method, http["path"])
        if needed == OPEN:
            return scope
        started = trio.current_time()
        token, clean = _take_token(http)
        error: ApiError | None = None
        principal: Principal | None = None
        if token is None:
            error = self._refuse("missing")
        else:
            try:
                principal = self.authenticator.authenticate(token)
            except AuthFailure as failure:
                error = self._refuse(failure.reason)
            else:
                if needed != AUTHENTICATED and not principal.allows(needed):
                    error = self._refuse("scope", needed)
        if error is not None:
            await _deny(http, send, error)
            duration_s = trio.current_time() - started
            log_request(method, _target(clean), error.status, duration_s, _client(http))
            return None
        assert principal is not None
        clean["extensions"] = {
            **(http.get("extensions") or {}),
            EXTENSION: {"principal": principal, "deadline": self._deadline(principal)},
        }
        return cast(S, clean)

    def _refuse(self, reason: FailureReason, scope: str | None = None) -> ApiError:
        self._failures[reason] += 1
        if reason == "scope":
            return ApiError(
                403,
                "forbidden",
                f"this token does not have the {scope!r} scope",
                headers={"WWW-Authenticate": f'{REALM}, error="insufficient_scope"'},
            )
        challenge = REALM if reason == "missing" else f'{REALM}, error="invalid_token"'
        return ApiError(
            401, "unauthorized", _MESSAGES[reason], headers={"WWW-Authenticate": challenge}
        )

    def _deadline(self, principal: Principal) -> float:
        if principal.expires_at is None:
            return math.inf
        remaining = principal.expires_at + LEEWAY_S - self._wall_clock()
        return trio.current_time() + remaining


def principal_of(scope: Scope | Mapping[str, Any]) -> Principal | None:
    """Who made the request (``None`` when auth is off or the route is open)."""
    found = _attached(scope).get("principal")
    return found if isinstance(found, Principal) else None


def stream_deadline(scope: Scope | Mapping[str, Any]) -> float:
    """The trio time at which a stream opened with ``scope`` must end (its JWT's ``exp``
    plus the leeway); ``inf`` for static tokens and when auth is off."""
    deadline = _attached(scope).get("deadline", math.inf)
    return float(deadline)


def _attached(scope: Scope | Mapping[str, Any]) -> Mapping[str, Any]:
    extensions = cast(Mapping[str, Any], scope).get("extensions") or {}
    attached: Mapping[str, Any] = extensions.get(EXTENSION) or {}
    return attached


def _take_token(scope: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """The token (the header wins over the query) and a copy of ``scope`` without either."""
    headers = list(scope["headers"])
    authorization = [value for key, value in headers if key.lower() == b"authorization"]
    query = scope["query_string"].decode("latin-1")
    from_query = [v for k, v in parse_qsl(query, keep_blank_values=True) if k == "access_token"]
    clean = {
        **scope,
        "headers": [(k, v) for k, v in headers if k.lower() != b"authorization"],
    }
    if from_query:
        # Drop the parameter textually, so that the rest of the query reaches the route as sent.
        rest = [p for p in query.split("&") if unquote_plus(p.partition("=")[0]) != "access_token"]
        clean["query_string"] = "&".join(rest).encode("latin-1")
    token: str | None = None
    if authorization:
        scheme, _, value = authorization[0].decode("latin-1").partition(" ")
        # Another scheme (Basic, ...) counts as a bad token: it is never a bearer token.
        token = value.strip() if scheme.lower() == "bearer" else ""
    elif from_query:
        token = from_query[0]
    return token, clean


async def _deny(scope: dict[str, Any], send: ASGISendCallable, error: ApiError) -> None:
    body = error.body_bytes()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in error.headers.items()),
    ]
    if scope["type"] == "http":
        start, more = "http.response.start", "http.response.body"
    elif "websocket.http.response" in (scope.get("extensions") or {}):
        start, more = "websocket.http.response.start", "websocket.http.response.body"
    else:  # a server without the denial-response extension answers 403 itself
        await send({"type": "websocket.close", "code": 1008, "reason": ""})
        return
    await send(cast(Any, {"type": start, "status": error.status, "headers": headers}))
    with trio.CancelScope(shield=True):
        await send(cast(Any, {"type": more, "body": body, "more_body": False}))


def _target(scope: Mapping[str, Any]) -> str:
    query = scope["query_string"].decode("latin-1")
    return str(scope["path"]) + ("?" + query if query else "")


def _client(scope: Mapping[str, Any]) -> str:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else "-"


class AuthCollector(Collector):
    """``biomock_auth_failures_total{reason}``, read from the gate at scrape time."""

    def __init__(self, gate: AuthGate) -> None:
        self._gate = gate

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "biomock_auth_failures",
            "Requests refused by authentication: missing, invalid or expired token, or a "
            "token without the route's scope.",
            labels=["reason"],
        )
        for reason, count in self._gate.failures().items():
            family.add_metric([reason], count)
        yield family

"""Request hygiene at the ASGI layer: the Host check, the body size limit and JSON only.

These run before any route (the stream included) sees a request, so a refused request
costs a few header comparisons and at most ``max_body_bytes`` of memory: nothing is
parsed. API.md v2, "Request limits and hygiene".
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import trio
from hypercorn.typing import (
    ASGIReceiveCallable,
    ASGIReceiveEvent,
    ASGISendCallable,
    ASGISendEvent,
    HTTPScope,
    WebsocketScope,
)

from biomock.asgi import header
from biomock.errors import ApiError
from biomock.limits import BODY_TIMEOUT_S, DRAIN_BYTES, DRAIN_TIMEOUT_S

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
"""Hosts a server listening on a loopback address answers to, unless configured otherwise."""

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def default_allowed_hosts(bind_host: str) -> tuple[str, ...]:
    """Loopback names when ``bind_host`` is a loopback address (DNS rebinding), else any."""
    if bind_host == "localhost":
        return LOOPBACK_HOSTS
    try:
        loopback = ipaddress.ip_address(bind_host.strip("[]")).is_loopback
    except ValueError:
        loopback = False
    return LOOPBACK_HOSTS if loopback else ("*",)


def _host_name(host: str) -> str:
    """``Host`` without its port, lower case: ``[::1]:8000`` -> ``[::1]``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


@dataclass(frozen=True, slots=True)
class RequestPolicy:
    """What every request must satisfy before a route sees it.

    Args:
        allowed_hosts: ``Host`` names answered (any port); ``("*",)`` answers any.
        max_body_bytes: the largest request body accepted.
    """

    allowed_hosts: tuple[str, ...]
    max_body_bytes: int

    def check_host(self, scope: HTTPScope | WebsocketScope) -> ApiError | None:
        """421 ``misdirected_request`` unless the ``Host`` header names this server."""
        if "*" in self.allowed_hosts:
            return None
        host = header(scope, b"host")
        if host is not None:
            name = _host_name(host)
            allowed = {h.strip().lower() for h in self.allowed_hosts}
            if name.rstrip(".") in allowed or host.strip().lower() in allowed:
                return None
        return ApiError(
            421,
            "misdirected_request",
            "this server does not answer to that Host; set BIOMOCK_ALLOWED_HOSTS to allow it",
        )

    async def read_body(
        self, scope: HTTPScope, receive: ASGIReceiveCallable
    ) -> tuple[ASGIReceiveCallable, ApiError | None] | None:
        """Read a declared body within the limit and check its media type.

        Returns:
            The ``receive`` to hand on (it replays the body read here) and the error to
            answer instead of routing, if any; ``None`` when the client went away.
        """
        length = header(scope, b"content-length")
        chunked = header(scope, b"transfer-encoding") is not None
        if not chunked and (length is None or length.strip() in ("", "0")):
            return receive, None  # no body: nothing to read or check
        declared = length.strip() if length is not None else ""
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            return receive, self._too_large()  # the body is dropped before the answer
        body = bytearray()
        with trio.move_on_after(BODY_TIMEOUT_S) as waited:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None
                if message["type"] == "http.request":
                    body += message.get("body", b"")
                if len(body) > self.max_body_bytes:
                    return receive, self._too_large()
                if not message.get("more_body", False):
                    break
        if waited.cancelled_caught:
            return receive, ApiError(408, "request_timeout", "the request body did not arrive")
        replay = _replaying(bytes(body), receive)
        if body and scope["method"] in STATE_CHANGING and not _is_json(scope):
            return replay, ApiError(
                415,
                "unsupported_media_type",
                "send the body as JSON, with Content-Type: application/json",
            )
        return replay, None

    def _too_large(self) -> ApiError:
        return ApiError(
            413,
            "payload_too_large",
            f"the request body is larger than {self.max_body_bytes} bytes (BIOMOCK_MAX_BODY_BYTES)",
        )


def declares_body(scope: HTTPScope) -> bool:
    """Whether the request says a body follows its headers."""
    if header(scope, b"transfer-encoding") is not None:
        return True
    length = header(scope, b"content-length")
    return length is not None and length.strip() not in ("", "0")


def body_before_answer(
    scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable
) -> tuple[ASGIReceiveCallable, ASGISendCallable]:
    """Wrap ``receive`` and ``send`` so that no answer starts before the request's body is in.

    Hypercorn keeps an HTTP/1.1 connection for the next request only if the request
    was read to its end by the time its answer ends; otherwise it closes the
    connection, and a client that reuses it loses its next request. A request
    answered without its body being read (a foreign ``Host``, a missing token, a
    body too large) therefore has what is left of its body read and dropped first,
    up to :data:`DRAIN_BYTES` or :data:`DRAIN_TIMEOUT_S`; past those the answer says
    ``Connection: close``, so the client knows not to reuse the connection.
    Requests without a body are handed on unwrapped.
    """
    if not declares_body(scope):
        return receive, send
    ended = False

    async def tracked_receive() -> ASGIReceiveEvent:
        nonlocal ended
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            ended = True
        return message

    async def guarded_send(message: ASGISendEvent) -> None:
        if message["type"] == "http.response.start" and not ended:
            await _drain(tracked_receive)
            if not ended:
                headers = [*message.get("headers", ()), (b"connection", b"close")]
                message = {**message, "headers": headers}
        await send(message)

    return tracked_receive, guarded_send


async def _drain(receive: ASGIReceiveCallable) -> None:
    """Read and drop what is left of a body, up to :data:`DRAIN_BYTES` or
    :data:`DRAIN_TIMEOUT_S`, so that the answer reaches a client still sending it."""
    received = 0
    with trio.move_on_after(DRAIN_TIMEOUT_S):
        while received < DRAIN_BYTES:
            message = await receive()
            if message["type"] != "http.request":
                return
            received += len(message.get("body", b""))
            if not message.get("more_body", False):
                return


def _is_json(scope: HTTPScope) -> bool:
    content_type = header(scope, b"content-type")
    if content_type is None:
        return False
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


def _replaying(body: bytes, receive: ASGIReceiveCallable) -> ASGIReceiveCallable:
    """A ``receive`` that first hands over ``body`` whole, then what the server sends next."""
    pending: list[ASGIReceiveEvent] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> ASGIReceiveEvent:
        if pending:
            return pending.pop()
        return await receive()

    return replay

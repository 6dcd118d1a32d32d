"""``GET /api/stream``: the Server-Sent Events route, written directly on ASGI.

The route sits below Quart's per-chunk response machinery (which would add a
timeout and per-chunk overhead to an endless response): one task per client
waits for wake-ups from the hub and writes everything new as one chunk.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextlib import ExitStack
from functools import partial
from urllib.parse import parse_qsl

import trio
from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable, HTTPScope

from biomock import fastpath, sse
from biomock.errors import ApiError, HubClosed, SubscriberLagged, TooManySubscribers
from biomock.hub import DROP_REASONS, Hub, StopReason, Subscription
from biomock.logs import log_request
from biomock.params import check_int, parse_filter, parse_int
from biomock.watchdog import StallWatchdog, abort_socket

logger = logging.getLogger(__name__)

STREAM_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (b"x-accel-buffering", b"no"),
]


def query_args(scope: HTTPScope) -> dict[str, str]:
    """The query string as a dict; the first of repeated parameters wins."""
    args: dict[str, str] = {}
    for key, value in parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True):
        args.setdefault(key, value)
    return args


def header(scope: HTTPScope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


async def send_error(send: ASGISendCallable, error: ApiError) -> None:
    body = error.body_bytes()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in error.headers.items()),
    ]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    with trio.CancelScope(shield=True):
        await send({"type": "http.response.body", "body": body, "more_body": False})


def _resume_id(scope: HTTPScope, args: Mapping[str, str]) -> int | None:
    raw = header(scope, b"last-event-id")
    name = "Last-Event-ID"
    if raw is None:
        raw, name = args.get("last_event_id"), "last_event_id"
    if raw is None:
        return None
    if raw.strip() == "" and name == "Last-Event-ID":
        return None  # browsers send an empty header when no id was seen yet
    return check_int(raw, name)


class StreamRoute:
    """The stream handler, bound to the hub and the server's settings.

    Args:
        hub: where samples come from.
        subjects: the names the ``subject`` filter accepts.
        heartbeat_s: send a keepalive comment after this much silence.
        slow_client_timeout_s: a write blocked this long is a stall: the connection
            is aborted (``biomock.watchdog``).
        fast_path: write published samples straight to the socket where that is safe
            (``biomock.fastpath``).
    """

    def __init__(
        self,
        hub: Hub,
        subjects: list[str],
        *,
        heartbeat_s: float,
        slow_client_timeout_s: float,
        fast_path: bool = True,
    ) -> None:
        self.hub = hub
        self.subjects = subjects
        self.heartbeat_s = heartbeat_s
        self.slow_client_timeout_s = slow_client_timeout_s
        self.fast_path = fast_path and fastpath.AVAILABLE
        self._memo = fastpath.FrameMemo()

    async def __call__(
        self,
        scope: HTTPScope,
        receive: ASGIReceiveCallable,
        send: ASGISendCallable,
        *,
        server_send: ASGISendCallable | None = None,
    ) -> None:
        """Serve one stream.

        ``server_send`` is the send callable exactly as the server passed it (before
        any wrapping); the fast path and the watchdog use it to find the connection.
        """
        started = trio.current_time()
        target = _target(scope)
        client = _client(scope)
        with ExitStack() as stack:
            try:
                args = query_args(scope)
                filter = parse_filter(args, self.subjects)
                last_event_id = _resume_id(scope, args)
                history = parse_int(args, "history", default=0, maximum=self.hub.buffer.capacity)
                sub = stack.enter_context(
                    self.hub.subscribe(filter, last_event_id=last_event_id, history=history or 0)
                )
            except (ApiError, TooManySubscribers, HubClosed) as refused:
                if isinstance(refused, TooManySubscribers):
                    error = _too_many(self.hub.max_subscribers)
                elif isinstance(refused, HubClosed):
                    error = _shutting_down()
                else:
                    error = refused
                await send_error(send, error)
                log_request(
                    scope["method"], target, error.status, trio.current_time() - started, client
                )
                return
            logger.info(
                "subscriber connected %s",
                client,
                extra={"client": client, "path": target},
            )
            reason: StopReason = "error"  # unless serve returns
            try:
                reason = await self._serve(scope, receive, send, server_send or send, sub)
            finally:
                if reason in DROP_REASONS:
                    self.hub.drop(reason)
                duration_s = trio.current_time() - started
                logger.info(
                    "subscriber disconnected %s: %s after %.1f s",
                    client,
                    reason,
                    duration_s,
                    extra={
                        "client": client,
                        "method": scope["method"],
                        "path": target,
                        "status": 200,
                        "reason": reason,
                        "duration_ms": round(duration_s * 1000, 1),
                    },
                )

    async def _serve(
        self,
        scope: HTTPScope,
        receive: ASGIReceiveCallable,
        send: ASGISendCallable,
        server_send: ASGISendCallable,
        sub: Subscription,
    ) -> StopReason:
        """Write the response until it ends; returns why it ended.

        Every write runs under a :class:`StallWatchdog`. The response always ends in
        one of two ways: a complete last chunk and the final empty body, or (client
        gone, write aborted) a closed connection, never a half-written chunk.
        """
        sock = fastpath.connection_socket(server_send)
        abort = None if sock is None else partial(abort_socket, sock)
        watchdog = StallWatchdog(self.slow_client_timeout_s, self.hub.closing, abort)
        reason: StopReason = "disconnected"
        async with trio.open_nursery() as nursery:
            nursery.start_soon(watchdog.run)
            with trio.CancelScope() as pumping:
                nursery.start_soon(_watch_disconnect, receive, pumping)
                start = {"type": "http.response.start", "status": 200, "headers": STREAM_HEADERS}
                with watchdog.writing():
                    await send(start)  # type: ignore[arg-type]
                direct = None
                if scope["method"] == "HEAD":
                    reason = "head"
                else:
                    if self.fast_path:
                        writer = fastpath.attach(server_send, scope)
                        if writer is not None:
                            direct = fastpath.DirectDelivery(self.hub, sub, writer, self._memo)
                    reason = await self._pump(sub, send, direct, watchdog)
            if pumping.cancelled_caught:
                reason = "disconnected"
            # After a failed delivery the connection's state is unknown: returning
            # without the final body makes Hypercorn close it.
            if reason not in ("disconnected", "error"):
                with trio.CancelScope(shield=True):
                    await self._finish(send, direct, watchdog)
            nursery.cancel_scope.cancel()
        return "stalled" if watchdog.fired else reason

    async def _finish(
        self,
        send: ASGISendCallable,
        direct: fastpath.DirectDelivery | None,
        watchdog: StallWatchdog,
    ) -> None:
        """Complete any chunk the fast path left, then send the final empty body."""
        if direct is not None and direct.pending is not None:
            with watchdog.writing():
                await direct.flush(send)
        with watchdog.writing():
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _pump(
        self,
        sub: Subscription,
        send: ASGISendCallable,
        direct: fastpath.DirectDelivery | None,
        watchdog: StallWatchdog,
    ) -> StopReason:
        """Write until the hub closes or the subscriber lags; returns why it stopped.

        With ``direct``, publishes that arrive while this task waits are written by
        the hub's publish itself; the task wakes only to write what the socket
        did not take (``direct.pending``, always first), to send a keepalive, or
        to end. Whatever it returns, ``direct.pending`` may still hold a chunk's
        rest: the caller completes it before ending the response.
        """
        hub = self.hub
        chunk, events = sub.initial, sub.initial_events
        published_at: float | None = None  # of the oldest sample in chunk, if it is live
        last_sent = trio.current_time()
        while True:
            if direct is not None and direct.pending is not None:
                with watchdog.writing():
                    await direct.flush(send)
                last_sent = trio.current_time()
            if chunk:
                body = {"type": "http.response.body", "body": chunk, "more_body": True}
                with watchdog.writing():
                    await send(body)  # type: ignore[arg-type]
                last_sent = trio.current_time()
                hub.count_write(len(chunk), events, published_at)
            chunk, events, published_at = b"", 0, None
            with trio.move_on_at(last_sent + self.heartbeat_s) as silence:
                sub.direct = direct
                try:
                    await sub.wait()
                except HubClosed:
                    return "shutdown"
                finally:
                    sub.direct = None
            if sub.failed is not None:
                return "error"
            if silence.cancelled_caught:
                if direct is not None and direct.last_write > last_sent:
                    last_sent = direct.last_write  # written while idle: not silent
                else:
                    chunk, events, published_at = sse.KEEPALIVE, 0, None
                continue
            try:
                chunk, events = sub.take()
                published_at = sub.taken_published_at
            except SubscriberLagged:
                return "lagged"


async def _watch_disconnect(receive: ASGIReceiveCallable, scope: trio.CancelScope) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            scope.cancel()
            return


def _target(scope: HTTPScope) -> str:
    query = scope["query_string"].decode("latin-1")
    return scope["path"] + ("?" + query if query else "")


def _client(scope: HTTPScope) -> str:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else "-"


def _too_many(limit: int) -> ApiError:
    return ApiError(
        503,
        "too_many_subscribers",
        f"the subscriber limit ({limit}) is reached; retry later",
        headers={"Retry-After": "5"},
    )


def _shutting_down() -> ApiError:
    return ApiError(503, "unavailable", "the server is shutting down", headers={"Retry-After": "5"})

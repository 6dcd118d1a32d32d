"""``GET /api/ws``: the stream over WebSocket (API.md "GET /api/ws"), on ASGI.

Hypercorn speaks the protocol (wsproto: handshake, framing, pings); this route
is served below Quart, as the SSE stream is, so that a refusal is a plain HTTP
JSON error before the upgrade and a write that blocks can be cut at the socket.
One task per connection writes; a second reads the client's messages and hands
``subscribe`` requests to it, so only one task ever writes.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import trio
from hypercorn.protocol.ws_stream import Handshake, WSStream
from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable, WebsocketScope

from biomock import faults, wsframes
from biomock.asgi import header
from biomock.auth import stream_deadline
from biomock.errors import (
    ApiError,
    HubClosed,
    TooManySubscribers,
    not_found,
)
from biomock.hub import Hub, Record, StopReason, Subscription
from biomock.logs import log_request
from biomock.params import StreamRequest, query_args, stream_request
from biomock.sample import Sample, format_time
from biomock.sessions import session_id_of
from biomock.subscriber import (
    OlderSamples,
    Retarget,
    Transport,
    closed_refusal,
    log_ended,
    open_watchdog,
    pump,
    settle,
)
from biomock.subscription import Framing
from biomock.watchdog import StallWatchdog

logger = logging.getLogger(__name__)

PATH = "/api/ws"

WS_FRAMING = Framing("ws", Record.json, wsframes.samples, wsframes.broken_samples)
"""A take as one ``samples`` message around the samples' JSON."""

REPLAY_ITEMS = 1000
"""Items per message of a resume's replay, which can hold the whole buffer."""

CLOSE_NORMAL, CLOSE_GOING_AWAY, CLOSE_POLICY, CLOSE_INTERNAL, CLOSE_TRY_AGAIN = (
    1000,
    1001,
    1008,
    1011,
    1013,
)
CLOSE_TOKEN_EXPIRED = 4401
CLOSES: dict[str, tuple[int, str]] = {
    "shutdown": (CLOSE_GOING_AWAY, "the server is shutting down"),
    "ended": (CLOSE_NORMAL, "the session ended"),
    "lagged": (CLOSE_POLICY, "too slow: reconnect with last_event_id"),
    "error": (CLOSE_INTERNAL, "internal error: reconnect with last_event_id"),
    "finished": (CLOSE_NORMAL, "the replay is finished"),
    "expired": (CLOSE_TOKEN_EXPIRED, "the token expired: reconnect with a fresh one"),
    "fault": (
        CLOSE_GOING_AWAY,
        "faults=: ended on purpose; reconnect",
    ),
}
"""The close code and reason for each way the server ends a stream."""


@dataclass(slots=True)
class WsContext:
    """What every WebSocket connection shares; built once by ``create_app``."""

    hub: Hub
    subjects: list[str]
    heartbeat_s: float
    slow_client_timeout_s: float
    source_finished: Callable[[], bool] = lambda: False
    """Whether the source is drained (a replay without loop): streams then end with 1000."""
    admit: Callable[[], None] = lambda: None
    """Raises an ``ApiError`` when no new stream may start (the shared bus is unreachable)."""
    older: OlderSamples | None = None
    """Fetches what a resume needs from before the buffer (``biomock.stream.StreamRoute``)."""
    fault_counts: faults.FaultCounts = field(default_factory=faults.FaultCounts)
    """Where the faults that clients ask for are counted (``biomock.faults``)."""
    _text: tuple[bytes, str] = field(default=(b"", ""))

    def text(self, message: bytes) -> str:
        """``message`` as text; connections woken by one publish mostly share one."""
        if message is not self._text[0]:
            self._text = (message, message.decode())
        return self._text[1]


async def reject(send: ASGISendCallable, error: ApiError) -> None:
    """Refuse the upgrade with API.md's JSON error."""
    body = error.body_bytes()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in error.headers.items()),
    ]
    await send(
        {"type": "websocket.http.response.start", "status": error.status, "headers": headers}
    )
    with trio.CancelScope(shield=True):
        await send({"type": "websocket.http.response.body", "body": body, "more_body": False})


async def serve_ws(
    context: WsContext, scope: WebsocketScope, receive: ASGIReceiveCallable, send: ASGISendCallable
) -> None:
    """Serve one WebSocket connection on any path (``/api/ws``, else a 404).

    ``send`` must be the send callable exactly as the server passed it: the stall
    watchdog follows it to the socket.
    """
    started = trio.current_time()
    query = scope["query_string"].decode("latin-1")
    target = scope["path"] + ("?" + query if query else "")
    peer = scope.get("client")
    client = f"{peer[0]}:{peer[1]}" if peer else "-"
    if (await receive())["type"] != "websocket.connect":
        return
    try:
        if scope["path"] != PATH:
            raise not_found(f"no WebSocket route {scope['path']}")
        context.admit()
        params = stream_request(
            query_args(scope["query_string"]),
            header(scope, b"last-event-id"),
            context.subjects,
            capacity=context.hub.buffer.capacity,
        )
        if (injected := faults.refusal(params.faults, context.fault_counts)) is not None:
            raise injected  # before the upgrade, as every refusal
    except ApiError as error:
        await reject(send, error)
        log_request("GET", target, error.status, trio.current_time() - started, client)
        return
    watchdog = open_watchdog(context.hub, send, context.slow_client_timeout_s)
    connection = _Connection(context, send, watchdog)
    connection.deadline = stream_deadline(scope)
    connection.session_id = session_id_of(scope)
    if params.faults is not None and faults.needs_injector(params.faults):
        connection.faults = faults.Injector(params.faults, params.fault_seed, context.fault_counts)
    reason: StopReason | None = "disconnected"  # unless run returns, the client went away
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(connection.read, receive, nursery.cancel_scope)
            reason = await connection.run(params)
            nursery.cancel_scope.cancel()
    finally:
        status = connection.refused.status if connection.refused else 101
        log_request("GET", target, status, trio.current_time() - started, client)
        if reason is not None:
            reason = settle(context.hub, reason, watchdog)
            log_ended(logger, client, "GET", target, 101, reason, started)


class _Connection(Transport):
    """One WebSocket stream: JSON text messages, written by :func:`pump` alone.

    A second task (:meth:`read`) reads the client's messages and hands them over
    through a small channel, waking the pump; the pump answers them between writes.
    """

    framing = WS_FRAMING

    def __init__(self, context: WsContext, send: ASGISendCallable, watchdog: StallWatchdog) -> None:
        self.context = context
        self.watchdog = watchdog
        self.refused: ApiError | None = None
        self.deadline = math.inf
        """When the client's token expires (trio time): the stream then ends with 4401."""
        self.faults: faults.Injector | None = None
        """The connection's ``?faults=``; a ``subscribe`` keeps them."""
        self.session_id: str | None = None
        """The session the connection streams from (``None``: the default simulation)."""
        self._send = send
        self._sub: Subscription | None = None
        self._position = 0
        self._inbox_send, self._inbox = trio.open_memory_channel[Retarget | ApiError](8)

    async def run(self, params: StreamRequest) -> StopReason | None:
        """Subscribe, then write until the stream ends; returns why (``None``: refused)."""
        hub = self.context.hub
        accepted = False
        while True:
            older: Sequence[tuple[int, Sample]] = ()
            resume = params.last_event_id
            if not accepted and resume is not None and self.context.older is not None:
                # Only before the first subscription: a retarget stays one synchronous step.
                older = await self.context.older(resume)
            if not accepted:
                await hub.encode_ahead(params.filter, last_event_id=resume, history=params.history)
            try:
                with hub.subscribe(
                    params.filter,
                    last_event_id=params.last_event_id,
                    history=params.history,
                    older=older,
                ) as sub:
                    if not accepted:
                        decline_compression(self._send)
                        await self._send(
                            {"type": "websocket.accept", "subprotocol": None, "headers": []}
                        )
                        accepted = True
                    self._sub = sub
                    self._position = _start_position(sub, params.last_event_id)
                    outcome = await pump(
                        hub,
                        sub,
                        self,
                        self.watchdog,
                        heartbeat_s=self.context.heartbeat_s,
                        deadline=self.deadline,
                        faults=self.faults,
                    )
            except (TooManySubscribers, HubClosed) as refused:
                closing = isinstance(refused, HubClosed)
                if not accepted:
                    self.refused = (
                        closed_refusal(hub, self.session_id)
                        if closing
                        else _too_many(hub.max_subscribers)
                    )
                    await reject(self._send, self.refused)
                    return None
                if closing:
                    reason = hub.closing.reason
                    await self._close(*CLOSES.get(reason, CLOSES["shutdown"]))
                    return reason
                await self._close(CLOSE_TRY_AGAIN)
                return "error"
            if isinstance(outcome, Retarget):
                resume = outcome.params.last_event_id
                params = StreamRequest(
                    outcome.params.filter, self._position if resume is None else resume, 0
                )
                continue
            await self._close(*CLOSES.get(outcome, (CLOSE_NORMAL, "")))
            return outcome

    async def write_initial(self, sub: Subscription, *, replay: bool = True) -> int:
        sent = 0
        if sub.reset is not None:
            sent += await self._write(wsframes.reset(sub.reset))
        if not replay:  # the pump writes it, as it writes a take
            if sub.replay:
                self._position = max(self._position, sub.replay[-1].id)
            return sent
        fmt = sub.filter.format
        for start in range(0, len(sub.replay), REPLAY_ITEMS):
            batch = sub.replay[start : start + REPLAY_ITEMS]
            sent += await self._write(wsframes.samples([r.json(fmt) or b"" for r in batch]))
            self._position = max(self._position, batch[-1].id)
        return sent

    async def write(self, chunk: bytes) -> None:
        await self._write(chunk)
        if self._sub is not None:
            self._position = max(self._position, self._sub.taken_last_id or 0)

    def heartbeat(self) -> bytes:
        return wsframes.heartbeat(format_time(int(time.time() * 1000)))

    def ends_with_source(self) -> bool:
        return self.context.source_finished()

    async def answer(self, watchdog: StallWatchdog) -> Retarget | None:
        while True:
            try:
                message = self._inbox.receive_nowait()
            except trio.WouldBlock:
                return None
            if isinstance(message, Retarget):
                return message
            with watchdog.writing():
                await self._write(wsframes.error(message.body()))

    async def discard_messages(self) -> None:
        async for _ in self._inbox:
            pass

    async def _write(self, message: bytes) -> int:
        text = self.context.text(message)
        await self._send({"type": "websocket.send", "bytes": None, "text": text})
        return len(message)

    async def _close(self, code: int, reason: str = "") -> None:
        with trio.CancelScope(shield=True):
            await self._send({"type": "websocket.close", "code": code, "reason": reason})

    async def read(self, receive: ASGIReceiveCallable, scope: trio.CancelScope) -> None:
        """Read the client's messages; cancel ``scope`` when it goes away."""
        while True:
            message: Any = await receive()
            if message["type"] == "websocket.disconnect":
                scope.cancel()
                return
            if message["type"] == "websocket.receive":
                parsed = wsframes.parse_client_message(message.get("text"), self.context.subjects)
                await self._inbox_send.send(parsed)
                if self._sub is not None:
                    self._sub.notify()


def _start_position(sub: Subscription, last_event_id: int | None) -> int:
    """The last id this connection counts as sent when ``sub`` starts."""
    reset = sub.reset
    if last_event_id is None or (reset is not None and reset["reason"] == "unknown"):
        return sub.cursor
    if reset is not None:
        oldest = reset["oldest_id"]
        return sub.cursor if oldest is None else oldest - 1
    return last_event_id


def _too_many(limit: int) -> ApiError:
    return ApiError(
        503,
        "too_many_subscribers",
        f"the subscriber limit ({limit}) is reached; retry later",
        headers={"Retry-After": "5"},
    )


def decline_compression(send: Any) -> bool:
    """Answer the WebSocket handshake behind ``send`` without permessage-deflate.

    Hypercorn accepts compression whenever a client offers it (browsers, Python's
    ``websockets`` and Dart all do) and ASGI gives the app no say. Compressed, every
    connection would keep its own zlib state (about 260 KiB) and deflate every
    message (about 30 us a tick), where uncompressed messages are encoded once for
    all subscribers; the samples are small and arrive a few a second. Call before
    ``websocket.accept``.

    Returns:
        Whether the offer was withdrawn; ``False`` behind anything but Hypercorn's
        own WebSocket stream (then the server's default applies).
    """
    stream = getattr(send, "__self__", None)
    if type(stream) is not WSStream or getattr(send, "__func__", None) is not WSStream.app_send:
        return False
    handshake = getattr(stream, "handshake", None)
    if type(handshake) is not Handshake or not hasattr(handshake, "extensions"):
        return False
    handshake.extensions = None
    return True

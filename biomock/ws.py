"""``GET /api/ws``: the stream over WebSocket (API.md "GET /api/ws"), on ASGI.

Hypercorn speaks the protocol (wsproto: handshake, framing, pings); this route
is served below Quart, as the SSE stream is, so that a refusal is a plain HTTP
JSON error before the upgrade and a write that blocks can be cut at the socket.
One task per connection writes; a second reads the client's messages and hands
``subscribe`` requests to it, so only one task ever writes.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

import pydantic
import trio
from hypercorn.protocol.ws_stream import Handshake, WSStream
from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable, WebsocketScope

from biomock import fastpath, wsframes
from biomock.errors import (
    ApiError,
    HubClosed,
    SubscriberLagged,
    TooManySubscribers,
    invalid_parameter,
    not_found,
)
from biomock.hub import DROP_REASONS, Hub, Record, StopReason, Subscription
from biomock.logs import log_request
from biomock.params import parse_filter
from biomock.sample import format_time
from biomock.stream import header, query_args
from biomock.subscriber import StreamParams, parse_stream_params
from biomock.subscription import Framing
from biomock.watchdog import StallWatchdog, abort_socket

logger = logging.getLogger(__name__)

PATH = "/api/ws"

WS_FRAMING = Framing("ws", Record.json, wsframes.samples)
"""A take as one ``samples`` message around the samples' JSON."""

REPLAY_ITEMS = 1000
"""Items per message of a resume's replay, which can hold the whole buffer."""

MAX_CLIENT_MESSAGE = 4096
"""Client messages larger than this are refused unread."""

CLOSE_NORMAL, CLOSE_GOING_AWAY, CLOSE_POLICY, CLOSE_INTERNAL, CLOSE_TRY_AGAIN = (
    1000,
    1001,
    1008,
    1011,
    1013,
)


@dataclass(slots=True)
class WsContext:
    """What every WebSocket connection shares; built once by ``create_app``."""

    hub: Hub
    subjects: list[str]
    heartbeat_s: float
    slow_client_timeout_s: float
    _text: tuple[bytes, str] = field(default=(b"", ""))

    def text(self, message: bytes) -> str:
        """``message`` as text; connections woken by one publish mostly share one."""
        if message is not self._text[0]:
            self._text = (message, message.decode())
        return self._text[1]


class SubscribeMessage(pydantic.BaseModel):
    """A client's ``subscribe`` message: re-target the subscription in place."""

    model_config = pydantic.ConfigDict(extra="forbid", strict=True)

    type: Literal["subscribe"]
    types: list[str] | None = None
    subject: str | None = None
    format: str | None = None
    last_event_id: int | None = pydantic.Field(None, ge=0)


@dataclass(frozen=True, slots=True)
class Retarget:
    """A valid ``subscribe``; ``last_event_id`` of ``None`` means the last id sent."""

    params: StreamParams


def parse_client_message(text: str | None, subjects: Sequence[str]) -> Retarget | ApiError:
    """A client's message as a :class:`Retarget`, or the error to answer it with."""
    if text is None:
        return ApiError(400, "invalid_json", "messages must be text: a JSON object")
    if len(text) > MAX_CLIENT_MESSAGE:
        return ApiError(400, "invalid_json", f"messages are at most {MAX_CLIENT_MESSAGE} bytes")
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):
        return ApiError(400, "invalid_json", "the message is not valid JSON")
    if not isinstance(body, dict):
        return ApiError(400, "invalid_json", "the message must be a JSON object")
    try:
        message = SubscribeMessage.model_validate(body)
    except pydantic.ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "type"
        if name == "type":
            return invalid_parameter("type", 'the only message a client sends is "subscribe"')
        return invalid_parameter(name, f"{name}: {first['msg']}")
    args: dict[str, str] = {}
    if message.types is not None:
        if not message.types or any("," in name for name in message.types):
            return invalid_parameter("types", "types must be a non-empty list of type names")
        args["types"] = ",".join(message.types)
    if message.subject is not None:
        args["subject"] = message.subject
    if message.format is not None:
        args["format"] = message.format
    try:
        filter = parse_filter(args, subjects)
    except ApiError as error:
        return error
    return Retarget(StreamParams(filter, message.last_event_id))


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
        params = parse_stream_params(
            query_args(scope),  # type: ignore[arg-type]
            context.subjects,
            max_history=context.hub.buffer.capacity,
            last_event_id_header=header(scope, b"last-event-id"),  # type: ignore[arg-type]
        )
    except ApiError as error:
        await reject(send, error)
        log_request("GET", target, error.status, trio.current_time() - started, client)
        return
    sock = fastpath.connection_socket(send)
    abort = None if sock is None else partial(abort_socket, sock)
    watchdog = StallWatchdog(context.slow_client_timeout_s, context.hub.closing, abort)
    connection = _Connection(context, send, watchdog)
    reason: StopReason | None = "disconnected"  # unless run returns, the client went away
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(connection.read, receive, nursery.cancel_scope)
            nursery.start_soon(connection.watchdog.run)
            reason = await connection.run(params)
            nursery.cancel_scope.cancel()
    finally:
        if watchdog.fired:
            reason = "stalled"
        if reason in DROP_REASONS:
            context.hub.drop(reason)
        status = connection.refused.status if connection.refused else 101
        log_request("GET", target, status, trio.current_time() - started, client)
        if connection.refused is None:
            logger.info(
                "subscriber disconnected %s: %s after %.1f s",
                client,
                reason,
                trio.current_time() - started,
                extra={"client": client, "path": target, "reason": reason},
            )


class _Connection:
    """One accepted (or refused) WebSocket stream; its ``run`` task is the only writer."""

    def __init__(self, context: WsContext, send: ASGISendCallable, watchdog: StallWatchdog) -> None:
        self.context = context
        self.watchdog = watchdog
        self.refused: ApiError | None = None
        self._send = send
        self._accepted = False
        self._sub: Subscription | None = None
        self._position = 0
        self._last_sent = trio.current_time()
        self._inbox_send, self._inbox = trio.open_memory_channel[Retarget | ApiError](8)

    async def run(self, params: StreamParams) -> StopReason | None:
        """Subscribe, then write until the stream ends; returns why (``None``: refused)."""
        hub = self.context.hub
        while True:
            try:
                with hub.subscribe(
                    params.filter, last_event_id=params.last_event_id, history=params.history
                ) as sub:
                    if not self._accepted:
                        decline_compression(self._send)
                        await self._send(
                            {"type": "websocket.accept", "subprotocol": None, "headers": []}
                        )
                        self._accepted = True
                    outcome = await self._pump(sub, params)
            except (TooManySubscribers, HubClosed) as refused:
                closing = isinstance(refused, HubClosed)
                if not self._accepted:
                    self.refused = _refusal(hub.max_subscribers, closing=closing)
                    await reject(self._send, self.refused)
                    return None
                await self._close(CLOSE_GOING_AWAY if closing else CLOSE_TRY_AGAIN)
                return "shutdown" if closing else "error"
            if isinstance(outcome, StreamParams):
                params = outcome
                continue
            if outcome == "shutdown":
                await self._close(CLOSE_GOING_AWAY, "the server is shutting down")
            elif outcome == "lagged":
                await self._close(CLOSE_POLICY, "too slow: reconnect with last_event_id")
            return outcome

    async def _pump(self, sub: Subscription, params: StreamParams) -> StopReason | StreamParams:
        """Write to ``sub``'s client until a stop or a valid ``subscribe`` message."""
        self._sub = sub
        self._position = _start_position(sub, params.last_event_id)
        fmt = params.filter.format
        if sub.reset is not None:
            await self._write(wsframes.reset(sub.reset))
        for start in range(0, len(sub.replay), REPLAY_ITEMS):
            batch = sub.replay[start : start + REPLAY_ITEMS]
            items = [record.json(fmt) or b"" for record in batch]
            await self._write(wsframes.samples(items), len(items))
            self._position = max(self._position, batch[-1].id)
        while True:
            while True:
                try:
                    message = self._inbox.receive_nowait()
                except trio.WouldBlock:
                    break
                if isinstance(message, ApiError):
                    await self._write(wsframes.error(message.body()))
                    continue
                resume = message.params.last_event_id
                if resume is None:
                    resume = self._position
                return StreamParams(message.params.filter, resume)
            if self.watchdog.fired:
                return "stalled"
            try:
                chunk, events = sub.take(WS_FRAMING)
            except SubscriberLagged:
                return "lagged"
            if chunk:
                await self._write(chunk, events, sub.taken_published_at)
                self._position = max(self._position, sub.taken_last_id or 0)
                if self.watchdog.fired:
                    return "stalled"
            with trio.move_on_at(self._last_sent + self.context.heartbeat_s) as silence:
                try:
                    await sub.wait()
                except HubClosed:
                    return "shutdown"
            if silence.cancelled_caught:
                await self._write(wsframes.heartbeat(format_time(int(time.time() * 1000))))

    async def _write(
        self, message: bytes, events: int = 0, published_at: float | None = None
    ) -> None:
        text = self.context.text(message)
        with self.watchdog.writing():
            await self._send({"type": "websocket.send", "bytes": None, "text": text})
        self._last_sent = trio.current_time()
        if events:
            self.context.hub.count_write(len(message), events, published_at)

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
                parsed = parse_client_message(message.get("text"), self.context.subjects)
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


def _refusal(limit: int, *, closing: bool) -> ApiError:
    if closing:
        return ApiError(
            503, "unavailable", "the server is shutting down", headers={"Retry-After": "5"}
        )
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

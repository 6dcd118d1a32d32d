"""The fan-out fast path: stream chunks written straight to Hypercorn's socket.

Through Hypercorn's public ASGI ``send`` a write costs 100-200 us of CPU in a
running server: waking the subscriber's task, the chain of awaits down to
Hypercorn's lock and shielded cancel scope around trio's ``send_all``; written
here it costs 15-25 us, half of it the system call (see ``docs/architecture.md``,
"Fan-out write path").
Here the hub's publish frames each subscriber's new events as one HTTP/1.1
chunk and hands it to the kernel with one non-blocking ``write``: no task wakes
up unless the socket could not take everything, in which case the remainder
goes to the subscriber's own task, which writes it through Hypercorn (and so
waits, alone, for a slow client).

This reaches into Hypercorn's internals, so it is used only where every
assumption holds, checked when a stream starts and again before each write:
Hypercorn 0.18.0 with h11 0.16.0, the trio worker, HTTP/1.1 with chunked
framing, no TLS, a GET whose response has started, nothing else writing to the
connection. Anything else (HTTP/2, TLS, HTTP/1.0, another server, another
version) gets ``None`` from :func:`attach` and uses the public path. The
``fast_path`` setting turns it off. ``tests/test_fastpath.py`` fails loudly if
an upgrade changes the internals.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import h11
import trio
from hypercorn.typing import ASGISendCallable

from biomock.errors import SubscriberLagged
from biomock.hub import Hub, Subscription

logger = logging.getLogger(__name__)

SUPPORTED = {"hypercorn": "0.18.0", "h11": "0.16.0"}
"""The versions whose internals this module was written and tested against."""

try:
    from h11._writers import ChunkedWriter
    from hypercorn.events import RawData
    from hypercorn.protocol.h11 import H11Protocol
    from hypercorn.protocol.http_stream import ASGIHTTPState, HTTPStream
    from hypercorn.protocol.ws_stream import WSStream
    from hypercorn.trio.tcp_server import TCPServer

    _IMPORTED = True
except ImportError:  # pragma: no cover - only with another Hypercorn or h11
    _IMPORTED = False


def _versions_match() -> bool:
    try:
        return all(metadata.version(name) == version for name, version in SUPPORTED.items())
    except metadata.PackageNotFoundError:  # pragma: no cover
        return False


AVAILABLE = _IMPORTED and _versions_match()
"""Whether the installed Hypercorn and h11 are the ones the fast path knows."""

if not AVAILABLE:  # pragma: no cover
    logger.warning("fan-out fast path disabled: needs %s", SUPPORTED)


def frame_chunk(body: bytes) -> bytes:
    """``body`` as one HTTP/1.1 chunk, exactly as h11's ChunkedWriter frames it."""
    return b"%x\r\n%b\r\n" % (len(body), body)


class DirectWriter:
    """Non-blocking writes of chunks to one Hypercorn HTTP/1.1 connection.

    Resource handling: owns nothing; Hypercorn keeps owning the socket, and every
    write first checks that the connection is still in the state it was attached
    in (so a closed socket, whose descriptor may have been reused, is never
    written to).
    """

    __slots__ = ("_connection", "_http_stream", "_lock", "_server", "_socket")

    def __init__(self, server: Any, http_stream: Any, connection: h11.Connection) -> None:
        self._server = server
        self._http_stream = http_stream
        self._connection = connection
        self._lock: trio.Lock = server.send_lock
        self._socket = server.stream.socket

    def write_nowait(self, data: bytes) -> int | None:
        """Write as much of ``data`` (framed bytes) as the socket takes right now.

        Returns:
            How many bytes were written (possibly 0), or ``None`` when the
            connection is not in a state where writing directly is safe; then
            nothing was written.
        """
        stream = self._http_stream
        sock = self._socket
        if (
            self._lock.locked()
            or stream.closed
            or stream.state is not ASGIHTTPState.RESPONSE
            or self._connection.our_state is not h11.SEND_BODY
            or sock.did_shutdown_SHUT_WR
        ):
            return None
        fd = sock.fileno()
        if fd < 0:
            return None
        try:
            return os.write(fd, data)
        except BlockingIOError:
            return 0
        except OSError:
            return None  # reset or closed: the subscriber's task finds out and ends

    async def send_raw(self, data: bytes) -> None:
        """Write already framed bytes through Hypercorn (its lock, its shielded send)."""
        await self._server.protocol_send(RawData(data=data))


def _server_of(send: Any) -> Any | None:
    """Hypercorn's TCPServer behind an HTTP/1.x (or WebSocket) ASGI ``send``, or ``None``."""
    if not AVAILABLE:
        return None
    http_stream = getattr(send, "__self__", None)
    func = getattr(send, "__func__", None)
    if not (
        (type(http_stream) is HTTPStream and func is HTTPStream.app_send)
        or (type(http_stream) is WSStream and func is WSStream.app_send)
    ):
        return None
    protocol_send: Any = http_stream.send
    protocol = getattr(protocol_send, "__self__", None)
    if type(protocol) is not H11Protocol or protocol_send.__func__ is not H11Protocol.stream_send:
        return None
    if protocol.stream is not http_stream:
        return None
    server_send: Any = protocol.send
    server = getattr(server_send, "__self__", None)
    if type(server) is not TCPServer or server_send.__func__ is not TCPServer.protocol_send:
        return None
    return server


def connection_socket(send: Any) -> trio.socket.SocketType | None:
    """The socket of the HTTP/1.x or WebSocket connection behind ``send``, or ``None``.

    Only for aborting a connection whose write is stuck (``biomock.watchdog``):
    nothing is ever written to it here.
    """
    server = _server_of(send)
    if server is None:
        return None
    transport: Any = server.stream
    transport = getattr(transport, "transport_stream", transport)  # under TLS
    if type(transport) is not trio.SocketStream:
        return None
    return transport.socket


def attach(send: Any, scope: Any) -> DirectWriter | None:
    """A :class:`DirectWriter` for the connection behind ``send``, or ``None``.

    ``send`` must be the ASGI send callable exactly as Hypercorn passed it to the
    app, called after the response start was sent.
    """
    if scope.get("http_version") != "1.1" or scope.get("method") != "GET":
        return None
    if scope.get("scheme") != "http":
        return None
    server = _server_of(send)
    if server is None:
        return None
    transport: Any = server.stream
    if type(transport) is not trio.SocketStream or type(server.send_lock) is not trio.Lock:
        return None  # TLS: the stream is an SSLStream
    http_stream = send.__self__
    connection = http_stream.send.__self__.connection
    if type(connection) is not h11.Connection or connection.our_state is not h11.SEND_BODY:
        return None
    if type(getattr(connection, "_writer", None)) is not ChunkedWriter:
        return None  # e.g. an HTTP/1.0 client: no chunked framing
    return DirectWriter(server, http_stream, connection)


class FrameMemo:
    """The last chunk framed: subscribers woken by one publish mostly share it."""

    __slots__ = ("_body", "_framed")

    def __init__(self) -> None:
        self._body = b""
        self._framed = b""

    def frame(self, body: bytes) -> bytes:
        if body is not self._body:
            self._body, self._framed = body, frame_chunk(body)
        return self._framed


@dataclass(slots=True)
class Pending:
    """A chunk the direct write could not finish, left for the subscriber's task.

    ``framed``: ``data`` is the rest of an HTTP/1.1 chunk already partly on the
    wire, which only raw bytes can complete; otherwise ``data`` is a whole chunk
    body that nothing was written of, which goes through the public ASGI send
    (h11 frames it and checks its state).
    """

    data: bytes
    framed: bool
    size: int
    events: int
    published_at: float | None


class DirectDelivery:
    """The callable a subscription runs on publish while its task is idle.

    It takes the subscriber's new events and writes them with one non-blocking
    write. Whatever the socket did not take is kept in :attr:`pending` and the
    call returns False, so the hub wakes the task, which writes ``pending``
    (:meth:`flush`) before anything else, and before it ends the response:
    a chunk is never left half written.
    """

    __slots__ = ("_hub", "_memo", "_sub", "_writer", "last_write", "pending")

    def __init__(self, hub: Hub, sub: Subscription, writer: DirectWriter, memo: FrameMemo) -> None:
        self._hub = hub
        self._sub = sub
        self._writer = writer
        self._memo = memo
        self.pending: Pending | None = None
        self.last_write = trio.current_time()

    def __call__(self) -> bool:
        if self.pending is not None:
            return False  # a remainder waits for the task: nothing may overtake it
        try:
            chunk, events = self._sub.take()
        except SubscriberLagged:
            self._sub.direct = None
            return False  # the task takes again, gets the same error and ends the stream
        if not chunk:
            return True
        published_at = self._sub.taken_published_at
        data = self._memo.frame(chunk)
        written = self._writer.write_nowait(data)
        if written == len(data):
            self._hub.count_write(len(chunk), events, published_at)
            self.last_write = trio.current_time()
            return True
        if written:
            self.pending = Pending(data[written:], True, len(chunk), events, published_at)
        else:
            # Nothing written (the socket is full, or a pre-write check failed): the
            # whole chunk goes through the public send, which frames it itself.
            self.pending = Pending(chunk, False, len(chunk), events, published_at)
        # Until the task has written the remainder, every publish must wake the task
        # instead of writing here.
        self._sub.direct = None
        return False

    async def flush(self, send: ASGISendCallable) -> None:
        """Write :attr:`pending` (blocking only this subscriber).

        Args:
            send: the stream's ASGI send, for a chunk nothing was written of.
        """
        pending = self.pending
        if pending is None:
            return
        self.pending = None
        if pending.framed:
            await self._writer.send_raw(pending.data)
        else:
            await send({"type": "http.response.body", "body": pending.data, "more_body": True})
        self._hub.count_write(pending.size, pending.events, pending.published_at)
        self.last_write = trio.current_time()

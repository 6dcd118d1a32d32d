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
waits, alone, for a slow client). Subscribers whose tasks wait with everything
taken are grouped per filter (:class:`Cohort`): the chunk is taken and framed
once and written to each of their sockets in one loop, so what a write costs
beyond the system call is the loop's step, not a walk through each
subscriber's objects.

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
import math
import os
import socket
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import h11
import trio
from hypercorn.typing import ASGISendCallable

from biomock.errors import SubscriberLagged
from biomock.hub import Hub, Subscription
from biomock.subscription import Take

logger = logging.getLogger(__name__)

SUPPORTED = {"hypercorn": "0.18.0", "h11": "0.16.0"}
"""The versions whose internals this module was written and tested against."""

try:
    from h11._writers import ChunkedWriter
    from hypercorn.events import RawData
    from hypercorn.protocol.h11 import H11Protocol
    from hypercorn.protocol.http_stream import HTTPStream
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


def _frame(take: Take) -> bytes:
    """Frame a shared take once, for every subscriber it is written to directly."""
    take.framed = framed = frame_chunk(take.chunk)
    take.framed_at = trio.current_time()
    return framed


class DirectWriter:
    """One Hypercorn HTTP/1.1 connection, as the fast path writes to it.

    Resource handling: owns nothing; Hypercorn keeps owning the socket.
    """

    __slots__ = ("_server", "socket")

    def __init__(self, server: Any) -> None:
        self._server = server
        trio_socket = server.stream.socket
        # The standard socket under trio's (trio 0.35 keeps it in ``_sock``): its
        # ``fileno`` is one C call, where trio's wrapper adds a Python frame per write.
        # Either's ``fileno`` turns -1 when Hypercorn closes the socket.
        std = getattr(trio_socket, "_sock", None)
        self.socket: socket.socket | trio.socket.SocketType = (
            std if type(std) is socket.socket else trio_socket
        )
        """The connection's socket: only its descriptor is used, to write to."""

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
    return DirectWriter(server)


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

    __slots__ = (
        "_cohort",
        "_cohort_written_at",
        "_deadline",
        "_evicted",
        "_flushed_at",
        "_heartbeat_s",
        "_hub",
        "_joined_at",
        "_last",
        "_push_after",
        "_silence",
        "_socket",
        "_sub",
        "_writer",
        "pending",
    )

    def __init__(self, hub: Hub, sub: Subscription, writer: DirectWriter) -> None:
        self._hub = hub
        self._sub = sub
        self._writer = writer
        self._socket = writer.socket  # here too: one object fewer to reach per write
        self.pending: Pending | None = None
        self._flushed_at = trio.current_time()
        self._last: Take | None = None
        self._silence: trio.CancelScope | None = None
        self._heartbeat_s = math.inf
        self._deadline = math.inf
        self._push_after = math.inf
        self._cohort: Cohort | None = None
        self._evicted = False
        self._joined_at = 0.0
        self._cohort_written_at = -math.inf

    def keep_quiet(self, silence: trio.CancelScope, heartbeat_s: float, deadline: float) -> None:
        """The task waits in ``silence``, whose deadline is when a keepalive is due.

        While this delivery writes, the keepalive is not due: it pushes the deadline
        on (never past ``deadline``, the stream's own end) once it is less than a
        quarter of ``heartbeat_s`` away, so the task is not woken every
        ``heartbeat_s`` only to find that samples went out meanwhile. Moving a
        deadline costs a few microseconds (trio's heap); waking a task, tens.
        """
        self._silence = silence
        self._heartbeat_s = heartbeat_s
        self._deadline = deadline
        self._push_after = silence.deadline - heartbeat_s / 4
        self._join()

    def _join(self) -> None:
        """Join the cohort of the subscribers idle at the newest id with this filter
        (creating it), if this subscriber is there too and has nothing left to write."""
        hub, sub = self._hub, self._sub
        if self.pending is not None or self._cohort is not None or sub.failed is not None:
            return
        if sub.cursor != hub.next_id - 1:
            return  # something to take first: the task is woken at once
        key = (Cohort, sub.token)
        cohort = hub.batch(key)
        if isinstance(cohort, Cohort) and cohort.members:
            if cohort.cursor != sub.cursor:
                return  # (cohorts are always at the newest id: not expected)
        else:
            cohort = Cohort(hub, key, sub.cursor)
            hub.add_batch(key, cohort)
        cohort.add(self)
        self._cohort = cohort
        self._evicted = False
        self._joined_at = trio.current_time()
        hub.batched(sub, True)

    def leave(self) -> None:
        """Leave the cohort when the task wakes (whatever woke it): from then on the
        hub's publish delivers to this subscriber on its own, and its cursor is where
        the cohort's writes left it."""
        cohort = self._cohort
        if cohort is None:
            return
        self._cohort = None
        if not self._evicted:
            cohort.remove(self)
            self._sub.advance(cohort.cursor)
            written_at = cohort.last_write
            if written_at >= self._joined_at:
                self._cohort_written_at = max(self._cohort_written_at, written_at)
        self._hub.batched(self._sub, False)

    def evicted(
        self,
        take: Take | None,
        data: bytes,
        written: int | None,
        cursor: int,
        last_write: float,
    ) -> None:
        """Taken out of its cohort by a publish (the cohort has removed it): its cursor
        is ``cursor``; ``take`` (``None`` after a lag) was written to it as ``data``,
        ``written`` bytes of it (``None``: nothing, the socket is gone), and the rest
        waits for the task, which is woken. ``last_write``: when the cohort last wrote
        to its members before."""
        self._evicted = True
        if last_write >= self._joined_at:
            self._cohort_written_at = max(self._cohort_written_at, last_write)
        sub = self._sub
        sub.advance(cursor)
        if take is not None:
            self._keep_rest(take, data, written)
        sub.direct = None
        sub.notify()  # only wakes the task: no direct delivery is set

    @property
    def socket(self) -> socket.socket | trio.socket.SocketType:
        """The connection's socket, whose descriptor the writes go to."""
        return self._socket

    @property
    def push_after(self) -> float:
        """When a write should next move the keepalive on (see :meth:`keep_quiet`)."""
        return self._push_after

    @property
    def subscription(self) -> Subscription:
        """The subscription this delivery writes for."""
        return self._sub

    @property
    def last_write(self) -> float:
        """When this delivery, or its cohort while it was in it, last wrote (trio time)."""
        last = self._last
        own = self._flushed_at if last is None else max(self._flushed_at, last.framed_at)
        return max(own, self._cohort_written_at)

    def __call__(self) -> bool:
        if self.pending is not None:
            return False  # a remainder waits for the task: nothing may overtake it
        sub = self._sub
        try:
            take = sub.take_shared()
        except SubscriberLagged:
            sub.direct = None
            return False  # the task takes again, gets the same error and ends the stream
        chunk = take.chunk
        if not chunk:
            return True
        data = take.framed or _frame(take)
        written = self.write_nowait(data)
        if written == len(data):
            # Counted by the hub when the fan-out is done (Hub._count_direct_writes).
            take.direct_writes += 1
            self._last = take
            if take.framed_at >= self._push_after:
                self.push_silence(take.framed_at)
            return True
        self._keep_rest(take, data, written)
        return False

    def _keep_rest(self, take: Take, data: bytes, written: int | None) -> None:
        """Keep what a direct write of ``take`` (framed as ``data``) left for the task."""
        chunk = take.chunk
        if written:
            self.pending = Pending(data[written:], True, len(chunk), take.events, take.published_at)
        else:
            # Nothing written (the socket is full, or a pre-write check failed): the
            # whole chunk goes through the public send, which frames it itself.
            self.pending = Pending(chunk, False, len(chunk), take.events, take.published_at)
        # Until the task has written the remainder, every publish must wake the task
        # instead of writing here.
        self._sub.direct = None

    def push_silence(self, written_at: float) -> float:
        """Move the keepalive on: something was written at ``written_at``. Returns
        when it should next be moved (see :meth:`keep_quiet`)."""
        silence = self._silence
        if silence is not None:
            silence.deadline = min(written_at + self._heartbeat_s, self._deadline)
            self._push_after = written_at + self._heartbeat_s * 0.75
        return self._push_after

    def write_nowait(self, data: bytes) -> int | None:
        """Write as much of ``data`` (framed bytes) as the socket takes right now.

        Only called while the stream's task waits, so nothing of ours is writing to
        the connection; and while a response's body is being sent, Hypercorn 0.18
        writes to an HTTP/1.1 connection only what the app sends (a protocol error
        from the client, or its leaving, closes the connection instead, without a
        write). So one thing is checked per call: that the socket is still open,
        since a closed socket's descriptor may already belong to another connection.
        A socket Hypercorn shut down for writing, or one the client reset, fails the
        write; a stream Hypercorn closed while the socket is still open reaches a
        client that has gone. :func:`attach` checked the rest (the versions, h11's
        chunked body, a plain socket) when the stream started.

        Returns:
            How many bytes were written (possibly 0), or ``None`` when the
            connection is not in a state where writing directly is safe; then
            nothing was written.
        """
        fd = self._socket.fileno()
        if fd < 0:
            return None
        try:
            return os.write(fd, data)
        except BlockingIOError:
            return 0
        except OSError:
            return None  # reset or closed: the subscriber's task finds out and ends

    async def write_chunk(self, chunk: bytes, send: ASGISendCallable) -> None:
        """Write ``chunk`` from the subscriber's own task: straight to the socket when
        it takes it whole, as in a publish; else the rest through Hypercorn (raw, its
        lock and shielded send) or, if nothing went out, the whole chunk through
        ``send`` (h11 frames it). For the stream's first bytes and its keepalives,
        which then cost one system call instead of Hypercorn's whole send path.

        Args:
            send: the stream's ASGI send.
        """
        data = frame_chunk(chunk)
        written = self.write_nowait(data)
        if written == len(data):
            return
        if written:
            await self._writer.send_raw(data[written:])
        else:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})

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
        self._flushed_at = trio.current_time()


class Cohort:
    """The fast-path subscribers of one hub that are idle at the newest id with one
    filter: their chunk is taken and framed once, and written to each socket in one
    loop that touches nothing per subscriber but its socket (``biomock.hub.Batch``).

    A subscriber joins when its task starts waiting with everything taken
    (:meth:`DirectDelivery.keep_quiet`) and leaves when the task wakes
    (:meth:`DirectDelivery.leave`). While it is a member its subscription's cursor is
    not moved: the cohort's :attr:`cursor` is its cursor, and the subscription is
    given it when it leaves. A write the socket does not take whole, a closed socket
    or a lag takes the subscriber out at once (:meth:`DirectDelivery.evicted`): what
    is left of the chunk waits for its task, which is woken, exactly as on the
    one-by-one path.

    Resource handling: owns nothing; the hub holds it while it has members.
    """

    __slots__ = ("_hub", "_key", "_push_after", "cursor", "last_write", "members")

    def __init__(self, hub: Hub, key: Any, cursor: int) -> None:
        self._hub = hub
        self._key = key
        self.cursor = cursor
        """The id of the last record every member has taken."""
        self.last_write = -math.inf
        """When the cohort last wrote to its members (trio time)."""
        self.members: dict[DirectDelivery, socket.socket | trio.socket.SocketType] = {}
        self._push_after = math.inf

    def add(self, delivery: DirectDelivery) -> None:
        self.members[delivery] = delivery.socket
        self._push_after = min(self._push_after, delivery.push_after)

    def remove(self, delivery: DirectDelivery) -> None:
        self.members.pop(delivery, None)
        if not self.members:
            self._hub.remove_batch(self._key, self)

    def deliver(self) -> None:
        """Take what is new for the members and write it to each (the hub's publish)."""
        members = self.members
        if not members:
            return
        cursor = self.cursor
        first = next(iter(members)).subscription
        first.advance(cursor)
        try:
            take = first.take_shared()
        except SubscriberLagged:
            self._evict(list(members), None, b"", cursor)
            return
        except Exception as error:  # never into the publishing task
            self._hub.faults.report("subscriber", error, "a cohort's take failed")
            self._evict(list(members), None, b"", cursor)
            return
        self.cursor = take.newest
        chunk = take.chunk
        if not chunk:
            return
        data = take.framed or _frame(take)
        size = len(data)
        write = os.write
        short: list[tuple[DirectDelivery, int | None]] = []
        # DirectDelivery.write_nowait, inlined: a method call per member is the kind of
        # per-subscriber work the cohort exists to leave out.
        for delivery, sock in members.items():
            fd = sock.fileno()
            if fd < 0:
                short.append((delivery, None))
                continue
            try:
                written: int | None = write(fd, data)
            except BlockingIOError:
                written = 0
            except OSError:
                written = None
            if written != size:
                short.append((delivery, written))
        # Counted by the hub when the fan-out is done (Hub._count_direct_writes).
        take.direct_writes += len(members) - len(short)
        before = self.last_write
        self.last_write = written_at = take.framed_at
        for delivery, written in short:
            del members[delivery]
            delivery.evicted(take, data, written, take.newest, before)
        if written_at >= self._push_after:
            self._push_after = min(
                (delivery.push_silence(written_at) for delivery in members), default=math.inf
            )
        if not members:
            self._hub.remove_batch(self._key, self)

    def _evict(
        self, deliveries: list[DirectDelivery], take: Take | None, data: bytes, cursor: int
    ) -> None:
        for delivery in deliveries:
            self.members.pop(delivery, None)
            delivery.evicted(take, data, None, cursor, self.last_write)
        if not self.members:
            self._hub.remove_batch(self._key, self)

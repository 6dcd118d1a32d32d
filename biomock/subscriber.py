"""The subscription core that every stream transport drives.

``/api/stream`` (Server-Sent Events) and ``/api/ws`` (WebSocket) serve the same
stream: the same parameters (``biomock.params.stream_request``), placement and
resume (``Hub.subscribe``), takes, lag and stall rules, heartbeats and counters.
That logic lives here once, in :func:`pump`; a :class:`Transport` owns only its
framing and its writes. The
SSE fast path stays an SSE detail, seen here only as a transport's
:attr:`Transport.direct` delivery.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import trio

from biomock import fastpath
from biomock.errors import ApiError, HubClosed, SubscriberLagged
from biomock.faults import Injector, Piece
from biomock.hub import DROP_REASONS, Hub, StopReason, Subscription
from biomock.limits import STALL_MAX_S
from biomock.params import StreamRequest
from biomock.sample import Sample
from biomock.sessions import unknown_session
from biomock.subscription import SSE_FRAMING, Framing
from biomock.watchdog import StallWatchdog, abort_socket

OlderSamples = Callable[[int], Awaitable[Sequence[tuple[int, Sample]]]]
"""Given a resume point, the numbered samples after it that the buffer no longer has
(the shared bus keeps more than the buffer), up to the buffer's oldest."""


@dataclass(frozen=True, slots=True)
class Retarget:
    """The client asked, on the same connection, for another subscription.

    ``params.last_event_id`` of ``None`` means: after the last id sent to it.
    """

    params: StreamRequest


class Transport:
    """What :func:`pump` needs of a transport: framing and writes, nothing else.

    Attributes:
        framing: how a take is framed for this transport.
        direct: a delivery the hub's publish runs while the transport's task waits
            (the SSE fast path); ``None`` to be woken for every publish.
    """

    framing: Framing = SSE_FRAMING
    direct: Callable[[], bool] | None = None

    async def write_initial(self, sub: Subscription, *, replay: bool = True) -> int:
        """Write what comes first (reset, and the replay unless ``replay`` is false);
        returns the bytes written."""
        raise NotImplementedError

    async def write(self, chunk: bytes) -> None:
        """Write one take (or a heartbeat), as :attr:`framing` joined it."""
        raise NotImplementedError

    def heartbeat(self) -> bytes:
        """What to write after a silence."""
        raise NotImplementedError

    async def flush(self, watchdog: StallWatchdog) -> bool:
        """Write what must go before the next take; returns whether it wrote."""
        return False

    async def answer(self, watchdog: StallWatchdog) -> Retarget | None:
        """Handle what the client sent since the last call."""
        return None

    def waiting(self, silence: trio.CancelScope, heartbeat_s: float, deadline: float) -> None:
        """The pump waits in ``silence`` until a wake-up, or a keepalive is due.

        A transport whose :attr:`direct` delivery writes while the pump waits may
        push ``silence.deadline`` on (never past ``deadline``), so the pump does not
        wake only to find that it was not silent.
        """

    async def discard_messages(self) -> None:
        """Read and drop what the client sends, until cancelled (while stalled on purpose:
        a client's messages must not pile up unread, or its close would go unseen)."""
        await trio.sleep_forever()

    def woken(self) -> None:
        """The pump's wait (begun with :meth:`waiting`) has ended, whatever ended it."""

    def written_while_idle(self) -> float:
        """When :attr:`direct` last wrote (trio time): that was not a silence."""
        return -math.inf

    def ends_with_source(self) -> bool:
        """Whether to end, after a silence, because the source has nothing more."""
        return False


async def pump(
    hub: Hub,
    sub: Subscription,
    transport: Transport,
    watchdog: StallWatchdog,
    *,
    heartbeat_s: float,
    deadline: float = math.inf,
    faults: Injector | None = None,
) -> StopReason | Retarget:
    """Write ``sub``'s stream through ``transport`` until it must stop; returns why.

    Every write runs under ``watchdog``; a heartbeat goes out after ``heartbeat_s``
    of silence. Stops with ``shutdown`` when the hub closes (``ended``: a session's
    hub), ``lagged`` when samples the subscriber wants left the buffer before it took
    them, ``error`` when its direct delivery failed, ``finished`` after a silence once
    the source is drained (if the transport ends with it), ``expired`` once
    ``deadline`` (trio time: when the client's token expires) has passed, or the
    client's :class:`Retarget`.

    With ``faults`` (the connection's ``?faults=``), samples are taken as records and
    written as the injector decides, each write held as it asks; ``fault`` when it
    disconnects, or when a stall has lasted ``STALL_MAX_S``. Without, nothing of that runs.
    """
    pieces: list[Piece] = []  # the writes of a faulted take, in order
    if faults is None:
        with watchdog.writing():
            sent = await transport.write_initial(sub)
        if sent:
            hub.count_write(sent, len(sub.replay))
    else:
        await faults.hold(hub.closing.event)
        with watchdog.writing():
            sent = await transport.write_initial(sub, replay=False)
        if sent:
            hub.count_write(sent, 0)
        pieces = faults.pieces(sub.replay, transport.framing, sub.filter.format)
    last_sent = trio.current_time()
    chunk, events = b"", 0
    published_at: float | None = None  # of the oldest sample in chunk, if it is live
    while True:
        if await transport.flush(watchdog):
            last_sent = trio.current_time()
        if chunk:
            if faults is not None:
                await faults.hold(hub.closing.event)
            with watchdog.writing():
                await transport.write(chunk)
            last_sent = trio.current_time()
            hub.count_write(len(chunk), events, published_at)
        if pieces:
            assert faults is not None
            for piece, piece_events in pieces:
                await faults.hold(hub.closing.event)
                with watchdog.writing():
                    await transport.write(piece)
                last_sent = trio.current_time()
                hub.count_write(len(piece), piece_events)  # held on purpose: no latency
            pieces = []
        if faults is not None and faults.ending is not None:
            if faults.ending == "disconnect":
                faults.disconnected()
                return "fault"
            stall_until = min(deadline, trio.current_time() + STALL_MAX_S)
            closed = await faults.stall(hub.closing.event, transport.discard_messages, stall_until)
            if closed:
                return hub.closing.reason
            return "expired" if trio.current_time() >= deadline else "fault"
        chunk, events, published_at = b"", 0, None
        retarget = await transport.answer(watchdog)
        if retarget is not None:
            return retarget
        if trio.current_time() >= deadline:
            return "expired"  # between writes; the caller ends the stream
        with trio.move_on_at(min(last_sent + heartbeat_s, deadline)) as silence:
            sub.direct = transport.direct
            transport.waiting(silence, heartbeat_s, deadline)
            try:
                await sub.wait()
            except HubClosed:
                return hub.closing.reason
            finally:
                sub.direct = None
                transport.woken()
        if sub.failed is not None:
            return "error"
        if silence.cancelled_caught:
            if transport.ends_with_source():
                return "finished"  # everything published was taken and written
            idle_write = transport.written_while_idle()
            if idle_write > last_sent:
                last_sent = idle_write  # written while idle: not silent
            elif trio.current_time() < deadline:
                chunk = transport.heartbeat()
            continue
        try:
            if faults is None:
                chunk, events = sub.take(transport.framing)
                published_at = sub.taken_published_at
            else:
                pieces = faults.pieces(sub.take_records(), transport.framing, sub.filter.format)
        except SubscriberLagged:
            return "lagged"


def open_watchdog(hub: Hub, server_send: Any, timeout_s: float) -> StallWatchdog:
    """A stall watchdog for the connection behind ``server_send`` (the send exactly as
    Hypercorn passed it), able to abort its socket where that can be found."""
    sock = fastpath.connection_socket(server_send)
    abort = None if sock is None else partial(abort_socket, sock)
    return hub.stalls.watchdog(timeout_s, abort)


def settle(hub: Hub, reason: StopReason, watchdog: StallWatchdog) -> StopReason:
    """The stream's final stop reason, counted as a drop when the server cut it."""
    if watchdog.fired:
        reason = "stalled"
    if reason in DROP_REASONS:
        hub.drop(reason)
    return reason


def log_ended(
    log: logging.Logger,
    client: str,
    method: str,
    target: str,
    status: int,
    reason: str,
    started: float,
) -> None:
    """Log the end of a stream on the transport's ``log``, with why and after how long."""
    duration_s = trio.current_time() - started
    log.info(
        "subscriber disconnected %s: %s after %.1f s",
        client,
        reason,
        duration_s,
        extra={
            "client": client,
            "method": method,
            "path": target,
            "status": status,
            "reason": reason,
            "duration_ms": round(duration_s * 1000, 1),
        },
    )


def closed_refusal(hub: Hub, session_id: str | None) -> ApiError:
    """The answer to a stream opening on a closed hub: its session has just ended (404,
    as for any session that does not exist), or the server is shutting down (503)."""
    if session_id is not None and hub.closing.reason == "ended":
        return unknown_session(session_id)
    return ApiError(503, "unavailable", "the server is shutting down", headers={"Retry-After": "5"})

"""``GET /api/stream``: the Server-Sent Events route, written directly on ASGI.

The route sits below Quart's per-chunk response machinery (which would add a
timeout and per-chunk overhead to an endless response): one task per client
waits for wake-ups from the hub and writes everything new as one chunk.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack

import trio
from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable, HTTPScope

from biomock import fastpath, faults, sse
from biomock.asgi import header, send_error
from biomock.auth import stream_deadline
from biomock.errors import ApiError, HubClosed, TooManySubscribers
from biomock.hub import Hub, StopReason, Subscription
from biomock.logs import log_request, may_hold_secrets
from biomock.params import StreamRequest, query_args, stream_request
from biomock.sample import Sample
from biomock.sessions import session_id_of
from biomock.simulation import Simulation
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
from biomock.watchdog import StallWatchdog

logger = logging.getLogger(__name__)

STREAM_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (b"x-accel-buffering", b"no"),
]


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
        admit: raises an :class:`ApiError` when no new stream may start (the shared
            bus is unreachable).
        older: fetches the numbered samples after a resume point that the buffer no
            longer has (the shared bus keeps more), up to the buffer's oldest.
        fault_counts: where the faults that clients ask for are counted
            (``biomock.faults``).
    """

    def __init__(
        self,
        hub: Hub,
        subjects: list[str],
        *,
        heartbeat_s: float,
        slow_client_timeout_s: float,
        fast_path: bool = True,
        admit: Callable[[], None] = lambda: None,
        older: OlderSamples | None = None,
        fault_counts: faults.FaultCounts | None = None,
    ) -> None:
        self.hub = hub
        self.fault_counts = faults.FaultCounts() if fault_counts is None else fault_counts
        self.subjects = subjects
        self.heartbeat_s = heartbeat_s
        self.slow_client_timeout_s = slow_client_timeout_s
        self.fast_path = fast_path and fastpath.AVAILABLE
        self.admit = admit
        self.older = older

    async def __call__(
        self,
        scope: HTTPScope,
        receive: ASGIReceiveCallable,
        send: ASGISendCallable,
        *,
        server_send: ASGISendCallable | None = None,
        simulation: Simulation | None = None,
    ) -> None:
        """Serve one stream, of ``simulation`` (a session's) or else of the route's hub.

        ``server_send`` is the send callable exactly as the server passed it (before
        any wrapping); the fast path and the watchdog use it to find the connection.
        """
        hub, subjects = self.hub, self.subjects
        if simulation is not None:
            hub, subjects = simulation.hub, simulation.source.subjects
        started = trio.current_time()
        target = _target(scope)
        client = _client(scope)
        with ExitStack() as stack:
            try:
                # The default simulation is on the shared bus if there is one; a
                # session's is when the registry puts it there (biomock.bus.sessions).
                admit, older_of = self.admit, self.older
                if simulation is not None:
                    bus = simulation.bus
                    admit = (lambda: None) if bus is None else bus.admit
                    older_of = None if bus is None else bus.older
                admit()
                asked = _asked(
                    scope["query_string"],
                    header(scope, b"last-event-id"),
                    subjects,
                    hub.buffer.capacity,
                )
                if (injected := faults.refusal(asked.faults, self.fault_counts)) is not None:
                    raise injected
                resume = asked.last_event_id
                older: Sequence[tuple[int, Sample]] = ()
                if older_of is not None and resume is not None:
                    older = await older_of(resume)
                await hub.encode_ahead(asked.filter, last_event_id=resume, history=asked.history)
                sub = stack.enter_context(
                    hub.subscribe(
                        asked.filter, last_event_id=resume, history=asked.history, older=older
                    )
                )
            except (ApiError, TooManySubscribers, HubClosed) as refused:
                if isinstance(refused, TooManySubscribers):
                    error = _too_many(hub.max_subscribers)
                elif isinstance(refused, HubClosed):
                    error = closed_refusal(hub, session_id_of(scope))
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
            watchdog = open_watchdog(hub, server_send or send, self.slow_client_timeout_s)
            injector = None
            if asked.faults is not None and faults.needs_injector(asked.faults):
                injector = faults.Injector(asked.faults, asked.fault_seed, self.fault_counts)
            reason: StopReason = "error"  # unless serve returns
            try:
                reason = await self._serve(
                    scope, receive, send, server_send or send, hub, sub, watchdog, injector
                )
            finally:
                reason = settle(hub, reason, watchdog)
                log_ended(logger, client, scope["method"], target, 200, reason, started)

    async def _serve(
        self,
        scope: HTTPScope,
        receive: ASGIReceiveCallable,
        send: ASGISendCallable,
        server_send: ASGISendCallable,
        hub: Hub,
        sub: Subscription,
        watchdog: StallWatchdog,
        injector: faults.Injector | None,
    ) -> StopReason:
        """Write the response until it ends; returns why it ended.

        Every write runs under a :class:`StallWatchdog`. The response always ends in
        one of two ways: a complete last chunk and the final empty body, or (client
        gone, write aborted) a closed connection, never a half-written chunk. A
        connection with faults (``injector``) never takes the fast path.
        """
        reason: StopReason | Retarget = "disconnected"
        direct: fastpath.DirectDelivery | None = None
        async with trio.open_nursery() as nursery:
            with trio.CancelScope() as pumping:
                nursery.start_soon(_watch_disconnect, receive, pumping)
                start = {"type": "http.response.start", "status": 200, "headers": STREAM_HEADERS}
                with watchdog.writing():
                    await send(start)  # type: ignore[arg-type]
                if scope["method"] == "HEAD":
                    reason = "head"
                else:
                    if self.fast_path and injector is None:
                        writer = fastpath.attach(server_send, scope)
                        if writer is not None:
                            direct = fastpath.DirectDelivery(hub, sub, writer)
                    transport = _Sse(send, direct)
                    reason = await pump(
                        hub,
                        sub,
                        transport,
                        watchdog,
                        heartbeat_s=self.heartbeat_s,
                        deadline=stream_deadline(scope),
                        faults=injector,
                    )
            if pumping.cancelled_caught or isinstance(reason, Retarget):
                reason = "disconnected"  # (an SSE client sends nothing to re-target with)
            # After a failed delivery the connection's state is unknown: returning
            # without the final body makes Hypercorn close it.
            if reason not in ("disconnected", "error"):
                with trio.CancelScope(shield=True):
                    await self._finish(send, direct, watchdog)
            nursery.cancel_scope.cancel()
        return reason

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


class _Sse(Transport):
    """Server-Sent Events over one HTTP/1.x response: chunks of SSE frames.

    With ``direct`` (the fast path), publishes that arrive while the pump waits are
    written by the hub's publish itself; the pump wakes only to write what the
    socket did not take (``direct.pending``, always first), to send a keepalive, or
    to end. Whatever the pump returns, ``direct.pending`` may still hold a chunk's
    rest: ``StreamRoute._finish`` completes it before ending the response. The pump's
    own writes (the first bytes, keepalives) go straight to the socket too when it
    takes them whole (``DirectDelivery.write_chunk``).
    """

    def __init__(self, send: ASGISendCallable, direct: fastpath.DirectDelivery | None) -> None:
        self._send = send
        self._direct = direct
        self.direct = direct

    async def write_initial(self, sub: Subscription, *, replay: bool = True) -> int:
        """The head, then the replay in slices of about :data:`REPLAY_SLICE_BYTES`
        with a checkpoint between them: a replay of a whole buffer is megabytes, and
        joining, framing and writing them at once would hold up every other stream."""
        sent = 0
        for chunk in replay_slices(sub.head, sub.frames() if replay else ()):
            if sent:
                await trio.lowlevel.checkpoint()
            await self.write(chunk)
            sent += len(chunk)
        return sent

    async def write(self, chunk: bytes) -> None:
        direct = self._direct
        if direct is None:
            await self._send({"type": "http.response.body", "body": chunk, "more_body": True})
        else:
            await direct.write_chunk(chunk, self._send)

    def heartbeat(self) -> bytes:
        return sse.KEEPALIVE

    async def flush(self, watchdog: StallWatchdog) -> bool:
        direct = self._direct
        if direct is None or direct.pending is None:
            return False
        with watchdog.writing():
            await direct.flush(self._send)
        return True

    def waiting(self, silence: trio.CancelScope, heartbeat_s: float, deadline: float) -> None:
        if self._direct is not None:
            self._direct.keep_quiet(silence, heartbeat_s, deadline)

    def woken(self) -> None:
        if self._direct is not None:
            self._direct.leave()

    def written_while_idle(self) -> float:
        return -math.inf if self._direct is None else self._direct.last_write


REPLAY_SLICE_BYTES = 256 * 1024
"""About how much of a replay one write of the first bytes carries."""


def replay_slices(head: bytes, frames: Iterable[bytes]) -> Iterator[bytes]:
    """``head`` and ``frames`` joined into chunks of about :data:`REPLAY_SLICE_BYTES`
    (the first always begins with ``head``; one chunk when they are smaller)."""
    part, size = [head], len(head)
    for frame in frames:
        part.append(frame)
        size += len(frame)
        if size >= REPLAY_SLICE_BYTES:
            yield b"".join(part)
            part, size = [], 0
    if part:
        yield b"".join(part)


async def _watch_disconnect(receive: ASGIReceiveCallable, scope: trio.CancelScope) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            scope.cancel()
            return


def _asked(
    query: bytes, last_event_id: str | None, subjects: Sequence[str], capacity: int
) -> StreamRequest:
    """The validated request, from a small cache: most clients of one server ask the
    same few ways, and validating costs a connection more than the cache. A query that
    may hold a credential is never kept."""
    if may_hold_secrets(query.decode("latin-1")):
        return stream_request(query_args(query), last_event_id, subjects, capacity=capacity)
    return _validated(query, last_event_id, tuple(subjects), capacity)


@functools.lru_cache(maxsize=256)
def _validated(
    query: bytes, last_event_id: str | None, subjects: tuple[str, ...], capacity: int
) -> StreamRequest:
    return stream_request(query_args(query), last_event_id, subjects, capacity=capacity)


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

"""Fault injection (API.md "Fault injection"): what ``?faults=`` does to one connection.

A client developer asks for faults per connection, on ``/api/stream`` and ``/api/ws``
alike; both transports hand their pump an :class:`Injector` and nothing else changes
for them. Everything here happens on the subscriber's side, in the connection's own
task: the hub, the buffer and every other subscriber see nothing of it. A faulted
SSE connection leaves the fast path (``biomock.fastpath``) and takes its samples as
records (``Subscription.take_records``), so plain readers pay nothing for any of this.

Which samples are dropped, duplicated or broken is drawn from ``random.Random(fault_seed)``,
three draws per sample in id order, so the same seed on the same samples chooses the
same ones however they were grouped into writes. The holds of ``delay_ms``/``jitter_ms``
draw from a generator of their own, so timing never shifts which samples are chosen.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Literal

import trio

from biomock.errors import ApiError
from biomock.models import FaultSpec
from biomock.records import Record
from biomock.subscription import Framing

KINDS = ("disconnect", "stall", "drop", "duplicate", "malformed", "delay", "status")
"""The ``kind`` label of ``biomock_faults_injected_total``: one per fault injected
(``delay``: one per held write; ``status``: one per refused request)."""

RETRY_AFTER_S = 1
"""``Retry-After`` of an injected 429 or 503: short, so that a test of back-off is quick."""

STATUS_ERRORS: dict[int, str] = {
    429: "too_many_requests",
    500: "internal",
    502: "bad_gateway",
    503: "unavailable",
    504: "gateway_timeout",
}
"""The error code of each status ``faults=status=CODE`` can ask for."""

MAX_ITEMS = 1000
"""Samples per write at most, as a WebSocket replay is cut (``biomock.ws.REPLAY_ITEMS``)."""

Piece = tuple[bytes, int]
"""One write and how many sample events it carries."""

Ending = Literal["disconnect", "stall"]


class FaultCounts:
    """Faults injected so far, by kind (``biomock_faults_injected_total{kind}``).

    One per app, shared by every connection; only connections' own tasks count here,
    never the generator.
    """

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def count(self, kind: str, n: int = 1) -> None:
        self.counts[kind] += n


def refusal(spec: FaultSpec | None, counts: FaultCounts) -> ApiError | None:
    """The error to answer instead of streaming when ``spec`` asks for a status (counted)."""
    if spec is None or spec.status is None:
        return None
    counts.count("status")
    status = spec.status
    headers = {"Retry-After": str(RETRY_AFTER_S)} if status in (429, 503) else None
    return ApiError(
        status,
        STATUS_ERRORS[status],
        f"injected by faults=status={status}: this request is refused on purpose",
        headers=headers,
    )


def needs_injector(spec: FaultSpec | None) -> bool:
    """Whether ``spec`` changes the stream itself (and so needs an :class:`Injector`)."""
    return spec is not None and spec.status is None and spec.per_sample


def cut(data: bytes) -> bytes:
    """A sample's JSON cut in half, on a character boundary: never valid JSON (the
    object is not closed), still valid UTF-8 (a WebSocket text message must be)."""
    text = data.decode()
    return text[: max(1, len(text) // 2)].encode()


class Injector:
    """One connection's faults, applied by its pump (``biomock.subscriber.pump``).

    Args:
        spec: the faults asked for.
        seed: ``fault_seed``; ``None`` draws from the operating system.
        counts: where every injected fault is counted.

    Resource handling: owns nothing but its random generators; used by the
    connection's writing task alone.
    """

    def __init__(self, spec: FaultSpec, seed: int | None, counts: FaultCounts) -> None:
        self.spec = spec
        self.ending: Ending | None = None
        """Set once the samples ``disconnect_after``/``stall_after`` allow were written:
        the pump then ends the stream, or stalls it."""
        self._counts = counts
        self._choose = random.Random(seed)
        self._hold = random.Random(None if seed is None else f"{seed}/hold")
        asked: tuple[tuple[int | None, Ending], ...] = (
            (spec.disconnect_after, "disconnect"),
            (spec.stall_after, "stall"),
        )
        limits = [(n, kind) for n, kind in asked if n is not None]
        self._left: int | None = None
        self._limit_kind: Ending = "disconnect"
        if limits:
            self._left, self._limit_kind = min(limits)  # the first to come; a tie disconnects
            if self._left == 0:
                self.ending = self._limit_kind

    def pieces(self, records: Sequence[Record], framing: Framing, fmt: str) -> list[Piece]:
        """The writes that carry ``records`` (taken in id order) under the faults."""
        spec, draw, count = self.spec, self._choose.random, self._counts.count
        out: list[Piece] = []
        run: list[bytes] = []
        for record in records:
            if self.ending is not None:
                break
            dropped, duplicated, broken = draw(), draw(), draw()
            if dropped < spec.drop:
                count("drop")
                continue
            if broken < spec.malformed:
                data = record.json(fmt)
                if data is None:
                    continue
                if run:
                    out.append((framing.join(run), len(run)))
                    run = []
                out.append((framing.broken(cut(data), record.id), 1))
                count("malformed")
                self._spend()
                continue
            frame = framing.encode(record, fmt)
            if not frame:
                continue
            run.append(frame)
            self._spend()
            if duplicated < spec.duplicate and self.ending is None:
                run.append(frame)
                count("duplicate")
                self._spend()
            if len(run) >= MAX_ITEMS:
                out.append((framing.join(run), len(run)))
                run = []
        if run:
            out.append((framing.join(run), len(run)))
        return out

    def _spend(self) -> None:
        if self._left is not None:
            self._left -= 1
            if self._left <= 0:
                self.ending = self._limit_kind

    async def hold(self, closing: trio.Event) -> None:
        """Hold the next write ``delay_ms`` +- ``jitter_ms`` (never less than 0), or until
        ``closing`` (the hub's shutdown signal) is set."""
        spec = self.spec
        if not (spec.delay_ms or spec.jitter_ms):
            return
        self._counts.count("delay")
        held_ms = max(0.0, spec.delay_ms + self._hold.uniform(-spec.jitter_ms, spec.jitter_ms))
        with trio.move_on_after(held_ms / 1000):
            await closing.wait()

    async def stall(
        self,
        closing: trio.Event,
        discard: Callable[[], Awaitable[None]],
        deadline: float = math.inf,
    ) -> bool:
        """Write nothing more until ``closing`` (the hub's shutdown signal) is set
        (returns ``True``) or ``deadline`` (trio time) passes (``False``), meanwhile
        running ``discard`` (the transport reading and dropping the client's messages).
        Counted once, as it begins. A stalled stream so ends as promptly as any other.
        """
        self._counts.count("stall")
        async with trio.open_nursery() as nursery:
            nursery.start_soon(discard)
            with trio.move_on_at(deadline):
                await closing.wait()
            nursery.cancel_scope.cancel()
        return closing.is_set()

    def disconnected(self) -> None:
        """Count the disconnect the pump is about to make."""
        self._counts.count("disconnect")

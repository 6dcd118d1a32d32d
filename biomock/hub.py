"""The hub: numbers samples, keeps the shared buffer and wakes subscribers.

Publishing is synchronous and never blocks: the generator hands over a batch,
the hub gives each sample the next id, encodes it once and appends it to the
ring, then wakes every subscriber through its own memory channel. The channel
carries wake-ups, not samples: each subscriber keeps a cursor into the ring and,
when woken, takes everything after it that matches its filter as one chunk. A
subscriber that is busy writing simply finds more waiting when it comes back,
so an overloaded server sends bigger chunks instead of dropping everyone.

Everything ``publish`` calls runs in the generator's task, so nothing it calls
may raise into it: encoder errors, listener errors and a subscriber's delivery
errors are contained and counted (:class:`biomock.records.Faults`).
"""

from __future__ import annotations

import bisect
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import trio

from biomock import sse
from biomock.buffer import RingBuffer
from biomock.errors import HubClosed, TooManySubscribers
from biomock.filter import Filter
from biomock.records import Faults, Record, dumps
from biomock.sample import Sample
from biomock.subscription import Shared, Subscription, Take

__all__ = ["DROP_REASONS", "FANOUT_BUCKETS_S", "Hub", "Record", "StopReason", "Subscription"]

FANOUT_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
"""Upper bounds of the fan-out latency histogram: publish to the end of a subscriber's write."""

StopReason = Literal[
    "disconnected", "head", "shutdown", "finished", "lagged", "stalled", "error", "expired"
]
"""Why a stream ended: the client left, a HEAD request, the server shuts down, the
source is drained (WebSocket only: SSE streams go on), the client's token expired,
or the server cut it (``lagged``: fell behind the buffer; ``stalled``: stopped
reading; ``error``: its delivery failed)."""

DROP_REASONS: tuple[StopReason, ...] = ("lagged", "stalled", "error")
"""The stop reasons that are the server disconnecting a subscriber."""


@dataclass(slots=True)
class HubCounters:
    """Every counter of the hub, in one place; bumped where the work happens anyway."""

    published: int = 0
    delivered: int = 0
    writes: int = 0
    bytes_sent: int = 0
    resumes: int = 0
    resets: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    fanout_counts: list[int] = field(default_factory=lambda: [0] * (len(FANOUT_BUCKETS_S) + 1))
    fanout_sum_s: float = 0.0


@dataclass(frozen=True, slots=True)
class HubStatistics:
    """A snapshot of the hub's counters (API.md ``/api/stats``)."""

    subscribers: int
    published: int
    delivered: int
    dropped_slow: int
    dropped: dict[str, int]
    resumes: int
    resets: int
    writes: int
    bytes_sent: int
    fanout_counts: tuple[int, ...]
    fanout_sum_s: float
    buffer_size: int
    buffer_capacity: int
    oldest_id: int | None
    newest_id: int | None
    contained_errors: dict[str, int]


class Closing:
    """The hub's shutdown signal, with the moment by which every stream must have ended."""

    def __init__(self) -> None:
        self.event = trio.Event()
        self.deadline = math.inf

    def begin(self, deadline: float) -> None:
        self.deadline = min(self.deadline, deadline)
        self.event.set()


class Hub:
    """Numbers, buffers and fans out samples.

    Args:
        capacity: how many records the shared buffer keeps.
        id_base: ids of this run are ``id_base + 1, id_base + 2, ...``; choose it
            from the boot time so ids keep increasing across restarts.
        max_subscribers: the subscriber limit.
        retry_ms: the reconnection delay announced at the start of every stream.
    """

    def __init__(self, *, capacity: int, id_base: int, max_subscribers: int, retry_ms: int) -> None:
        self.max_subscribers = max_subscribers
        self.retry_ms = retry_ms
        self.listeners: list[Callable[[Sequence[Record]], None]] = []
        self.counters = HubCounters()
        self.closing = Closing()
        self.timer: Callable[[], float] = time.perf_counter
        self._shared = Shared(RingBuffer(capacity), Faults())
        self._next_id = id_base + 1
        self._subscribers: set[Subscription] = set()

    @property
    def buffer(self) -> RingBuffer[Record]:
        return self._shared.buffer

    @property
    def faults(self) -> Faults:
        return self._shared.faults

    @property
    def closed(self) -> bool:
        return self.closing.event.is_set()

    @property
    def next_id(self) -> int:
        return self._next_id

    def subscriptions(self) -> list[Subscription]:
        """The subscriptions open now."""
        return list(self._subscribers)

    def publish(self, samples: Sequence[Sample]) -> list[Record]:
        """Number, encode and buffer ``samples``, then wake every subscriber.

        Never blocks and never raises for what a sample, a listener or a
        subscriber does: a sample that cannot be encoded natively is left out
        (no id is spent on it), and every such error is counted in :attr:`faults`.
        """
        records = []
        now = self.timer()
        shared = self._shared
        takes = shared.takes
        takes.clear()  # the buffer changes: what was taken from it no longer applies
        for sample in samples:
            record = Record(self._next_id, sample, now, shared.faults)
            if not record.frame("native"):
                continue  # contained and counted by the record
            self._next_id += 1
            evicted = shared.buffer.append(record)
            if evicted is not None:
                shared.evicted_from(evicted)
            records.append(record)
        self.counters.published += len(records)
        for listener in self.listeners:
            try:
                listener(records)
            except Exception as error:
                shared.faults.report("listener", error, f"hub listener {listener!r} failed")
        for subscription in self._subscribers:
            subscription.notify()
        if takes.chunks:
            self._count_direct_writes(takes.chunks.values())
        return records

    @contextmanager
    def subscribe(
        self, filter: Filter, *, last_event_id: int | None = None, history: int = 0
    ) -> Iterator[Subscription]:
        """Register a subscriber for the duration of the ``with`` block.

        The subscription's ``reset`` says why the resume point cannot be honoured, if
        so, and its ``replay`` holds what is sent first: the replay (resume) or the
        newest ``history`` matching samples; its ``initial`` bytes are all that as
        Server-Sent Events, after the ``retry:`` field.

        Raises:
            TooManySubscribers: the configured limit is reached.
            HubClosed: the hub is shutting down.
        """
        if self.closed:
            raise HubClosed
        if len(self._subscribers) >= self.max_subscribers:
            raise TooManySubscribers
        buffer = self.buffer
        newest = self._next_id - 1
        replay: list[Record] = []
        reset = None
        if last_event_id is None:
            cursor = newest
            if history > 0:
                replay = self._newest_matching(filter, history)
        else:
            self.counters.resumes += 1
            cursor, reset = self._resume_point(last_event_id)
            if reset is not None:
                self.counters.resets += 1
            for record in buffer.after(cursor):
                if filter.matches(record.sample) and record.json(filter.format) is not None:
                    replay.append(record)
            cursor = max(cursor, buffer.newest_id or cursor)
        frames = [frame for record in replay if (frame := record.frame(filter.format))]
        parts = [sse.retry(self.retry_ms)]
        if reset is not None:
            parts.append(sse.event(dumps(reset), name="reset"))
        initial = b"".join(parts) + b"".join(frames)
        subscription = Subscription(
            self._shared, filter, cursor, initial, len(frames), reset=reset, replay=replay
        )
        self._subscribers.add(subscription)
        try:
            yield subscription
        finally:
            self._subscribers.discard(subscription)
            subscription.close()

    def _resume_point(self, last_event_id: int) -> tuple[int, dict[str, Any] | None]:
        oldest, newest = self.buffer.oldest_id, self.buffer.newest_id
        # With an empty buffer, the next id stands in for the oldest one.
        first = oldest if oldest is not None else self._next_id
        last = newest if newest is not None else self._next_id - 1
        if last_event_id > last:
            return last, {"reason": "unknown", "oldest_id": oldest, "newest_id": newest}
        if last_event_id < first - 1:
            return first - 1, {"reason": "expired", "oldest_id": oldest, "newest_id": newest}
        return last_event_id, None

    def _newest_matching(self, filter: Filter, n: int) -> list[Record]:
        records: list[Record] = []
        for record in reversed(self.buffer.after(-1)):
            if filter.matches(record.sample) and record.json(filter.format) is not None:
                records.append(record)
                if len(records) == n:
                    break
        records.reverse()
        return records

    def count_write(self, nbytes: int, events: int, published_at: float | None = None) -> None:
        """Count one write; ``published_at`` (of its oldest sample) feeds the latency histogram."""
        counters = self.counters
        counters.writes += 1
        counters.bytes_sent += nbytes
        counters.delivered += events
        if published_at is not None:
            latency = self.timer() - published_at
            counters.fanout_counts[bisect.bisect_left(FANOUT_BUCKETS_S, latency)] += 1
            counters.fanout_sum_s += latency

    def _count_direct_writes(self, takes: Iterable[Take]) -> None:
        """Count what direct deliveries wrote in this publish: per take, not per write.

        One clock reading for the whole fan-out: each direct write is counted in the
        latency histogram as ending when the publish's fan-out ended (an upper bound).
        """
        counters = self.counters
        end = self.timer()
        for take in takes:
            n = take.direct_writes
            if n:
                take.direct_writes = 0
                counters.writes += n
                counters.bytes_sent += n * len(take.chunk)
                counters.delivered += n * take.events
                latency = end - take.published_at
                counters.fanout_counts[bisect.bisect_left(FANOUT_BUCKETS_S, latency)] += n
                counters.fanout_sum_s += n * latency

    def drop(self, reason: StopReason) -> None:
        """Count a subscriber disconnected by the server (one of :data:`DROP_REASONS`)."""
        self.counters.dropped[reason] += 1

    def close(self, *, deadline: float = math.inf) -> None:
        """End every stream: each subscriber's ``wait`` raises :class:`HubClosed`.

        Args:
            deadline: the trio time by which every stream must have ended; writes
                still blocked then are aborted (see ``biomock.watchdog``).
        """
        self.closing.begin(deadline)
        for subscription in self._subscribers:
            subscription.close()

    def history(
        self,
        filter: Filter,
        *,
        after_id: int | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
        limit: int = 1000,
    ) -> tuple[list[Record], int | None]:
        """The oldest ``limit`` matching buffered records after ``after_id``.

        Returns:
            The records, and the last one's id if more match, else ``None``.
        """
        items: list[Record] = []
        for record in self.buffer.after(-1 if after_id is None else after_id):
            sample = record.sample
            if not filter.matches(sample):
                continue
            if since_ms is not None and sample.time_ms < since_ms:
                continue
            if until_ms is not None and sample.time_ms > until_ms:
                continue
            if record.json(filter.format) is None:
                continue
            if len(items) == limit:
                return items, items[-1].id
            items.append(record)
        return items, None

    def statistics(self) -> HubStatistics:
        counters, buffer = self.counters, self.buffer
        return HubStatistics(
            subscribers=len(self._subscribers),
            published=counters.published,
            delivered=counters.delivered,
            dropped_slow=counters.dropped["lagged"] + counters.dropped["stalled"],
            dropped=dict(counters.dropped),
            resumes=counters.resumes,
            resets=counters.resets,
            writes=counters.writes,
            bytes_sent=counters.bytes_sent,
            fanout_counts=tuple(counters.fanout_counts),
            fanout_sum_s=counters.fanout_sum_s,
            buffer_size=len(buffer),
            buffer_capacity=buffer.capacity,
            oldest_id=buffer.oldest_id,
            newest_id=buffer.newest_id,
            contained_errors=dict(self.faults.counts),
        )

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
from typing import Any, Literal, Protocol

import trio

from biomock import sse
from biomock.buffer import RingBuffer
from biomock.errors import HubClosed, TooManySubscribers
from biomock.filter import Filter
from biomock.records import Faults, Record, dumps
from biomock.sample import Sample
from biomock.subscription import Shared, Subscription, Take
from biomock.watchdog import StallWatch

__all__ = [
    "DROP_REASONS",
    "FANOUT_BUCKETS_S",
    "Batch",
    "Hub",
    "Record",
    "StopReason",
    "Subscription",
]

FANOUT_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
"""Upper bounds of the fan-out latency histogram: publish to the end of a subscriber's write."""

StopReason = Literal[
    "disconnected",
    "head",
    "shutdown",
    "ended",
    "finished",
    "lagged",
    "stalled",
    "error",
    "expired",
    "fault",
]
"""Why a stream ended: the client left, a HEAD request, the server shuts down, its session ended
(deleted or expired), the source is drained (WebSocket only: SSE streams go on), the client's token
expired, the client asked for it (``fault``: ``faults=disconnect_after=N``, see
``biomock.faults``), or the server cut it (``lagged``: fell behind the buffer; ``stalled``:
stopped reading; ``error``: its delivery failed)."""

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
    """The hub's shutdown signal, with the moment by which every stream must have ended
    and why they end (``shutdown``, or ``ended`` for a session's hub)."""

    def __init__(self) -> None:
        self.event = trio.Event()
        self.deadline = math.inf
        self.reason: StopReason = "shutdown"

    def begin(self, deadline: float, reason: StopReason = "shutdown") -> None:
        if not self.event.is_set():
            self.reason = reason
        self.deadline = min(self.deadline, deadline)
        self.event.set()


class Batch(Protocol):
    """Subscriptions that one object delivers to together on every publish.

    The SSE fast path's cohorts (``biomock.fastpath.Cohort``): idle subscribers at the
    same cursor with the same filter, whose chunk is taken once and written to each
    socket in one loop. ``deliver`` runs in the publishing task and must never raise.
    """

    def deliver(self) -> None: ...


ENCODE_SLICE = 256
"""Records :meth:`Hub.encode_ahead` encodes between two checkpoints (~2.5 ms of work)."""


class Hub:
    """Numbers, buffers and fans out samples.

    Args:
        capacity: how many records the shared buffer keeps.
        id_base: ids of this run are ``id_base + 1, id_base + 2, ...``; choose it
            from the boot time so ids keep increasing across restarts.
        max_subscribers: the subscriber limit.
        retry_ms: the reconnection delay announced at the start of every stream.
        peers: subscribers of other hubs that count against the same
            ``max_subscribers`` (the default simulation's and the sessions' together:
            one limit per process).
        on_subscribers_changed: called (synchronously, in the subscriber's task) when a
            subscription opens or closes; a session uses it to start ticking and to
            count stream activity.
    """

    def __init__(
        self,
        *,
        capacity: int,
        id_base: int,
        max_subscribers: int,
        retry_ms: int,
        peers: Callable[[], int] | None = None,
        on_subscribers_changed: Callable[[], None] | None = None,
    ) -> None:
        self.max_subscribers = max_subscribers
        self.retry_ms = retry_ms
        self.listeners: list[Callable[[Sequence[Record]], None]] = []
        self.counters = HubCounters()
        self.closing = Closing()
        self.stalls = StallWatch(self.closing)
        """Watches every stream's writes for a stall (``biomock.watchdog``)."""
        self.timer: Callable[[], float] = time.perf_counter
        self._shared = Shared(RingBuffer(capacity), Faults())
        self._next_id = id_base + 1
        self._subscribers: set[Subscription] = set()
        self._notified: set[Subscription] = set()
        """The subscriptions publish wakes one by one: all but those in a batch."""
        self._batches: dict[Any, Batch] = {}
        self._peers = peers
        self._on_subscribers_changed = on_subscribers_changed

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

    @property
    def subscriber_count(self) -> int:
        """How many subscriptions are open now."""
        return len(self._subscribers)

    def batch(self, key: Any) -> Batch | None:
        """The batch registered under ``key``, if any."""
        return self._batches.get(key)

    def add_batch(self, key: Any, batch: Batch) -> None:
        """Deliver ``batch`` on every publish (replacing any batch under ``key``)."""
        self._batches[key] = batch

    def remove_batch(self, key: Any, batch: Batch) -> None:
        """Stop delivering ``batch``, if it is still the one under ``key``."""
        if self._batches.get(key) is batch:
            del self._batches[key]

    def batched(self, subscription: Subscription, batched: bool) -> None:
        """Whether a batch delivers to ``subscription`` (publish then does not wake it)
        or publish wakes it itself, as it does every subscription at first."""
        if not batched:
            if subscription in self._subscribers:
                self._notified.add(subscription)
        else:
            self._notified.discard(subscription)

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
        if self._batches:
            for batch in list(self._batches.values()):
                try:
                    batch.deliver()
                except Exception as error:  # pragma: no cover - deliver contains its own
                    shared.faults.report("subscriber", error, "a batch delivery failed")
        for subscription in self._notified:
            subscription.notify()
        if takes.chunks:
            self._count_direct_writes(takes.chunks.values())
        return records

    def publish_numbered(self, first_id: int, samples: Sequence[Sample]) -> list[Record]:
        """Publish ``samples`` numbered ``first_id, first_id + 1, ...`` by someone else.

        The shared bus (``biomock.bus``) numbers samples once, for every process; each
        process's reader hands them over here. Ids at or below the newest buffered one
        are already here and are skipped; a jump forward (a new generator) is kept, and
        an empty hub starts at the bus's ids whatever its own ``id_base``.
        """
        newest = self.buffer.newest_id
        skip = 0 if newest is None else max(0, newest + 1 - first_id)
        if skip >= len(samples):
            return []
        self._next_id = first_id + skip
        return self.publish(samples[skip:])

    @contextmanager
    def subscribe(
        self,
        filter: Filter,
        *,
        last_event_id: int | None = None,
        history: int = 0,
        older: Sequence[tuple[int, Sample]] = (),
    ) -> Iterator[Subscription]:
        """Register a subscriber for the duration of the ``with`` block.

        The subscription's ``reset`` says why the resume point cannot be honoured, if
        so, and its ``replay`` holds what is sent first: the replay (resume) or the
        newest ``history`` matching samples (each one the filter's format has), sent
        after its ``head`` (the ``retry:`` field and any ``reset``).
        ``older``: numbered samples from just before the buffer (the shared bus keeps
        more than the buffer), replayed first when they reach back to the resume point.

        Raises:
            TooManySubscribers: the configured limit is reached.
            HubClosed: the hub is shutting down.
        """
        if self.closed:
            raise HubClosed
        elsewhere = 0 if self._peers is None else self._peers()
        if len(self._subscribers) + elsewhere >= self.max_subscribers:
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
            before = self._before_buffer(older, last_event_id)
            cursor, reset = self._resume_point(last_event_id, before[0].id if before else None)
            if reset is not None:
                self.counters.resets += 1
            for record in [*before, *buffer.after(cursor)]:
                if filter.matches(record.sample) and record.json(filter.format) is not None:
                    replay.append(record)
            cursor = max(cursor, buffer.newest_id or cursor)
        parts = [sse.retry(self.retry_ms)]
        if reset is not None:
            parts.append(sse.event(dumps(reset), name="reset"))
        head = b"".join(parts)
        subscription = Subscription(
            self._shared,
            filter,
            cursor,
            head=head,
            reset=reset,
            replay=replay,
        )
        self._subscribers.add(subscription)
        self._notified.add(subscription)
        changed = self._on_subscribers_changed
        if changed is not None:
            changed()
        try:
            yield subscription
        finally:
            self._subscribers.discard(subscription)
            self._notified.discard(subscription)
            subscription.close()
            if changed is not None:
                changed()

    async def encode_ahead(
        self, filter: Filter, *, last_event_id: int | None = None, history: int = 0
    ) -> None:
        """Encode now, a slice at a time, what :meth:`subscribe` would send first.

        :meth:`subscribe` is one synchronous step (nothing is published while it places
        the subscriber), and it encodes every record of the replay or ``history`` that
        was not yet encoded in the filter's format: up to a whole buffer, ~10 µs a
        record, a tenth of a second in which no other subscriber is written to. Called
        first, this encodes the same records with a checkpoint every
        :data:`ENCODE_SLICE` (encodings are kept on the records), so ``subscribe`` then
        only looks them up. Records published meanwhile are left to ``subscribe``.
        """
        if last_event_id is not None:
            records = self.buffer.after(last_event_id)
        elif history > 0:
            records = self.buffer.after(-1)
            records.reverse()
        else:
            return
        fmt, found = filter.format, 0
        for done, record in enumerate(records, 1):
            if filter.matches(record.sample) and record.json(fmt) is not None:
                found += 1
                if last_event_id is None and found >= history:
                    break
            if done % ENCODE_SLICE == 0:
                await trio.lowlevel.checkpoint()

    def _before_buffer(
        self, older: Sequence[tuple[int, Sample]], last_event_id: int
    ) -> list[Record]:
        """``older``'s samples after ``last_event_id`` as records, if they join the buffer."""
        oldest = self.buffer.oldest_id
        if not older or oldest is None or older[-1][0] != oldest - 1:
            return []  # the buffer moved on while they were fetched: a plain resume
        now, faults = self.timer(), self.faults
        return [Record(i, s, now, faults) for i, s in older if i > last_event_id]

    def _resume_point(
        self, last_event_id: int, first_before: int | None = None
    ) -> tuple[int, dict[str, Any] | None]:
        oldest, newest = self.buffer.oldest_id, self.buffer.newest_id
        # With an empty buffer, the next id stands in for the oldest one.
        first = oldest if oldest is not None else self._next_id
        if first_before is not None:
            first = first_before
        last = newest if newest is not None else self._next_id - 1
        if last_event_id > last:
            return last, {"reason": "unknown", "oldest_id": oldest, "newest_id": newest}
        if last_event_id < first - 1:
            shown = oldest if first_before is None else first
            return first - 1, {"reason": "expired", "oldest_id": shown, "newest_id": newest}
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

    def close(self, *, deadline: float = math.inf, reason: StopReason = "shutdown") -> None:
        """End every stream: each subscriber's ``wait`` raises :class:`HubClosed`.

        Args:
            deadline: the trio time by which every stream must have ended; writes
                still blocked then are aborted (see ``biomock.watchdog``).
            reason: why the streams end (``ended``: their session was deleted or
                expired; a WebSocket then closes with 1000 rather than 1001).
        """
        self.closing.begin(deadline, reason)
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

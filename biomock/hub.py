"""The hub: numbers samples, keeps the shared buffer and wakes subscribers.

Publishing is synchronous and never blocks: the generator hands over a batch,
the hub gives each sample the next id, encodes it once and appends it to the
ring, then wakes every subscriber through its own memory channel. The channel
carries wake-ups, not samples: each subscriber keeps a cursor into the ring and,
when woken, takes everything after it that matches its filter as one chunk. A
subscriber that is busy writing simply finds more waiting when it comes back,
so an overloaded server sends bigger chunks instead of dropping everyone.
"""

from __future__ import annotations

import bisect
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import trio

from biomock import sse
from biomock.buffer import RingBuffer
from biomock.errors import HubClosed, SubscriberLagged, TooManySubscribers
from biomock.formats import FORMATS
from biomock.params import Filter
from biomock.sample import Sample

FANOUT_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
"""Upper bounds of the fan-out latency histogram: publish to the end of a subscriber's write."""


def _dumps(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(slots=True, eq=False)
class Record:
    """A numbered sample with its encodings, made once and shared by every reader."""

    id: int
    sample: Sample
    published_at: float = 0.0
    _json: dict[str, bytes | None] = field(default_factory=dict)
    _frames: dict[str, bytes] = field(default_factory=dict)

    def json(self, fmt: str = "native") -> bytes | None:
        """The sample as JSON in ``fmt``; ``None`` if the format has no such sample."""
        try:
            return self._json[fmt]
        except KeyError:
            body = FORMATS[fmt](self.id, self.sample)
            encoded = None if body is None else _dumps(body)
            self._json[fmt] = encoded
            return encoded

    def frame(self, fmt: str = "native") -> bytes:
        """The SSE event for ``fmt``; empty if the format has no such sample."""
        try:
            return self._frames[fmt]
        except KeyError:
            data = self.json(fmt)
            framed = b"" if data is None else sse.event(data, event_id=self.id)
            self._frames[fmt] = framed
            return framed


@dataclass(frozen=True, slots=True)
class Framing:
    """How one transport turns the records of a take into bytes to write.

    Attributes:
        name: tells framings apart in the take cache.
        encode: one record in a format; empty or ``None`` when it has no such sample.
        join: the encoded records of one take as one write.
    """

    name: str
    encode: Callable[[Record, str], bytes | None]
    join: Callable[[list[bytes]], bytes]


SSE_FRAMING = Framing("sse", Record.frame, b"".join)
"""Server-Sent Events: each record's event, concatenated."""


@dataclass(slots=True)
class _TakeCache:
    """Chunks already joined since the last publish, by (cursor, filter, framing)."""

    newest: int | None = None
    chunks: dict[tuple[int, Filter, str], tuple[bytes, int, float, int | None]] = field(
        default_factory=dict
    )


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


class Subscription:
    """One client's place in the stream.

    Resource handling: owns a wake-up memory channel, closed by the hub when the
    subscription ends or the hub shuts down; closing is not a checkpoint, so it
    is safe from ``finally`` in a cancelled task.
    """

    def __init__(
        self,
        hub: Hub,
        filter: Filter,
        cursor: int,
        *,
        reset: dict[str, Any] | None = None,
        replay: Sequence[Record] = (),
    ) -> None:
        self.filter = filter
        self.reset = reset
        """Why the resume point could not be honoured (API.md's ``reset``), if so."""
        self.replay = replay
        """What is sent first: the resume's replay or the ``history`` samples."""
        frames = [frame for record in replay if (frame := record.frame(filter.format))]
        parts = [sse.retry(hub.retry_ms)]
        if reset is not None:
            parts.append(sse.event(_dumps(reset), name="reset"))
        self.initial = b"".join(parts) + b"".join(frames)
        """The first bytes of an SSE stream: retry, reset and replay."""
        self.initial_events = len(frames)
        self.slow = False
        self.direct: Callable[[], bool] | None = None
        """Set only while the subscriber's task is idle: delivers without waking it
        (``biomock.fastpath``); returns False when the task must be woken after all."""
        self.taken_published_at: float | None = None
        self.taken_last_id: int | None = None
        """The id of the last record the last non-empty ``take`` returned."""
        self._hub = hub
        self._cursor = cursor
        self._wake_send, self._wake_receive = trio.open_memory_channel[None](1)

    @property
    def cursor(self) -> int:
        """The id of the last record this subscriber has taken (sent or filtered out)."""
        return self._cursor

    def notify(self) -> None:
        """Wake the subscriber; a wake-up already pending covers this one too."""
        direct = self.direct
        if direct is not None and direct():
            return
        # try/except rather than contextlib.suppress: this runs per subscriber per publish.
        try:  # noqa: SIM105
            self._wake_send.send_nowait(None)
        except (trio.WouldBlock, trio.ClosedResourceError):
            pass

    def close(self) -> None:
        self._wake_send.close()

    async def wait(self) -> None:
        """Wait until something was published after the last ``take``.

        Raises:
            HubClosed: the hub is shutting down.
        """
        try:
            await self._wake_receive.receive()
        except (trio.EndOfChannel, trio.ClosedResourceError):
            raise HubClosed from None

    def take(self, framing: Framing = SSE_FRAMING) -> tuple[bytes, int]:
        """Everything after the cursor that matches the filter, as one chunk.

        Args:
            framing: how the transport frames records (SSE by default).

        Returns:
            The joined frames and how many samples they hold.

        Raises:
            SubscriberLagged: samples not yet taken were dropped from the buffer.
        """
        buffer = self._hub.buffer
        oldest = buffer.oldest_id
        if oldest is not None and self._cursor < oldest - 1:
            raise SubscriberLagged
        newest = buffer.newest_id
        if newest is None or newest <= self._cursor:
            return b"", 0
        # Subscribers woken by the same publish mostly share a cursor and a filter:
        # join their frames once.
        cache = self._hub._takes
        if cache.newest != newest:
            cache.newest = newest
            cache.chunks.clear()
        key = (self._cursor, self.filter, framing.name)
        taken = cache.chunks.get(key)
        if taken is None:
            records = buffer.after(self._cursor)
            fmt, filt, encode = self.filter.format, self.filter, framing.encode
            if not filt.selects_all:
                records = [record for record in records if filt.matches(record.sample)]
            frames: list[bytes] = []
            last_id = None
            for record in records:
                if frame := encode(record, fmt):
                    frames.append(frame)
                    last_id = record.id
            published_at = records[0].published_at if records else 0.0
            chunk = framing.join(frames) if frames else b""
            taken = cache.chunks[key] = (chunk, len(frames), published_at, last_id)
        self._cursor = newest
        chunk, events, self.taken_published_at, last_id = taken
        if last_id is not None:
            self.taken_last_id = last_id
        return chunk, events


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
        self.buffer: RingBuffer[Record] = RingBuffer(capacity)
        self.max_subscribers = max_subscribers
        self.retry_ms = retry_ms
        self.listeners: list[Callable[[Sequence[Record]], None]] = []
        self._next_id = id_base + 1
        self._subscribers: set[Subscription] = set()
        self._takes = _TakeCache()
        self._closed = False
        self.published = 0
        self.delivered = 0
        self.writes = 0
        self.bytes_sent = 0
        self.resumes = 0
        self.resets = 0
        self.dropped: Counter[str] = Counter()
        # Plain ints, bumped once per write; exported by biomock.metrics.
        self.fanout_counts = [0] * (len(FANOUT_BUCKETS_S) + 1)
        self.fanout_sum_s = 0.0
        self.timer: Callable[[], float] = time.perf_counter

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def next_id(self) -> int:
        return self._next_id

    def publish(self, samples: Sequence[Sample]) -> list[Record]:
        """Number, encode and buffer ``samples``, then wake every subscriber. Never blocks."""
        records = []
        now = self.timer()
        for sample in samples:
            record = Record(self._next_id, sample, now)
            self._next_id += 1
            record.frame("native")
            self.buffer.append(record)
            records.append(record)
        self.published += len(records)
        for listener in self.listeners:
            listener(records)
        for subscription in self._subscribers:
            subscription.notify()
        return records

    @contextmanager
    def subscribe(
        self, filter: Filter, *, last_event_id: int | None = None, history: int = 0
    ) -> Iterator[Subscription]:
        """Register a subscriber for the duration of the ``with`` block.

        The subscription's ``initial`` bytes hold the ``retry:`` field, a ``reset``
        event if the resume point cannot be honoured, and the replay (resume) or
        the newest ``history`` matching samples.

        Raises:
            TooManySubscribers: the configured limit is reached.
            HubClosed: the hub is shutting down.
        """
        if self._closed:
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
            self.resumes += 1
            cursor, reset = self._resume_point(last_event_id)
            if reset is not None:
                self.resets += 1
            for record in buffer.after(cursor):
                if filter.matches(record.sample) and record.json(filter.format) is not None:
                    replay.append(record)
            cursor = max(cursor, buffer.newest_id or cursor)
        subscription = Subscription(self, filter, cursor, reset=reset, replay=replay)
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
        self.writes += 1
        self.bytes_sent += nbytes
        self.delivered += events
        if published_at is not None:
            latency = self.timer() - published_at
            self.fanout_counts[bisect.bisect_left(FANOUT_BUCKETS_S, latency)] += 1
            self.fanout_sum_s += latency

    def drop(self, reason: str) -> None:
        """Count a subscriber disconnected by the server (``lagged`` or ``stalled``)."""
        self.dropped[reason] += 1

    def close(self) -> None:
        """End every stream: each subscriber's ``wait`` raises :class:`HubClosed`."""
        self._closed = True
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
        return HubStatistics(
            subscribers=len(self._subscribers),
            published=self.published,
            delivered=self.delivered,
            dropped_slow=sum(self.dropped.values()),
            dropped=dict(self.dropped),
            resumes=self.resumes,
            resets=self.resets,
            writes=self.writes,
            bytes_sent=self.bytes_sent,
            fanout_counts=tuple(self.fanout_counts),
            fanout_sum_s=self.fanout_sum_s,
            buffer_size=len(self.buffer),
            buffer_capacity=self.buffer.capacity,
            oldest_id=self.buffer.oldest_id,
            newest_id=self.buffer.newest_id,
        )

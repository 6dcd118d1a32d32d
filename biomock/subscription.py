"""One subscriber's place in the stream: its cursor, its wake-ups and what it takes.

The hub owns the buffer and publishes; a :class:`Subscription` only reads what
the hub shares with it (:class:`Shared`). The take cache is the one thing
subscriptions write together: subscribers woken by the same publish mostly share
a cursor and a filter, and the first of them to take joins the chunk for all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import trio

from biomock import sse
from biomock.buffer import RingBuffer
from biomock.errors import HubClosed, SubscriberLagged
from biomock.filter import Filter
from biomock.records import Faults, Record


@dataclass(frozen=True, slots=True)
class Framing:
    """How one transport turns the records of a take into bytes to write.

    Attributes:
        name: tells framings apart in the take cache.
        encode: one record in a format; empty or ``None`` when it has no such sample.
        join: the encoded records of one take as one write.
        broken: a write carrying one sample whose JSON was cut short (given the cut
            JSON and the sample's id), for fault injection's ``malformed``
            (``biomock.faults``).
    """

    name: str
    encode: Callable[[Record, str], bytes | None]
    join: Callable[[list[bytes]], bytes]
    broken: Callable[[bytes, int], bytes]


def _broken_event(data: bytes, event_id: int) -> bytes:
    return sse.event(data, event_id=event_id)


SSE_FRAMING = Framing("sse", Record.frame, b"".join, _broken_event)
"""Server-Sent Events: each record's event, concatenated; a broken sample is an event
with its id whose data is not JSON."""

Taken = tuple[bytes, int, float, int | None]
"""A take: the joined frames, how many samples, when the oldest record was published,
and the id of the last sample in it."""


@dataclass(slots=True)
class TakeCache:
    """Chunks already joined since the last publish, by (cursor, filter, framing)."""

    newest: int | None = None
    chunks: dict[tuple[int, Filter, str], Taken] = field(default_factory=dict)

    def lookup(self, newest: int, key: tuple[int, Filter, str]) -> Taken | None:
        if self.newest != newest:
            self.newest = newest
            self.chunks.clear()
        return self.chunks.get(key)


@dataclass(slots=True)
class Shared:
    """What the hub shares with its subscriptions; the hub alone writes all but ``takes``.

    ``evicted`` maps (type, subject) to the newest id of that kind that left the
    buffer, so a subscriber behind the buffer is cut only when something its
    filter wants was lost.
    """

    buffer: RingBuffer[Record]
    faults: Faults
    takes: TakeCache = field(default_factory=TakeCache)
    evicted: dict[tuple[str, str], int] = field(default_factory=dict)

    def evicted_from(self, record: Record) -> None:
        self.evicted[record.sample.type, record.sample.subject] = record.id

    def lost_for(self, filter: Filter, cursor: int) -> bool:
        """Whether a record after ``cursor`` that ``filter`` wants has left the buffer."""
        return any(
            newest > cursor and filter.wants(type_name, subject)
            for (type_name, subject), newest in self.evicted.items()
        )


class Subscription:
    """One client's place in the stream.

    Resource handling: owns a wake-up memory channel, closed by the hub when the
    subscription ends or the hub shuts down; closing is not a checkpoint, so it
    is safe from ``finally`` in a cancelled task.
    """

    def __init__(
        self,
        shared: Shared,
        filter: Filter,
        cursor: int,
        initial: bytes,
        initial_events: int,
        *,
        head: bytes = b"",
        reset: dict[str, Any] | None = None,
        replay: Sequence[Record] = (),
    ) -> None:
        self.filter = filter
        self.initial = initial
        """The first bytes of an SSE stream: retry, reset and replay."""
        self.head = head
        """:attr:`initial` without the replay: the retry field and the reset event."""
        self.initial_events = initial_events
        self.reset = reset
        """Why the resume point could not be honoured (API.md's ``reset``), if so."""
        self.replay = replay
        """What is sent first: the resume's replay or the ``history`` samples."""
        self.direct: Callable[[], bool] | None = None
        """Set only while the subscriber's task is idle: delivers without waking it
        (``biomock.fastpath``); returns False when the task must be woken after all."""
        self.failed: BaseException | None = None
        """What the direct delivery raised, if it did; the task then ends the stream."""
        self.taken_published_at: float | None = None
        self.taken_last_id: int | None = None
        """The id of the last sample the last non-empty ``take`` returned."""
        self._shared = shared
        self._cursor = cursor
        self._wake_send, self._wake_receive = trio.open_memory_channel[None](1)

    @property
    def cursor(self) -> int:
        """The id of the last record this subscriber has taken (sent or filtered out)."""
        return self._cursor

    def notify(self) -> None:
        """Wake the subscriber; a wake-up already pending covers this one too.

        Runs in the publishing task: never raises. If the direct delivery fails,
        the failure is kept in :attr:`failed` for the subscriber's own task.
        """
        direct = self.direct
        if direct is not None:
            try:
                if direct():
                    return
            except Exception as error:
                self.direct = None
                self.failed = error
                self._shared.faults.report("subscriber", error, "a subscriber's delivery failed")
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
            SubscriberLagged: samples this subscriber wants and had not yet taken
                were dropped from the buffer.
        """
        shared = self._shared
        buffer = shared.buffer
        oldest = buffer.oldest_id
        if (  # as _check_lag, inline: this runs per subscriber per publish on the fast path
            oldest is not None
            and self._cursor < oldest - 1
            and shared.lost_for(self.filter, self._cursor)
        ):
            raise SubscriberLagged
        newest = buffer.newest_id
        if newest is None or newest <= self._cursor:
            return b"", 0
        key = (self._cursor, self.filter, framing.name)
        taken = shared.takes.lookup(newest, key)
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
            taken = (framing.join(frames) if frames else b"", len(frames), published_at, last_id)
            shared.takes.chunks[key] = taken
        self._cursor = newest
        chunk, events, self.taken_published_at, last_id = taken
        if last_id is not None:
            self.taken_last_id = last_id
        return chunk, events

    def take_records(self) -> list[Record]:
        """Every record after the cursor that matches the filter and exists in its
        format, for a connection that writes each sample its own way (fault injection);
        moves the cursor past them. Shares nothing with other subscribers.

        Raises:
            SubscriberLagged: as :meth:`take`.
        """
        self._check_lag()
        buffer = self._shared.buffer
        newest = buffer.newest_id
        if newest is None or newest <= self._cursor:
            return []
        fmt, filt = self.filter.format, self.filter
        records = [
            record
            for record in buffer.after(self._cursor)
            if filt.matches(record.sample) and record.json(fmt)
        ]
        self._cursor = newest
        if records:
            self.taken_published_at = records[0].published_at
            self.taken_last_id = records[-1].id
        return records

    def _check_lag(self) -> None:
        shared = self._shared
        oldest = shared.buffer.oldest_id
        if (
            oldest is not None
            and self._cursor < oldest - 1
            and shared.lost_for(self.filter, self._cursor)
        ):
            raise SubscriberLagged

"""One subscriber's place in the stream: its cursor, its wake-ups and what it takes.

The hub owns the buffer and publishes; a :class:`Subscription` only reads what
the hub shares with it (:class:`Shared`). The take cache is the one thing
subscriptions write together: subscribers woken by the same publish mostly share
a cursor and a filter, and the first of them to take joins the chunk for all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
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


@dataclass(slots=True, eq=False)
class Take:
    """What every subscriber at one cursor with one filter and framing takes, until the
    next publish: made by the first of them, shared by the rest.

    Attributes:
        cursor, token, framing: whose take it is: the cursor it was taken at, the
            filter's token (:meth:`Shared.acquire_token`) and the framing.
        chunk: the joined frames; empty when nothing new matches.
        events: how many samples ``chunk`` holds.
        published_at: when its oldest record was published (the hub's timer).
        last_id: the id of the last sample in it, if any.
        newest: the cursor after taking it.
        lagged: samples the filter wants after the cursor have left the buffer.
        framed: ``chunk`` as the direct delivery writes it (``biomock.fastpath``),
            framed by the first delivery that needs it.
        framed_at: when it was framed (trio time): the time of its direct writes.
        direct_writes: to how many subscribers a direct delivery wrote it whole in the
            current publish; the hub counts them when the publish's fan-out is done.
    """

    cursor: int
    token: int
    framing: Framing
    chunk: bytes
    events: int
    published_at: float
    last_id: int | None
    newest: int
    lagged: bool = False
    framed: bytes = b""
    framed_at: float = 0.0
    direct_writes: int = 0


@dataclass(slots=True)
class TakeCache:
    """The takes made since the last publish, by (cursor, filter token, framing name).

    The hub empties it whenever it publishes, so an entry never outlives the buffer
    it was made from.
    """

    chunks: dict[tuple[int, int, str], Take] = field(default_factory=dict)
    last: Take | None = None
    """The take made or found last: subscribers woken by one publish mostly share it."""

    def clear(self) -> None:
        self.chunks.clear()
        self.last = None


@dataclass(slots=True)
class Shared:
    """What the hub shares with its subscriptions; the hub alone writes all but ``takes``
    and the filter tokens.

    ``evicted`` maps (type, subject) to the newest id of that kind that left the
    buffer, so a subscriber behind the buffer is cut only when something its
    filter wants was lost.
    """

    buffer: RingBuffer[Record]
    faults: Faults
    takes: TakeCache = field(default_factory=TakeCache)
    evicted: dict[tuple[str, str], int] = field(default_factory=dict)
    filters: dict[Filter, list[int]] = field(default_factory=dict)
    """For each filter some subscription uses: its token and how many use it."""
    next_token: int = 0

    def acquire_token(self, filter: Filter) -> int:
        """A number that stands for ``filter`` while it is in use, so that take keys
        hash at C speed (equal filters, equal numbers)."""
        entry = self.filters.get(filter)
        if entry is None:
            entry = self.filters[filter] = [self.next_token, 0]
            self.next_token += 1
        entry[1] += 1
        return entry[0]

    def release_token(self, filter: Filter) -> None:
        entry = self.filters[filter]
        entry[1] -= 1
        if not entry[1]:
            del self.filters[filter]

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

    __slots__ = (
        "_closed",
        "_cursor",
        "_shared",
        "_token",
        "_wake_receive",
        "_wake_send",
        "direct",
        "failed",
        "filter",
        "head",
        "replay",
        "reset",
        "taken_last_id",
        "taken_published_at",
    )

    def __init__(
        self,
        shared: Shared,
        filter: Filter,
        cursor: int,
        *,
        head: bytes = b"",
        reset: dict[str, Any] | None = None,
        replay: Sequence[Record] = (),
    ) -> None:
        self.filter = filter
        self.head = head
        """The first bytes of an SSE stream before any sample: retry and reset."""
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
        self._token = shared.acquire_token(filter)
        self._closed = False
        self._wake_send, self._wake_receive = trio.open_memory_channel[None](1)

    def frames(self) -> Iterator[bytes]:
        """:attr:`replay` as SSE events, framed as they are asked for (the SSE transport
        writes them a slice at a time; a WebSocket never frames them)."""
        fmt = self.filter.format
        return (record.frame(fmt) for record in self.replay)

    @property
    def initial(self) -> bytes:
        """The first bytes of an SSE stream: :attr:`head`, then :meth:`frames`."""
        return b"".join([self.head, *self.frames()])

    @property
    def cursor(self) -> int:
        """The id of the last record this subscriber has taken (sent or filtered out)."""
        return self._cursor

    @property
    def token(self) -> int:
        """The number that stands for this subscription's filter (equal filters, equal
        numbers) while it is open."""
        return self._token

    def advance(self, cursor: int) -> None:
        """Move the cursor on to ``cursor``: what a batch that delivered to this
        subscription has taken for it (``biomock.hub.Batch``). Never moves it back."""
        if cursor > self._cursor:
            self._cursor = cursor

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
        """End the subscription (the hub calls this; calling it again does nothing)."""
        self._wake_send.close()
        if not self._closed:
            self._closed = True
            self._shared.release_token(self.filter)

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
        take = self.take_shared(framing)
        self.taken_published_at = take.published_at
        if take.last_id is not None:
            self.taken_last_id = take.last_id
        return take.chunk, take.events

    def take_shared(self, framing: Framing = SSE_FRAMING) -> Take:
        """Like :meth:`take`, returning the shared :class:`Take` itself and leaving
        :attr:`taken_published_at` and :attr:`taken_last_id` as they were.

        The direct delivery's path: for every subscriber after the first at the same
        cursor with the same filter, one comparison with the take made last (most
        subscribers share one), else one dict look-up.

        Raises:
            SubscriberLagged: as :meth:`take`.
        """
        cache = self._shared.takes
        take = cache.last
        cursor = self._cursor
        if (
            take is None
            or take.cursor != cursor
            or take.token != self._token
            or take.framing is not framing
        ):
            key = (cursor, self._token, framing.name)
            take = cache.chunks.get(key)
            if take is None:
                take = cache.chunks[key] = self._make_take(framing)
            cache.last = take
        if take.lagged:
            raise SubscriberLagged
        self._cursor = take.newest
        return take

    def _make_take(self, framing: Framing) -> Take:
        shared = self._shared
        buffer = shared.buffer
        cursor, token = self._cursor, self._token
        oldest = buffer.oldest_id
        if oldest is not None and cursor < oldest - 1 and shared.lost_for(self.filter, cursor):
            return Take(cursor, token, framing, b"", 0, 0.0, None, cursor, lagged=True)
        newest = buffer.newest_id
        if newest is None or newest <= cursor:
            return Take(cursor, token, framing, b"", 0, 0.0, None, cursor)
        records = buffer.after(cursor)
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
        return Take(cursor, token, framing, chunk, len(frames), published_at, last_id, newest)

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

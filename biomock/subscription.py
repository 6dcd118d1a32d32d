"""One subscriber's place in the stream: its cursor, its wake-ups and what it takes.

The hub owns the buffer and publishes; a :class:`Subscription` only reads what
the hub shares with it (:class:`Shared`). The take cache is the one thing
subscriptions write together: subscribers woken by the same publish mostly share
a cursor and a filter, and the first of them to take joins the chunk for all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import trio

from biomock.buffer import RingBuffer
from biomock.errors import HubClosed, SubscriberLagged
from biomock.filter import Filter
from biomock.records import Faults, Record


@dataclass(slots=True)
class TakeCache:
    """Chunks already joined since the last publish, by (cursor, filter)."""

    newest: int | None = None
    chunks: dict[tuple[int, Filter], tuple[bytes, int, float]] = field(default_factory=dict)

    def lookup(self, newest: int, key: tuple[int, Filter]) -> tuple[bytes, int, float] | None:
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
        self, shared: Shared, filter: Filter, cursor: int, initial: bytes, initial_events: int
    ) -> None:
        self.filter = filter
        self.initial = initial
        self.initial_events = initial_events
        self.direct: Callable[[], bool] | None = None
        """Set only while the subscriber's task is idle: delivers without waking it
        (``biomock.fastpath``); returns False when the task must be woken after all."""
        self.failed: BaseException | None = None
        """What the direct delivery raised, if it did; the task then ends the stream."""
        self.taken_published_at: float | None = None
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

    def take(self) -> tuple[bytes, int]:
        """Everything after the cursor that matches the filter, as one chunk.

        Returns:
            The joined SSE frames and how many events they hold.

        Raises:
            SubscriberLagged: samples this subscriber wants and had not yet taken
                were dropped from the buffer.
        """
        shared = self._shared
        buffer = shared.buffer
        oldest = buffer.oldest_id
        if (
            oldest is not None
            and self._cursor < oldest - 1
            and shared.lost_for(self.filter, self._cursor)
        ):
            raise SubscriberLagged
        newest = buffer.newest_id
        if newest is None or newest <= self._cursor:
            return b"", 0
        key = (self._cursor, self.filter)
        taken = shared.takes.lookup(newest, key)
        if taken is None:
            records = buffer.after(self._cursor)
            fmt, filt = self.filter.format, self.filter
            if filt.selects_all:
                frames = [record.frame(fmt) for record in records]
            else:
                frames = [record.frame(fmt) for record in records if filt.matches(record.sample)]
            frames = [frame for frame in frames if frame]
            taken = (b"".join(frames), len(frames), records[0].published_at)
            shared.takes.chunks[key] = taken
        self._cursor = newest
        chunk, events, self.taken_published_at = taken
        return chunk, events

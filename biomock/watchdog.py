"""Cutting a client whose writes are stuck, from the server's side.

Hypercorn's socket send is shielded from cancellation, so no timeout in the app
can end a write to a client that stopped reading: only the socket can. Every
stream's writes are marked with its :class:`StallWatchdog`; one task per hub (a
:class:`StallWatch`), not one per stream, looks at the writes in progress. When one
has been blocked longer than the slow-client timeout, or is still blocked when the
server's shutdown deadline comes, it aborts that stream's socket (a reset, unsent
data discarded). The blocked send then fails, Hypercorn closes the connection and
the stream's task ends. ``TCP_USER_TIMEOUT`` (``biomock.server``) stays as a second
line.
"""

from __future__ import annotations

import logging
import socket
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import trio

if TYPE_CHECKING:
    from biomock.hub import Closing

logger = logging.getLogger(__name__)

_LINGER_RESET = struct.pack("ii", 1, 0)
_SHUTDOWN_POLL_S = 0.1
IDLE_S = 60.0
"""The watch's task ends after this long with no write in progress (and starts again
with the next write), so that a hub nobody streams from leaves no task behind."""


def abort_socket(sock: trio.socket.SocketType) -> None:
    """Reset the connection now: a blocked send on it fails at once."""
    try:
        # Linger 0: close sends a reset and drops what the client never read.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed or reset: nothing left to abort


class StallWatch:
    """One task that watches the writes of every stream on one hub.

    A stream's :class:`StallWatchdog` registers each write as it starts and removes
    it when it ends; the task sleeps until the earliest moment a registered write
    could be late (a new write moves that moment earlier if it must), so a write
    that completes costs two dictionary operations and no task at all. The task is
    a trio system task, started with the first write and ended after :data:`IDLE_S`
    without any; it never raises.

    Args:
        closing: the hub's shutdown signal; writes still blocked at its deadline
            are aborted too.
    """

    def __init__(self, closing: Closing) -> None:
        self._closing = closing
        self._writing: dict[StallWatchdog, float] = {}  # the write's timeout deadline
        self._running = False
        self._sleep: trio.CancelScope | None = None

    def watchdog(self, timeout_s: float, abort: Callable[[], None] | None) -> StallWatchdog:
        """A watchdog for one stream's writes.

        Args:
            timeout_s: a write blocked this long is a stall.
            abort: resets the connection; ``None`` where the socket cannot be
                reached (then a stall is only recorded, and the kernel's timeout cuts).
        """
        return StallWatchdog(timeout_s, self, abort)

    @property
    def watching(self) -> int:
        """How many writes are in progress."""
        return len(self._writing)

    def began(self, dog: StallWatchdog, deadline: float) -> None:
        """``dog``'s stream started a write that is late at ``deadline``."""
        self._writing[dog] = deadline
        if not self._running:
            self._running = True
            trio.lowlevel.spawn_system_task(self._run, name="biomock.watchdog")
            return
        sleep = self._sleep
        if sleep is not None:
            due = min(deadline, self._closing.deadline)
            if due < sleep.deadline:
                sleep.deadline = due

    def ended(self, dog: StallWatchdog) -> None:
        """``dog``'s write ended."""
        self._writing.pop(dog, None)

    def _next_check(self, now: float) -> float:
        """When the next registered write may be late, or the idle end."""
        if not self._writing:
            return now + IDLE_S
        due = min(self._writing.values())
        closing = self._closing
        if closing.event.is_set():
            # Past the shutdown deadline, any write is late: look again soon.
            due = min(due, max(closing.deadline, now + _SHUTDOWN_POLL_S))
        return due

    def _cut_late(self, now: float) -> None:
        closing_deadline = self._closing.deadline
        late = [
            dog
            for dog, deadline in self._writing.items()
            if deadline <= now or closing_deadline <= now
        ]
        for dog in late:
            del self._writing[dog]
            dog.cut(now)

    async def _run(self) -> None:
        try:
            while True:
                now = trio.current_time()
                self._cut_late(now)
                wake_at = self._next_check(now)
                idle = not self._writing
                with trio.move_on_at(wake_at) as self._sleep:
                    if self._closing.event.is_set():
                        await trio.sleep_forever()
                    else:
                        await self._closing.event.wait()
                self._sleep = None
                if idle and not self._writing and trio.current_time() >= wake_at:
                    return
        finally:  # ended, or cancelled because the run is ending
            self._running = False
            self._sleep = None


class StallWatchdog:
    """One stream's writes, each watched by its hub's :class:`StallWatch` while it lasts.

    Made by :meth:`StallWatch.watchdog`. Once it has aborted the connection, later
    writes are not watched again (they fail at once on the reset socket).
    """

    __slots__ = ("_abort", "_aborted", "_started", "_timeout_s", "_watch", "fired")

    def __init__(
        self, timeout_s: float, watch: StallWatch, abort: Callable[[], None] | None
    ) -> None:
        self.fired = False
        """Whether a write was blocked past the timeout (the stream was stalled)."""
        self._timeout_s = timeout_s
        self._watch = watch
        self._abort = abort
        self._started: float | None = None
        self._aborted = False

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Mark the block as one write under watch."""
        if self._aborted:
            yield
            return
        started = self._started = trio.current_time()
        self._watch.began(self, started + self._timeout_s)
        try:
            yield
        finally:
            self._started = None
            self._watch.ended(self)

    def cut(self, now: float) -> None:
        """The write in progress is late (called by the watch): abort the connection."""
        started = self._started
        self.fired = started is not None and now - started >= self._timeout_s
        self._aborted = True
        if self._abort is not None:
            self._abort()
        else:
            logger.debug("a stuck stream's socket cannot be reached; left to the kernel")

"""Cutting a client whose writes are stuck, from the server's side.

Hypercorn's socket send is shielded from cancellation, so no timeout in the app
can end a write to a client that stopped reading: only the socket can. A
:class:`StallWatchdog` watches one stream's writes; when one has been blocked
longer than the slow-client timeout, or is still blocked when the server's
shutdown deadline comes, it aborts the socket (a reset, unsent data discarded).
The blocked send then fails, Hypercorn closes the connection and the stream's
task ends. ``TCP_USER_TIMEOUT`` (``biomock.server``) stays as a second line.
"""

from __future__ import annotations

import logging
import math
import socket
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import trio

from biomock.hub import Closing

logger = logging.getLogger(__name__)

_LINGER_RESET = struct.pack("ii", 1, 0)
_SHUTDOWN_POLL_S = 0.1


def abort_socket(sock: trio.socket.SocketType) -> None:
    """Reset the connection now: a blocked send on it fails at once."""
    try:
        # Linger 0: close sends a reset and drops what the client never read.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed or reset: nothing left to abort


class StallWatchdog:
    """Watches one stream's writes and aborts its connection when one is stuck.

    Args:
        timeout_s: a write blocked this long is a stall.
        closing: the hub's shutdown signal; writes still blocked at its
            deadline are aborted too.
        abort: resets the connection; ``None`` where the socket cannot be
            reached (then a stall is only recorded, and the kernel's timeout cuts).

    Cancellation: :meth:`run` runs until cancelled or until it aborts.
    """

    def __init__(
        self, timeout_s: float, closing: Closing, abort: Callable[[], None] | None
    ) -> None:
        self.fired = False
        """Whether a write was blocked past the timeout (the stream was stalled)."""
        self._timeout_s = timeout_s
        self._closing = closing
        self._abort = abort
        self._started: float | None = None

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Mark the block as one write under watch."""
        self._started = trio.current_time()
        try:
            yield
        finally:
            self._started = None

    def _deadline(self) -> float:
        started = self._started
        if started is None:
            return math.inf
        return min(started + self._timeout_s, self._closing.deadline)

    async def run(self) -> None:
        """Check the write in progress whenever its deadline may have come."""
        while True:
            deadline = self._deadline()
            now = trio.current_time()
            if now >= deadline:
                break
            # A write that starts later has a deadline no earlier than now + timeout.
            wake_at = min(deadline, now + self._timeout_s)
            if self._closing.event.is_set():
                # Past the shutdown deadline, any write is late: look again soon.
                closing_at = max(self._closing.deadline, now + _SHUTDOWN_POLL_S)
                await trio.sleep_until(min(wake_at, closing_at))
            else:
                with trio.move_on_at(wake_at):
                    await self._closing.event.wait()
        stalled = self._started is not None and trio.current_time() - self._started >= (
            self._timeout_s
        )
        self.fired = stalled
        if self._abort is not None:
            self._abort()
        else:
            logger.debug("a stuck stream's socket cannot be reached; left to the kernel")

"""What every stream transport shares: its parameters, and the stall watchdog.

``/api/stream`` (SSE) and ``/api/ws`` (WebSocket) take the same query
parameters and are held to the same slow-client policy; each transport owns
only its framing and its writes.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import trio

from biomock import sockets
from biomock.params import Filter, check_int, parse_filter, parse_int

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StreamParams:
    """What a client asked to receive (API.md's stream query parameters).

    Attributes:
        filter: types, subject and format.
        last_event_id: resume after this id; ``None`` starts live.
        history: without a resume point, first send this many newest matching samples.
    """

    filter: Filter
    last_event_id: int | None = None
    history: int = 0


def parse_stream_params(
    args: Mapping[str, str],
    subjects: Collection[str],
    *,
    max_history: int,
    last_event_id_header: str | None = None,
) -> StreamParams:
    """Read ``types``, ``subject``, ``format``, ``last_event_id`` and ``history``.

    Args:
        args: the query string; the first of repeated parameters.
        subjects: the names the ``subject`` filter accepts.
        max_history: the largest ``history`` (the buffer's capacity).
        last_event_id_header: the ``Last-Event-ID`` header, which wins over the query.

    Raises:
        ApiError: 400 ``invalid_parameter`` naming the parameter.
    """
    filter = parse_filter(args, subjects)
    last_event_id = None
    raw, name = last_event_id_header, "Last-Event-ID"
    if raw is not None and raw.strip() == "":
        raw = None  # browsers send an empty header when no id was seen yet
    if raw is None:
        raw, name = args.get("last_event_id"), "last_event_id"
    if raw is not None:
        last_event_id = check_int(raw, name)
    history = parse_int(args, "history", default=0, maximum=max_history) or 0
    return StreamParams(filter, last_event_id, history)


class StallWatchdog:
    """Cuts a client whose write stays blocked for ``timeout_s`` (API.md: ``stalled``).

    The transport brackets each write with :meth:`writing`; :meth:`run`, in the
    connection's nursery, aborts the socket when one write outlasts the timeout,
    which makes the blocked write return. It wakes about once per timeout, not
    per write, so watching costs nothing on the write path.

    Args:
        timeout_s: how long one write may block.
        sock: the connection's socket, if it could be found; without it only the
            kernel's ``TCP_USER_TIMEOUT`` ends the write.
    """

    def __init__(self, timeout_s: float, sock: trio.socket.SocketType | None) -> None:
        self.timeout_s = timeout_s
        self.stalled = False
        self.writing_since: float | None = None
        self._socket = sock

    async def run(self) -> None:
        """Watch until a write stalls (then abort the connection and return)."""
        while True:
            since = self.writing_since
            now = trio.current_time()
            if since is not None and now - since >= self.timeout_s:
                self.stalled = True
                logger.warning("a write blocked for %.1f s: cutting the client", now - since)
                if self._socket is not None:
                    sockets.abort(self._socket)
                return
            await trio.sleep_until((now if since is None else since) + self.timeout_s)

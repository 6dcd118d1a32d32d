"""What a process reports about the bus, and how it refuses while the bus is down."""

from __future__ import annotations

from dataclasses import dataclass

from biomock.errors import ApiError

RETRY_AFTER_S = 2
"""``Retry-After`` of a request refused while Redis is unreachable."""


@dataclass(slots=True)
class BusStatus:
    """What ``/api/stats``, ``/readyz`` and ``/metrics`` say about the bus.

    One owner per field: ``connected``, ``lag_s`` and ``broken`` are the reader's,
    ``leader`` and ``failovers`` the leadership's.
    """

    url: str
    connected: bool = False
    leader: bool = False
    lag_s: float = 0.0
    failovers: int = 0
    broken: bool = False
    """The reader fell behind the log's trimming: this process cannot follow any more."""


def unavailable(message: str = "the shared bus (Redis) is unreachable; retry shortly") -> ApiError:
    """503 ``unavailable`` with ``Retry-After``: a new stream or a change while Redis is down."""
    return ApiError(503, "unavailable", message, headers={"Retry-After": str(RETRY_AFTER_S)})

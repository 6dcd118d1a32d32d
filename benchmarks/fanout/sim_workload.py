"""The product's own workload, for the servers that are not biomock.

``biomock serve`` streams its simulator: with the default settings one subject, so
one heart-rate sample a second and the other types minutes apart. The peer and the
floor (``benchmarks/fanout/floor.py``) replay the same ticks: the same simulator,
built from the same settings (``BIOMOCK_SUBJECTS``, ``BIOMOCK_SEED``), advanced to
the same whole wall-clock seconds, each sample encoded exactly as biomock encodes
it (``Record.frame``: ``id:`` and the native JSON). The client measures latency
from each sample's ``timestamp`` to its arrival.
"""

from __future__ import annotations

import time

from biomock.app import open_source
from biomock.config import load_config
from biomock.records import Record


class SimTicks:
    """Ticks of ``biomock serve``'s default simulator, as SSE frames with ids."""

    def __init__(self) -> None:
        config = load_config()
        wall_ms = int(time.time() * 1000)
        self._source = open_source(config, wall_ms)
        self._next_id = wall_ms * 1000 + 1  # ids as large as biomock's

    def frames(self, until_ms: int) -> list[bytes]:
        """The SSE events of every sample due up to ``until_ms`` (epoch ms)."""
        out = []
        for sample in self._source.advance(until_ms):
            record = Record(self._next_id, sample)
            frame = record.frame("native")
            if frame:
                out.append(frame)
                self._next_id += 1
        return out


def next_second(now: float) -> float:
    """The next whole wall-clock second after ``now`` (epoch seconds)."""
    return float(int(now) + 1)

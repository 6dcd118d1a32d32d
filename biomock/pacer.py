"""Advancing a source in steps, so that no tick publishes more than a batch.

A source returns everything due up to a time; at a high clock speed that is
more than the machine can encode and send (at speed 100000, ten subjects make
about 100,000 samples a tick). The pacer asks the source for a stretch of
simulated time sized to about half a batch, from the density it has seen, and
hands out at most ``max_batch`` samples per tick; what the clock asked for
beyond that is not produced at all, and the clock falls behind instead.
"""

from __future__ import annotations

from collections import deque

from biomock.sample import Sample
from biomock.source import Source

MAX_STEP_MS = 3_600_000
"""The longest stretch asked of the source at once: however sparse the data was, a
stretch that turns out dense holds at most an hour of samples."""

MAX_ADVANCES = 1000
"""Calls of ``advance`` per tick at most, so that an empty stretch of years cannot
hold up the generator's task."""


class Pacer:
    """Samples of ``source`` in time order, at most ``max_batch`` per call.

    Args:
        source: what to advance; only the pacer advances it.
        max_batch: the most samples :meth:`next_batch` returns.
        position_ms: the simulated time the source has been advanced to.
    """

    def __init__(self, source: Source, max_batch: int, position_ms: int) -> None:
        self.position_ms = position_ms
        self._source = source
        self._max_batch = max_batch
        self._pending: deque[Sample] = deque()
        self._step_ms = 1000.0

    def jump(self, to_ms: int) -> None:
        """The source jumped to ``to_ms``: what was due before it is not sent."""
        self._pending.clear()
        self.position_ms = max(self.position_ms, to_ms)

    def next_batch(self, until_ms: int) -> list[Sample]:
        """Up to ``max_batch`` samples due by ``until_ms``, oldest first.

        Afterwards :attr:`position_ms` is below ``until_ms`` if the batch was full
        before the source got there.
        """
        pending, half = self._pending, max(1, self._max_batch // 2)
        for _ in range(MAX_ADVANCES):
            if len(pending) >= self._max_batch or self.position_ms >= until_ms:
                break
            step_until = min(until_ms, self.position_ms + max(1, int(self._step_ms)))
            got = self._source.advance(step_until)
            span = step_until - self.position_ms
            self.position_ms = step_until
            if got:
                self._step_ms = span * half / len(got)
            else:
                self._step_ms *= 4
            self._step_ms = min(max(self._step_ms, 1.0), MAX_STEP_MS)
            pending.extend(got)
        count = min(self._max_batch, len(pending))
        return [pending.popleft() for _ in range(count)]

    def source_finished(self) -> bool:
        """Whether the source will never produce another sample."""
        return self._source.finished

    @property
    def backlog(self) -> int:
        """Samples produced but not yet handed out."""
        return len(self._pending)

"""The benchmark's source for biomock: the shared workload in biomock's Source protocol.

``PER_TICK`` heart-rate samples (subjects ``s0``..``s7``) per simulated second,
each stamped with ``tick``, the wall-clock time at which the generator asked
for it, which is when it is published. Reading the wall clock is what the
production sources must not do; here it is the measurement.

``backlog`` samples with ``padding`` bytes each are returned by the first
``advance``: they fill the buffer, so a client asking for ``history`` receives
megabytes at once and, if it stops reading, fills its socket buffers within
seconds instead of the hour it takes at 1.2 KB/s.
"""

from __future__ import annotations

import random
import time

from benchmarks.fanout.workload import SUBJECTS
from biomock.sample import Sample


class BenchSource:
    """8 samples per simulated second, published at the generator's pace."""

    def __init__(self, start_ms: int, *, backlog: int = 0, padding: int = 0) -> None:
        self._start_ms = start_ms
        self._next_ms = start_ms + 1000
        self._rng = random.Random(0)
        self._hr = dict.fromkeys(SUBJECTS, 70.0)
        self._backlog = backlog
        self._padding = padding

    @property
    def start_ms(self) -> int:
        return self._start_ms

    @property
    def subjects(self) -> list[str]:
        return list(SUBJECTS)

    @property
    def finished(self) -> bool:
        return False

    def advance(self, until_ms: int) -> list[Sample]:
        out: list[Sample] = []
        if self._backlog:
            pad = "x" * self._padding
            for i in range(self._backlog):
                out.append(
                    Sample(
                        "heart_rate",
                        70,
                        self._start_ms - self._backlog + i,
                        "count/min",
                        SUBJECTS[i % len(SUBJECTS)],
                        scenario="rest",
                        extra={"pad": pad},
                    )
                )
            self._backlog = 0
        tick = round(time.time(), 6)
        while self._next_ms <= until_ms:
            for subject in SUBJECTS:
                hr = self._hr[subject] + self._rng.gauss(0.0, 1.5)
                self._hr[subject] = min(190.0, max(40.0, hr))
                out.append(
                    Sample(
                        "heart_rate",
                        round(self._hr[subject]),
                        self._next_ms,
                        "count/min",
                        subject,
                        scenario="rest",
                        extra={"tick": tick},
                    )
                )
            self._next_ms += 1000
        return out

    def jump(self, to_ms: int) -> None:
        self._next_ms = max(self._next_ms, to_ms)

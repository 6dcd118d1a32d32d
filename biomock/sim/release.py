"""Publication with realistic imperfections: jittered timestamps, and a watch's late batches.

A sample becomes due when the simulated time reaches its (jittered) timestamp, or, for a
watch sample taken while the watch was not syncing, when the batch is synced. Due samples
come out sorted by (release, time): a source's own samples never change order.
"""

from __future__ import annotations

import heapq

from biomock.sample import Sample
from biomock.sim.imperfect import Flaws, jitter_ms

_NOT_JITTERED = frozenset({"sleep_analysis", "workout", "sleeping_wrist_temperature"})


class Release:
    """One subject's samples on their way out: held until due.

    Args:
        flaws: the subject's imperfections (which samples a late batch holds).
        spans: the largest jitter by type, ms (45 % of the type's shortest gap).
        phone_span: the same for the phone's blocks.
    """

    def __init__(self, flaws: Flaws, spans: dict[str, int], phone_span: int) -> None:
        self._flaws = flaws
        self._spans = spans
        self._phone_span = phone_span
        self._held: list[tuple[int, int, int, Sample]] = []  # (release, time, seq, sample)
        self._seq = 0

    def clear(self) -> None:
        """Forget what is held (after a jump: that time is skipped)."""
        self._held = []

    def jittered(self, sample: Sample) -> Sample:
        """``sample`` with its timestamps moved by the reproducible jitter of its type."""
        source = sample.source
        if source is None or sample.type in _NOT_JITTERED:
            return sample
        type_name = sample.type
        if source.kind == "phone":
            span, key = self._phone_span, 0  # the phone's motion types move together
        else:
            span = self._spans.get(type_name, 0)
            key = 1 if type_name.startswith("blood_pressure") else len(type_name)
        time_ms = sample.time_ms
        start = sample.start_ms
        if start is not None:
            start += jitter_ms(key, start, span)
        return Sample(
            type_name,
            sample.value,
            time_ms + jitter_ms(key, time_ms, span),
            sample.unit,
            sample.subject,
            start,
            sample.scenario,
            sample.event,
            sample.extra,
            source,
        )

    def due(self, out: list[Sample], until_ms: int) -> list[tuple[int, int, Sample]]:
        """Take ``out`` in; return what is due by ``until_ms`` as (release, time, sample)."""
        flaws = self._flaws
        held = self._held
        for sample in out:
            sample = self.jittered(sample)
            release = sample.time_ms
            if sample.source is not None and sample.source.kind == "watch":
                release = max(release, flaws.release(sample.time_ms))
            self._seq += 1
            heapq.heappush(held, (release, sample.time_ms, self._seq, sample))
        due: list[tuple[int, int, Sample]] = []
        while held and held[0][0] <= until_ms:
            release, time_ms, _, sample = heapq.heappop(held)
            due.append((release, time_ms, sample))
        return due

"""What the generator drives: anything that turns advancing time into samples."""

from __future__ import annotations

import random
from typing import Protocol

from biomock.sample import Sample


class Source(Protocol):
    """A producer of samples in simulated time (the simulator, or a replayed recording).

    Implementations are plain synchronous code: no trio, no I/O after construction
    beyond reading their own file, and no reading of the wall clock.
    """

    @property
    def start_ms(self) -> int:
        """The simulated time the source begins at; the simulated clock starts here."""
        ...

    @property
    def subjects(self) -> list[str]:
        """The names of the people this source produces samples for."""
        ...

    @property
    def finished(self) -> bool:
        """True once the source will never produce another sample (a replay that ended)."""
        ...

    def advance(self, until_ms: int) -> list[Sample]:
        """Return every sample with ``time_ms <= until_ms`` not returned before, in time order."""
        ...

    def jump(self, to_ms: int) -> None:
        """Move to ``to_ms`` without returning the samples of the skipped time."""
        ...


class RandomWalkSource:
    """The simplest useful source: one heart-rate random walk per subject, once a second.

    Kept for tests of the streaming core, where the data's shape matters and its
    physiology does not.
    """

    def __init__(
        self,
        start_ms: int,
        *,
        seed: int = 0,
        subjects: list[str] | None = None,
        period_ms: int = 1000,
    ) -> None:
        self._start_ms = start_ms
        self._rng = random.Random(seed)
        self._subjects = subjects or ["default"]
        self._period_ms = period_ms
        self._next_ms = start_ms
        self._hr = {name: 70.0 for name in self._subjects}

    @property
    def start_ms(self) -> int:
        return self._start_ms

    @property
    def subjects(self) -> list[str]:
        return list(self._subjects)

    @property
    def finished(self) -> bool:
        return False

    def advance(self, until_ms: int) -> list[Sample]:
        out: list[Sample] = []
        while self._next_ms <= until_ms:
            for name in self._subjects:
                hr = self._hr[name] + self._rng.gauss(0.0, 1.5) + (70.0 - self._hr[name]) * 0.05
                self._hr[name] = min(190.0, max(40.0, hr))
                out.append(
                    Sample("heart_rate", round(self._hr[name]), self._next_ms, "count/min", name)
                )
            self._next_ms += self._period_ms
        return out

    def jump(self, to_ms: int) -> None:
        if to_ms > self._next_ms:
            skipped = (to_ms - self._next_ms + self._period_ms - 1) // self._period_ms
            self._next_ms += skipped * self._period_ms

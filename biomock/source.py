"""What the generator drives: anything that turns advancing time into samples."""

from __future__ import annotations

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
        """Return every sample with ``time_ms <= until_ms`` not returned before.

        In publication order: time order, except that a simulated watch's late batch comes
        after later samples of other sources (the hub numbers samples as they come).
        """
        ...

    def jump(self, to_ms: int) -> None:
        """Move to ``to_ms`` without returning the samples of the skipped time."""
        ...

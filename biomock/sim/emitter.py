"""One type from one device: when its next reading is due, and what it writes then."""

from __future__ import annotations

from collections.abc import Callable

from biomock.sample import Sample


class Emitter:
    """One type from one device: when it is due, and what it writes then."""

    __slots__ = ("_write", "cadence", "interval", "summary", "type")

    def __init__(
        self,
        type_name: str,
        cadence: int,
        write: Callable[[int, list[Sample]], None],
        *,
        summary: bool,
        interval: Callable[[int], int] | None = None,
    ) -> None:
        self.type = type_name
        self.cadence = cadence
        self._write = write
        self.summary = summary
        self.interval = interval

    def first(self, start_ms: int, t_ms: int, first: bool) -> int:
        """The first reading at or after ``t_ms`` (``start_ms`` anchors the fixed grid)."""
        if self.interval is not None:
            return t_ms if self.type == "heart_rate" else t_ms + self.interval(t_ms)
        cadence = self.cadence
        if first:
            return start_ms + (cadence if self.summary else 0)
        # point types may report at t_ms itself; summaries need time after it
        j = -(-(t_ms - start_ms) // cadence)
        if self.summary and start_ms + j * cadence <= t_ms:
            j += 1
        return start_ms + j * cadence

    def run(self, t_ms: int, out: list[Sample]) -> int:
        """Take the reading due at ``t_ms``; return the time to the next one, ms."""
        self._write(t_ms, out)
        return self.cadence if self.interval is None else self.interval(t_ms)


def gated(
    type_name: str,
    write: Callable[[int, list[Sample]], None],
    gate: Callable[[int], bool],
    missed: set[str],
    discard: Callable[[str, int], None] | None,
) -> Callable[[int, list[Sample]], None]:
    """``write``, skipped while ``gate`` says the device cannot read (off the wrist, dropout).

    A skipped reading is noted in ``missed`` (the watch profile tries again sooner);
    ``discard`` drops what an interval type counted meanwhile.
    """

    def write_unless_gated(t_ms: int, out: list[Sample]) -> None:
        if not gate(t_ms):
            write(t_ms, out)
            return
        missed.add(type_name)
        if discard is not None:
            discard(type_name, t_ms)

    return write_unless_gated

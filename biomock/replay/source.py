"""Replaying a recording as a :class:`biomock.source.Source`."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from biomock.replay.apple import read_apple_health
from biomock.replay.csvfile import read_csv
from biomock.replay.errors import ReplayError
from biomock.replay.jsonl import read_jsonl
from biomock.replay.store import Row, SampleStore, from_row, sort_samples
from biomock.sample import Sample

logger = logging.getLogger(__name__)

LOOP_GAP_MS = 1000
"""The pause between the last sample of a lap and the first of the next, with ``--loop``."""


def read_samples(path: Path, unknown: Counter[str]) -> Iterator[Sample]:
    """Yield the samples of any supported file, chosen by its name's suffix.

    Raises:
        ReplayError: for a missing or unsupported file, or the first bad row or element.
    """
    if not path.is_file():
        raise ReplayError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return read_jsonl(path)
    if suffix == ".csv":
        return read_csv(path)
    if suffix in (".xml", ".zip"):
        return read_apple_health(path, unknown)
    raise ReplayError(
        f"{path}: cannot tell the format from the name; expected .jsonl (biomock), "
        ".csv, or an Apple Health export.xml / export.zip"
    )


def load(path: Path) -> tuple[SampleStore, Counter[str]]:
    """Read and check a whole file and return its samples in time order.

    Returns:
        The sorted samples and the unknown record types skipped, with their counts.

    Raises:
        ReplayError: for a bad file; nothing has been returned from it.
    """
    unknown: Counter[str] = Counter()
    store = sort_samples(read_samples(path, unknown))
    return store, unknown


def describe_unknown(unknown: Counter[str]) -> str:
    """``HKQuantityTypeIdentifierBodyMass (3), ...``, most frequent first."""
    return ", ".join(f"{name or '(no type)'} ({count})" for name, count in unknown.most_common())


def open_replay(path: str | Path, *, loop: bool, shift_to_now: bool, now_ms: int) -> ReplaySource:
    """Read, check and sort a recording and return a source that replays it.

    Args:
        path: a biomock JSONL, a CSV, or an Apple Health ``export.xml``/``export.zip``.
        loop: start over after the end, times moved on so they keep increasing.
        shift_to_now: move every time so that the first sample is at ``now_ms``.
        now_ms: the simulated clock's start, used with ``shift_to_now``.

    Raises:
        ReplayError: one line naming the file and what is wrong with it.
    """
    path = Path(path)
    store, unknown = load(path)
    if store.count == 0:
        store.close()
        raise ReplayError(f"{path}: no samples to replay")
    if unknown:
        logger.warning(
            "replay %s: skipped %d records of unknown types: %s",
            path,
            unknown.total(),
            describe_unknown(unknown),
        )
    logger.info(
        "replay %s: %d samples, %d subject(s), %s",
        path,
        store.count,
        len(store.subjects),
        "spilled to a temporary file" if store.spilled else "in memory",
    )
    return ReplaySource(store, loop=loop, shift_to_now=shift_to_now, now_ms=now_ms)


class ReplaySource:
    """A recording replayed in time order, optionally shifted to now and looped.

    Resource handling: owns the store (and so its spill file); :meth:`close` drops it.
    """

    def __init__(self, store: SampleStore, *, loop: bool, shift_to_now: bool, now_ms: int) -> None:
        self._store = store
        self._loop = loop
        self._offset = now_ms - store.first_ms if shift_to_now else 0
        self._period = store.last_ms - store.first_ms + LOOP_GAP_MS
        self._lap = 0
        self._rows = store.rows()
        self._next: Row | None = next(self._rows, None)

    @property
    def start_ms(self) -> int:
        return self._store.first_ms + self._offset

    @property
    def subjects(self) -> list[str]:
        return list(self._store.subjects)

    @property
    def finished(self) -> bool:
        return self._next is None

    def advance(self, until_ms: int) -> list[Sample]:
        out: list[Sample] = []
        shift = self._shift()
        while self._next is not None and self._next[0] + shift <= until_ms:
            out.append(from_row(self._next, shift))
            self._step()
            shift = self._shift()
        return out

    def jump(self, to_ms: int) -> None:
        if self._loop and self._next is not None:
            lap_start = self._store.first_ms + self._shift()
            laps = (to_ms - lap_start) // self._period
            if laps > 0:
                self._lap += laps
                self._rows = self._store.rows()
                self._next = next(self._rows, None)
        while self._next is not None and self._next[0] + self._shift() < to_ms:
            self._step()

    def close(self) -> None:
        """Drop the recording (removes its spill file)."""
        self._next = None
        self._store.close()

    def _shift(self) -> int:
        return self._offset + self._lap * self._period

    def _step(self) -> None:
        self._next = next(self._rows, None)
        if self._next is None and self._loop:
            self._lap += 1
            self._rows = self._store.rows()
            self._next = next(self._rows, None)

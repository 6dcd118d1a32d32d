"""Putting samples in time order, in memory or, past a size, in a temporary spill file.

Imports publish in timestamp order whatever order the file had, and files
can be larger than memory. Up to ``run_size`` samples are sorted in memory;
larger inputs are cut into sorted runs written to anonymous temporary files
and merged (an external merge sort) into one sorted temporary file, read
back block by block, so memory stays flat however long the recording is.
"""

from __future__ import annotations

import heapq
import pickle
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from operator import itemgetter
from typing import IO

from biomock.sample import JSONScalar, Sample, SampleSource

Row = tuple[
    int,  # time_ms
    str,  # type
    float | int | str,  # value
    str | None,  # unit
    str,  # subject
    int | None,  # start_ms
    str | None,  # scenario
    str | None,  # event
    Mapping[str, JSONScalar] | None,  # extra
    SampleSource | None,  # source
]
"""A sample as it is kept and spilled: a plain tuple pickles many times faster."""

RUN_SIZE = 200_000
_BLOCK = 4096
_by_time = itemgetter(0)


def to_row(sample: Sample) -> Row:
    """Return ``sample`` as a :data:`Row`."""
    return (
        sample.time_ms,
        sample.type,
        sample.value,
        sample.unit,
        sample.subject,
        sample.start_ms,
        sample.scenario,
        sample.event,
        sample.extra or None,
        sample.source,
    )


def from_row(row: Row, shift_ms: int = 0) -> Sample:
    """Return the sample of ``row`` with its times moved on by ``shift_ms``."""
    time_ms, type_name, value, unit, subject, start_ms, scenario, event, extra, source = row
    return Sample(
        type_name,
        value,
        time_ms + shift_ms,
        unit,
        subject,
        None if start_ms is None else start_ms + shift_ms,
        scenario,
        event,
        extra or {},
        source,
    )


class SampleStore:
    """Samples in time order (stable: equal times keep their file order), readable many times.

    Resource handling: a spilled store owns one anonymous temporary file, which
    :meth:`close` (or the end of the process) removes.
    """

    def __init__(
        self,
        memory: list[Row] | None,
        spill: IO[bytes] | None,
        *,
        type_counts: Counter[str],
        subjects: list[str],
        first_ms: int,
        last_ms: int,
    ) -> None:
        self._memory = memory
        self._spill = spill
        self.type_counts = type_counts
        self.subjects = subjects
        self.count = type_counts.total()
        self.first_ms = first_ms
        self.last_ms = last_ms

    @property
    def spilled(self) -> bool:
        """Whether the samples live in a temporary file rather than in memory."""
        return self._spill is not None

    def rows(self) -> Iterator[Row]:
        """Iterate the rows from the first; a new call starts over."""
        if self._memory is not None:
            yield from self._memory
        elif self._spill is not None:
            yield from _read_blocks(self._spill)

    def close(self) -> None:
        """Drop the samples and remove the spill file."""
        self._memory = []
        if self._spill is not None:
            self._spill.close()


def sort_samples(samples: Iterable[Sample], *, run_size: int | None = None) -> SampleStore:
    """Read every sample (so a bad file fails here) and return them in time order.

    Past ``run_size`` samples (default :data:`RUN_SIZE`) they are spilled to disk.
    """
    run_size = run_size or RUN_SIZE
    counts: Counter[str] = Counter()
    subjects: dict[str, None] = {}
    runs: list[IO[bytes]] = []
    batch: list[Row] = []
    first_ms, last_ms = 2**63, -(2**63)
    try:
        for sample in samples:
            batch.append(to_row(sample))
            first_ms = min(first_ms, sample.time_ms)
            last_ms = max(last_ms, sample.time_ms)
            counts[sample.type] += 1
            subjects[sample.subject] = None
            if len(batch) >= run_size:
                batch.sort(key=_by_time)
                runs.append(_write_run(batch))
                batch = []
        batch.sort(key=_by_time)
        memory: list[Row] | None = batch
        spill = None
        if runs:
            runs.append(_write_run(batch))
            memory = None
            spill = _write_run(heapq.merge(*(_read_blocks(run) for run in runs), key=_by_time))
    finally:
        for run in runs:
            run.close()
    if not counts:
        first_ms = last_ms = 0
    return SampleStore(
        memory,
        spill,
        type_counts=counts,
        subjects=list(subjects),
        first_ms=first_ms,
        last_ms=last_ms,
    )


def _write_run(rows: Iterable[Row]) -> IO[bytes]:
    # The file outlives this function: its owner (a run list or a store) closes it.
    spill = tempfile.TemporaryFile(prefix="biomock-replay-")  # noqa: SIM115
    try:
        block: list[Row] = []
        for row in rows:
            block.append(row)
            if len(block) == _BLOCK:
                pickle.dump(block, spill, protocol=pickle.HIGHEST_PROTOCOL)
                block = []
        if block:
            pickle.dump(block, spill, protocol=pickle.HIGHEST_PROTOCOL)
        spill.flush()
    except BaseException:
        spill.close()
        raise
    return spill


def _read_blocks(spill: IO[bytes]) -> Iterator[Row]:
    # Our own temporary file, written by _write_run: safe to unpickle.
    spill.seek(0)
    position = 0
    while True:
        spill.seek(position)
        try:
            block: list[Row] = pickle.load(spill)
        except EOFError:
            return
        position = spill.tell()
        yield from block
